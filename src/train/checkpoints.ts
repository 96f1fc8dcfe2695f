/**
 * Checkpoint directories of a training run. A checkpoint is written into a temporary folder and
 * renamed into place, then `latest.json` is replaced atomically: a kill at any moment leaves
 * either the previous checkpoint or the new one, never a half-written one.
 */
import fs from 'fs';
import path from 'path';

/** Everything besides weights and optimizer moments that a resume needs. */
export interface CheckpointState {
  step: number;
  /** The data source's position after the last completed step (opaque JSON). */
  dataPosition: unknown;
  /** Tokens trained on so far. */
  tokens: number;
  elapsedSeconds: number;
}

/** Writes a file atomically (temp file, then rename). */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
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
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
    const final = path.join(this.root, name);
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmp, final);
    writeFileAtomic(path.join(this.root, 'latest.json'), JSON.stringify({ step: state.step, dir: name }) + '\n');
    this.prune(keep);
    return final;
  }

  /** The latest complete checkpoint, or null when there is none. */
  latest(): { dir: string; state: CheckpointState } | null {
    const pointer = path.join(this.root, 'latest.json');
    if (!fs.existsSync(pointer)) return null;
    const { dir } = JSON.parse(fs.readFileSync(pointer, 'utf8')) as { dir: string };
    const full = path.join(this.root, dir);
    const state = JSON.parse(fs.readFileSync(path.join(full, 'state.json'), 'utf8')) as CheckpointState;
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
