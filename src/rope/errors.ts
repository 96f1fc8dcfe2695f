/**
 * RoPE's error: an {@link InputError} (the project's grammar, src/common/errors.ts) whose class
 * names the area, so callers (the CLI, the config loader) can tell a bad RoPE spec from other
 * input and point at the offending key through `field`.
 */
import { checkNumber as checkNumberOf, describeValue, expectedMessage, InputError, type NumberKind } from '../common/errors';

export { describeValue, type NumberKind };

/** Thrown for any invalid RoPE spec, HF config, factor list or factor CSV. */
export class RopeSpecError extends InputError {
  constructor(message: string, field: string) {
    super(message, field);
    this.name = 'RopeSpecError';
  }
}

/** Builds a {@link RopeSpecError}; `received` is already formatted (see {@link describeValue}). */
export function ropeError(where: string | undefined, field: string, expected: string, received: string): RopeSpecError {
  return new RopeSpecError(expectedMessage(where, field, expected, received), field);
}

/** Returns `value` if it is a number of the given kind, else throws a {@link RopeSpecError}. */
export function checkNumber(value: unknown, kind: NumberKind, field: string, where?: string): number {
  return checkNumberOf(value, kind, field, where, ropeError);
}
