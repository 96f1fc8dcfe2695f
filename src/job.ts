/**
 * Runs a native job with an AbortSignal and a progress callback. The native side reads a cancel
 * flag and writes progress into a small shared Int32Array ([cancel, done, total]), so neither
 * needs an N-API call per step; a timer here reports progress while the promise is pending.
 * The JS stack of the caller is grafted onto native errors (they have none of their own).
 */

/** Progress of a long job: units done of total (layers, steps, tensors: the job says). */
export type ProgressCallback = (done: number, total: number) => void;

/** Options every long-running call accepts. */
export interface JobOptions {
  /** Cancels the job; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` while the job runs, and once at the end. */
  onProgress?: ProgressCallback;
  progressIntervalMs?: number;
}

function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** Calls `start(control)` and manages cancel/progress around the returned promise. */
export async function runNativeJob<T>(options: JobOptions, start: (control: Int32Array) => Promise<T>): Promise<T> {
  const { signal, onProgress } = options;
  if (signal?.aborted) throw abortError();
  const control = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  const onAbort = () => Atomics.store(control, 0, 1);
  signal?.addEventListener('abort', onAbort, { once: true });
  const report = () => onProgress?.(Atomics.load(control, 1), Atomics.load(control, 2));
  const timer = onProgress ? setInterval(report, options.progressIntervalMs ?? 250) : undefined;
  const callerStack = new Error().stack ?? '';
  try {
    const result = await start(control);
    report();
    return result;
  } catch (e) {
    if (signal?.aborted) throw abortError();
    if (e instanceof Error) {
      e.stack = `${e.name}: ${e.message}\n${callerStack.split('\n').slice(2).join('\n')}`;
    }
    throw e;
  } finally {
    if (timer) clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
