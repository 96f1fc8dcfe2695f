/**
 * Resumable stages for long script runs (`npm run reproduce`): each stage's result is a JSON file
 * in the run folder, written once the stage is done, so a rerun reuses it and a killed run redoes
 * only the stage it was in (which resumes from its own state: a search from its last evaluation,
 * a fine-tune from its last checkpoint, an evaluation grid from its last cell). Progress goes to
 * the terminal: a bar on a TTY, throttled lines elsewhere (a background run's log).
 */
import fs from 'fs';
import path from 'path';

import { readJsonFile, writeJsonAtomic } from '../../src/common/files';
import { progressBar } from '../../src/train/progress';

/** A stage's saved result: what it returned and the seconds it took (over all attempts when it says so). */
export interface StageRecord<T> {
  value: T;
  seconds: number;
  finishedAt: string;
}

/**
 * Refuses a run folder started with other settings (results must not mix); returns the path of
 * its settings.json, which the caller writes once its own checks pass.
 */
export function checkRunFolder(out: string, settings: object): string {
  const file = path.join(out, 'settings.json');
  const saved = readJsonFile(file);
  if (saved !== undefined && JSON.stringify(saved) !== JSON.stringify(settings)) {
    const differ = Object.keys(settings).filter((k) => JSON.stringify((saved as Record<string, unknown>)[k]) !== JSON.stringify((settings as Record<string, unknown>)[k]));
    throw new Error(`${out} holds a run with other settings (${differ.join(', ')}); rerun with the same flags to resume it, or pass --fresh or another --out (nothing was changed)`);
  }
  return file;
}

/** A fine-tune's metrics.jsonl: the loss per step and the training seconds over every attempt. */
export function readFinetuneLog(metricsFile: string): { losses: [number, number][]; seconds: number } {
  const lines = fs.readFileSync(metricsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; loss: number; elapsedSeconds: number });
  return { losses: lines.map((l) => [l.step, l.loss]), seconds: lines.length ? lines[lines.length - 1].elapsedSeconds : 0 };
}

/** Formats seconds as `1 h 02 min`, `3 min 05 s` or `12.3 s`. */
export function formatSeconds(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${s.toFixed(1)} s`;
}

/** Runs stages in a run folder (`dir/stages/<name>.json`). */
export class StageRunner {
  readonly records = new Map<string, StageRecord<unknown>>();

  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'stages'), { recursive: true });
  }

  private file(name: string): string {
    return path.join(this.dir, 'stages', `${name}.json`);
  }

  /** The saved record of a finished stage, if any. */
  saved<T>(name: string): StageRecord<T> | undefined {
    return readJsonFile(this.file(name)) as StageRecord<T> | undefined;
  }

  /**
   * Runs `run` unless the stage is saved. `run` may report its own seconds (accumulated over a
   * resumed job's attempts); otherwise the wall time of this attempt counts.
   */
  async stage<T>(name: string, title: string, run: () => Promise<{ value: T; seconds?: number }>): Promise<T> {
    const saved = this.saved<T>(name);
    if (saved) {
      console.log(`\n== ${title}: done earlier (${formatSeconds(saved.seconds)}), reused`);
      this.records.set(name, saved);
      return saved.value;
    }
    console.log(`\n== ${title}`);
    const t0 = Date.now();
    const r = await run();
    const record: StageRecord<T> = { value: r.value, seconds: r.seconds ?? (Date.now() - t0) / 1000, finishedAt: new Date().toISOString() };
    writeJsonAtomic(this.file(name), record);
    this.records.set(name, record);
    console.log(`   ${title}: ${formatSeconds(record.seconds)}`);
    return r.value;
  }
}

/**
 * A cache of evaluation cells (`key` -> value with its seconds) in one JSON file, written after
 * every cell: a kill loses at most the cell in flight.
 */
export class CellCache<V> {
  private readonly cells: Record<string, { value: V; seconds: number }>;

  constructor(private readonly file: string) {
    this.cells = (readJsonFile(file) ?? {}) as Record<string, { value: V; seconds: number }>;
  }

  has(key: string): boolean {
    return key in this.cells;
  }

  get(key: string): V | undefined {
    return this.cells[key]?.value;
  }

  /** The cached value, or `compute()`'s, saved with its time. */
  async cell(key: string, compute: () => Promise<V>): Promise<V> {
    const hit = this.cells[key];
    if (hit) return hit.value;
    const t0 = Date.now();
    const value = await compute();
    this.cells[key] = { value, seconds: (Date.now() - t0) / 1000 };
    writeJsonAtomic(this.file, this.cells);
    return value;
  }

  /** Seconds spent on the cells whose keys pass `filter` (over every attempt). */
  seconds(filter: (key: string) => boolean = () => true): number {
    return Object.entries(this.cells).filter(([k]) => filter(k)).reduce((s, [, c]) => s + c.seconds, 0);
  }
}

/** Progress of `total` units: a bar on a TTY, else a line at most every `everySeconds`. */
export function progress(label: string, total: number, everySeconds = 30) {
  const bar = progressBar(label, total, { info: '-' });
  let last = 0;
  return {
    update(done: number, info = '') {
      bar.update(done, { info: info || '-' });
      if (process.stderr.isTTY) return;
      const now = Date.now();
      if (now - last >= everySeconds * 1000 || done === total) {
        last = now;
        console.log(`   ${label}: ${done}/${total}${info ? ` ${info}` : ''}`);
      }
    },
    stop: () => bar.stop(),
  };
}
