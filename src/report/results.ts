/**
 * The result files the evaluation commands write (`longrope ppl|passkey|bench-tasks --json` or
 * `--output`), read back and checked. Reports depend on these JSON shapes only, never on models
 * or on the evaluation code.
 */
import path from 'path';

import { describeValue, InputError } from '../common/errors';
import { readJsonFile } from '../common/files';
import { isObject } from '../common/objects';

/** Perplexity at one length. */
export interface PplPoint {
  length: number;
  /** NaN when no window ran (null in JSON). */
  ppl: number;
  tokens?: number;
  windows?: number;
  documents?: number;
}

/** Passkey accuracy at one length. */
export interface PasskeyPoint {
  length: number;
  accuracy: number;
  trials: number;
}

/** One benchmark's metrics. */
export interface TaskPoint {
  task: string;
  shots?: number;
  n?: number;
  metrics: Record<string, number>;
}

/** A result file, by kind. */
export type ResultFile =
  | { kind: 'perplexity'; method: string; file: string; results: PplPoint[]; protocol: string }
  | { kind: 'passkey'; method: string; file: string; results: PasskeyPoint[] }
  | { kind: 'tasks'; method: string; file: string; results: TaskPoint[] };

function fail(file: string, field: string, expected: string, value: unknown): Error {
  return new Error(`${file}: Expected ${expected} for ${field} but received ${describeValue(value)}`);
}

function num(file: string, obj: Record<string, unknown>, key: string, field: string, check: (n: number) => boolean, expected: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !check(v)) throw fail(file, field, expected, v);
  return v;
}

const positiveInt = (n: number) => Number.isInteger(n) && n > 0;

function kindOf(json: Record<string, unknown>, file: string): ResultFile['kind'] {
  const k = json.kind;
  if (k === 'perplexity' || k === 'passkey' || k === 'tasks') return k;
  if (k !== undefined) throw fail(file, 'kind', '"perplexity", "passkey" or "tasks"', k);
  const first = Array.isArray(json.results) && isObject(json.results[0]) ? json.results[0] : {};
  if ('ppl' in first) return 'perplexity';
  if ('accuracy' in first) return 'passkey';
  if ('metrics' in first) return 'tasks';
  throw fail(file, 'kind', 'a result file of longrope ppl, passkey or bench-tasks', json.kind);
}

/** Checks a parsed result file; `file` names it in messages. A missing `method` becomes the file's base name. */
export function parseResultFile(json: unknown, file: string): ResultFile {
  if (!isObject(json)) throw fail(file, 'the file', 'a JSON object', json);
  if (!Array.isArray(json.results)) throw fail(file, 'results', 'an array', json.results);
  const kind = kindOf(json, file);
  const method = json.method === undefined ? path.basename(file).replace(/\.json$/i, '') : json.method;
  if (typeof method !== 'string' || method === '') throw fail(file, 'method', 'a non-empty string', method);
  const rows = json.results.map((r, i) => {
    if (!isObject(r)) throw fail(file, `results[${i}]`, 'an object', r);
    return r;
  });
  if (kind === 'perplexity') {
    const results = rows.map((r, i): PplPoint => {
      const length = num(file, r, 'length', `results[${i}].length`, positiveInt, 'a positive integer');
      const ppl = r.ppl === null ? NaN : num(file, r, 'ppl', `results[${i}].ppl`, (n) => n > 0, 'a number greater than 0 or null');
      return { length, ppl, tokens: r.tokens as number | undefined, windows: r.windows as number | undefined, documents: r.documents as number | undefined };
    });
    // How the windows were laid out, from the ppl command's own fields (absent: the default).
    const protocol = json.truncate === true ? 'one window per document (truncate)'
      : `sliding window, stride ${typeof json.stride === 'number' ? json.stride : 256}`;
    return { kind, method, file, results, protocol };
  }
  if (kind === 'passkey') {
    const results = rows.map((r, i): PasskeyPoint => ({
      length: num(file, r, 'length', `results[${i}].length`, positiveInt, 'a positive integer'),
      accuracy: num(file, r, 'accuracy', `results[${i}].accuracy`, (n) => n >= 0 && n <= 1, 'a number in [0, 1]'),
      trials: num(file, r, 'trials', `results[${i}].trials`, positiveInt, 'a positive integer'),
    }));
    return { kind, method, file, results };
  }
  const results = rows.map((r, i): TaskPoint => {
    if (typeof r.task !== 'string') throw fail(file, `results[${i}].task`, 'a string', r.task);
    if (!isObject(r.metrics)) throw fail(file, `results[${i}].metrics`, 'an object', r.metrics);
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.metrics)) metrics[k] = v === null ? NaN : num(file, r.metrics, k, `results[${i}].metrics.${k}`, () => true, 'a number or null');
    return { task: r.task, shots: r.shots as number | undefined, n: r.n as number | undefined, metrics };
  });
  return { kind, method, file, results };
}

/** Reads and checks one result file. */
export function readResultFile(file: string): ResultFile {
  const json = readJsonFile(file, { where: file });
  if (json === undefined) throw new InputError(`${file}: no such result file`, 'file', { file });
  return parseResultFile(json, file);
}
