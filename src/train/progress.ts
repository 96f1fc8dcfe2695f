/**
 * A terminal progress bar for long jobs (cli-progress: maintained, handles redraw and ETA), shown
 * only on a TTY; elsewhere (CI, pipes) nothing is drawn and callers' logs stay clean.
 */
import { SingleBar, Presets } from 'cli-progress';

/**
 * Starts a bar with `total` units; `update(done, fields)` moves it; `stop()` ends it. `enabled:
 * false` draws nothing (the ranks of a job other than 0).
 */
export function progressBar(label: string, total: number, fields: Record<string, string | number> = {}, options: { enabled?: boolean } = {}) {
  if (!process.stderr.isTTY || options.enabled === false) return { update: (_done: number, _fields?: Record<string, string | number>) => undefined, stop: () => undefined };
  const keys = Object.keys(fields);
  const format = `${label} [{bar}] {value}/{total} ${keys.map((k) => `${k} {${k}}`).join(' ')} | ETA {eta_formatted}`;
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0, fields);
  return {
    update: (done: number, f?: Record<string, string | number>) => bar.update(done, f),
    stop: () => bar.stop(),
  };
}
