/**
 * Checks for LongRoPE factor lists (lambda_i), shared by spec validation, HF config reading and
 * the search. Kept apart from the conversions so validation has no dependency on the formulas.
 */
import { checkNumber, describeValue, ropeError } from './errors';

/** Options for {@link checkFactorList}. */
export interface FactorCheckOptions {
  /** Name of the list in messages (`longFactors`, `rope_scaling.long_factor`). */
  field: string;
  /** Rotary dims d; the list must have d/2 entries. */
  headDim: number;
  /** Prefix for messages, e.g. a file name. */
  where?: string;
  /**
   * Also enforce the search constraints of the paper: every lambda_i >= 1 and lambda
   * non-decreasing in i (low-frequency dims are interpolated at least as much as high ones).
   */
  searchConstraints?: boolean;
}

/**
 * Returns a copy of `value` as a factor list, or throws a RopeSpecError naming the list (or the
 * offending index), what was expected and what was received.
 */
export function checkFactorList(value: unknown, opts: FactorCheckOptions): number[] {
  const { field, headDim, where } = opts;
  const half = headDim / 2;
  if (!Array.isArray(value)) {
    throw ropeError(where, field, `an array of ${half} factors (headDim / 2)`, describeValue(value));
  }
  if (value.length !== half) {
    throw ropeError(where, field, `${half} factors (headDim / 2 with headDim ${headDim})`, `${value.length} factors`);
  }
  const out = value.map((v, i) => checkNumber(v, 'positive', `${field}[${i}]`, where));
  if (opts.searchConstraints) checkSearchConstraints(out, field, where);
  return out;
}

/**
 * Enforces lambda_i >= 1 and non-decreasing lambda, naming the first index that breaks either.
 * Exported for the search, which checks every child it creates.
 */
export function checkSearchConstraints(factors: ArrayLike<number>, field: string, where?: string): void {
  for (let i = 0; i < factors.length; i++) {
    const v = factors[i];
    if (!(v >= 1)) throw ropeError(where, `${field}[${i}]`, 'a number >= 1', describeValue(v));
    if (i > 0 && v < factors[i - 1]) {
      const prev = factors[i - 1];
      throw ropeError(
        where,
        `${field}[${i}]`,
        `a number >= ${prev} (${field}[${i - 1}]; factors must be non-decreasing)`,
        describeValue(v),
      );
    }
  }
}
