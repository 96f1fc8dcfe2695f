/**
 * One error type and one message grammar for every RoPE input problem, sharp style:
 * `[<where>: ]Expected <what> for <field> but received <value>`. The field is kept on the
 * error so callers (the CLI, the config loader) can point at the offending key.
 */

/** Thrown for any invalid RoPE spec, HF config, factor list or factor CSV. */
export class RopeSpecError extends Error {
  /** The offending field, as the user wrote it (`longFactors[3]`, `rope_scaling.long_factor`, `line 4`). */
  readonly field: string;

  constructor(message: string, field: string) {
    super(message);
    this.name = 'RopeSpecError';
    this.field = field;
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

/** Builds a {@link RopeSpecError}; `received` is already formatted (see {@link describeValue}). */
export function ropeError(where: string | undefined, field: string, expected: string, received: string): RopeSpecError {
  const prefix = where ? `${where}: ` : '';
  return new RopeSpecError(`${prefix}Expected ${expected} for ${field} but received ${received}`, field);
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

const PHRASES: Record<NumberKind, string> = {
  finite: 'a finite number',
  positive: 'a finite number greater than 0',
  nonNegative: 'a finite number >= 0',
  greaterThanOne: 'a finite number greater than 1',
  positiveInteger: 'a positive integer',
  nonNegativeInteger: 'a non-negative integer',
  evenAtLeastTwo: 'an even integer >= 2',
};

function fits(value: number, kind: NumberKind): boolean {
  if (!Number.isFinite(value)) return false;
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

/** Returns `value` if it is a number of the given kind, else throws a {@link RopeSpecError}. */
export function checkNumber(value: unknown, kind: NumberKind, field: string, where?: string): number {
  if (typeof value === 'number' && fits(value, kind)) return value;
  throw ropeError(where, field, PHRASES[kind], describeValue(value));
}
