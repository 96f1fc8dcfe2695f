/**
 * The project's one input-error type and its message grammar (after sharp):
 * `[<where>: ]Expected <what> for <field> but received <value>`. Every area (RoPE specs, model
 * files, data files, CLI flags) throws an {@link InputError} or a subclass naming its area, so a
 * caller can catch bad input in one place and show the message as it is.
 */

/** Where in a file the problem is, when it comes from one. */
export interface InputLocation {
  /** The file as named in the message. */
  file?: string;
  /** 1-based line (0: the file as a whole). */
  line?: number;
}

/** Thrown for any invalid input: a value, a flag, a config field, a line of a file. */
export class InputError extends Error {
  /** The offending field as the user wrote it (`longFactors[3]`, `--rope`, `num_key_value_heads`). */
  readonly field: string;
  readonly file?: string;
  readonly line?: number;

  constructor(message: string, field: string, location: InputLocation = {}) {
    super(message);
    this.name = 'InputError';
    this.field = field;
    if (location.file !== undefined) this.file = location.file;
    if (location.line !== undefined) this.line = location.line;
  }
}

/**
 * Formats a received value the way sharp does (`-1 of type number`, `"foo" of type string`),
 * so messages read the same whatever went wrong.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'number':
      return `${String(value)} of type number`;
    case 'string':
      return `${JSON.stringify(value)} of type string`;
    case 'boolean':
      return `${String(value)} of type boolean`;
    case 'bigint':
      return `${String(value)}n of type bigint`;
    case 'function':
      return 'a function';
    default:
      return 'an object';
  }
}

/** The grammar's sentence; `received` is already formatted (see {@link describeValue}). */
export function expectedMessage(where: string | undefined, field: string, expected: string, received: string): string {
  const prefix = where ? `${where}: ` : '';
  const forField = field ? ` for ${field}` : '';
  return `${prefix}Expected ${expected}${forField} but received ${received}`;
}

/** Builds an {@link InputError} in the grammar. */
export function inputError(where: string | undefined, field: string, expected: string, received: string): InputError {
  return new InputError(expectedMessage(where, field, expected, received), field);
}

/** The numeric shapes we check; each maps to one fixed "Expected ..." phrase. */
export type NumberKind =
  | 'finite'
  | 'positive'
  | 'nonNegative'
  | 'greaterThanOne'
  | 'positiveInteger'
  | 'nonNegativeInteger'
  | 'evenAtLeastTwo';

/** The phrase of each {@link NumberKind}, as messages print it. */
export const NUMBER_PHRASES: Record<NumberKind, string> = {
  finite: 'a finite number',
  positive: 'a finite number greater than 0',
  nonNegative: 'a finite number >= 0',
  greaterThanOne: 'a finite number greater than 1',
  positiveInteger: 'a positive integer',
  nonNegativeInteger: 'a non-negative integer',
  evenAtLeastTwo: 'an even integer >= 2',
};

/** Whether `value` is a number of the given kind. */
export function isNumberOfKind(value: unknown, kind: NumberKind): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  switch (kind) {
    case 'finite':
      return true;
    case 'positive':
      return value > 0;
    case 'nonNegative':
      return value >= 0;
    case 'greaterThanOne':
      return value > 1;
    case 'positiveInteger':
      return Number.isInteger(value) && value > 0;
    case 'nonNegativeInteger':
      return Number.isInteger(value) && value >= 0;
    case 'evenAtLeastTwo':
      return Number.isInteger(value) && value >= 2 && value % 2 === 0;
  }
}

/** Builds the error of one area from the grammar's parts (e.g. {@link inputError}). */
export type ErrorFactory = (where: string | undefined, field: string, expected: string, received: string) => Error;

/**
 * Returns `value` if it is a number of the given kind, else throws `make`'s error
 * (default an {@link InputError}).
 */
export function checkNumber(value: unknown, kind: NumberKind, field: string, where?: string, make: ErrorFactory = inputError): number {
  if (isNumberOfKind(value, kind)) return value;
  throw make(where, field, NUMBER_PHRASES[kind], describeValue(value));
}

/** A run folder to resume was started with other settings; `key` names the first that differs. */
export class ResumeMismatchError extends Error {
  readonly key: string;

  constructor(message: string, key: string) {
    super(message);
    this.key = key;
  }
}

/**
 * Refuses to resume the `what` ("search", "run") saved in `file` when any key of its signature
 * differs from the requested one (compared as JSON), naming the key and both values.
 */
export function checkResumeSignature(file: string, what: string, saved: Record<string, unknown>, requested: Record<string, unknown>): void {
  for (const key of new Set([...Object.keys(saved), ...Object.keys(requested)])) {
    const a = JSON.stringify(saved[key]);
    const b = JSON.stringify(requested[key]);
    if (a !== b) {
      throw new ResumeMismatchError(`${file}: the ${what} to resume has a different ${key} (saved ${a ?? 'nothing'}, requested ${b ?? 'nothing'}); nothing was overwritten`, key);
    }
  }
}
