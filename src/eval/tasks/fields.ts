/**
 * Field checks for benchmark rows: each failure is a DataFileError naming file, line, field,
 * what was expected and what was found.
 */
import fs from 'fs';

import { dataError, DataFileError } from '../data-files';
import { isObject } from '../../common/objects';

/** Reads typed fields of one row, reporting `file:line`. */
export class RowReader {
  constructor(
    readonly file: string,
    readonly line: number,
  ) {}

  /** `value` must be an object. */
  object(value: unknown, field: string): Record<string, unknown> {
    if (!isObject(value)) throw dataError(this.file, this.line, field, 'an object', value);
    return value;
  }

  string(obj: Record<string, unknown>, key: string, field = key): string {
    const v = obj[key];
    if (typeof v !== 'string') throw dataError(this.file, this.line, field, 'a string', v);
    return v;
  }

  array(obj: Record<string, unknown>, key: string, field = key, minLength = 1): unknown[] {
    const v = obj[key];
    if (!Array.isArray(v) || v.length < minLength) {
      throw dataError(this.file, this.line, field, `an array of at least ${minLength} element(s)`, v);
    }
    return v;
  }

  /** An integer in [0, max), or a string holding one (HF exports store labels as strings). */
  index(obj: Record<string, unknown>, key: string, max: number, field = key): number {
    const v = obj[key];
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= max) {
      throw dataError(this.file, this.line, field, `an integer in [0, ${max})`, v);
    }
    return n;
  }

  /** An error at this row with a free-form expectation. */
  error(field: string, expected: string, value: unknown): DataFileError {
    return dataError(this.file, this.line, field, expected, value);
  }
}

/** Whether `p` is a directory. */
export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Throws a DataFileError when `file` does not exist. */
export function requireFile(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new DataFileError(`${file}: Expected ${what} but received no such file`, file, 0);
  return file;
}

/** The few-shot split must exist when shots > 0; the error says how to supply it. */
export function requireTrainingSplit(task: string, evalPath: string, train: string | undefined, shots: number): void {
  if (train !== undefined && fs.existsSync(train)) return;
  const where = train ?? `next to ${evalPath}`;
  throw new DataFileError(
    `${where}: Expected the training split for ${task}'s ${shots}-shot prompts but received no such file ` +
      `(give it with --fewshot-file ${task}=FILE, or use --shots 0)`,
    where,
    0,
  );
}
