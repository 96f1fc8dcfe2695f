/**
 * Checkpoint directories of a training run. A checkpoint is written into a temporary folder and
 * renamed into place, then `latest.json` is replaced atomically: a kill at any moment leaves
 * either the previous checkpoint or the new one, never a half-written one.
 */
import fs from 'fs';
import path from 'path';

import { readJsonFile, writeJsonAtomic } from '../common/files';
import { isObject } from '../common/objects';

/** Everything besides weights and optimizer moments that a resume needs. */
export interface CheckpointState {
  step: number;
  /** The data source's position after the last completed step (opaque JSON). */
  dataPosition: unknown;
  /** Tokens trained on so far. */
  tokens: number;
  elapsedSeconds: number;
}

/** The checkpoints folder of a run and its operations. */
export class CheckpointDir {
  constructor(readonly root: string) {}

  /** Folder name of the checkpoint after `step` steps. */
  static stepName(step: number): string {
    return `step-${String(step).padStart(6, '0')}`;
  }

  /**
   * Writes a checkpoint: `fill(tmpDir)` writes model and optimizer files into a fresh temporary
   * folder; then the state, the rename, the latest pointer, and pruning to `keep` checkpoints.
   */
  async write(state: CheckpointState, fill: (dir: string) => Promise<void>, keep = 2): Promise<string> {
    fs.mkdirSync(this.root, { recursive: true });
    const name = CheckpointDir.stepName(state.step);
    const tmp = path.join(this.root, `.tmp-${name}-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    await fill(tmp);
    writeJsonAtomic(path.join(tmp, 'state.json'), state);
    const final = path.join(this.root, name);
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmp, final);
    writeJsonAtomic(path.join(this.root, 'latest.json'), { step: state.step, dir: name });
    this.prune(keep);
    return final;
  }

  /** The latest complete checkpoint, or null when there is none. */
  latest(): { dir: string; state: CheckpointState } | null {
    const pointer = readJsonFile(path.join(this.root, 'latest.json'));
    if (pointer === undefined) return null;
    if (!isObject(pointer) || typeof pointer.dir !== 'string' || !/^step-\d+$/.test(pointer.dir)) {
      throw new Error(`${path.join(this.root, 'latest.json')}: Expected {"dir": "step-N"} but received ${JSON.stringify(pointer)}`);
    }
    const full = path.join(this.root, pointer.dir);
    const state = readJsonFile(path.join(full, 'state.json')) as CheckpointState | undefined;
    if (state === undefined) throw new Error(`${full}: the checkpoint has no state.json`);
    return { dir: full, state };
  }

  /** Removes leftovers of interrupted writes and all but the newest `keep` checkpoints. */
  prune(keep: number): void {
    if (!fs.existsSync(this.root)) return;
    const entries = fs.readdirSync(this.root);
    for (const e of entries.filter((e) => e.startsWith('.tmp-') && !e.endsWith(`-${process.pid}`))) {
      fs.rmSync(path.join(this.root, e), { recursive: true, force: true });
    }
    const steps = entries.filter((e) => /^step-\d+$/.test(e)).sort();
    for (const e of steps.slice(0, Math.max(0, steps.length - keep))) fs.rmSync(path.join(this.root, e), { recursive: true, force: true });
  }
}
