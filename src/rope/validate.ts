/**
 * Validation and normalisation of RopeSpec: every public entry point runs a spec through here
 * once, so the formulas can assume sane numbers and filled-in defaults.
 */
import { checkNumber, describeValue, ropeError } from './errors';
import { checkFactorList } from './factor-checks';
import { ROPE_METHODS, type RopeMethod, type RopeSpec } from './types';

/** Options for {@link validateRopeSpec}. */
export interface ValidateRopeSpecOptions {
  /**
   * Enforce the search constraints on longrope factors (each >= 1, non-decreasing). Default
   * true: specs we build or search must satisfy them. Published configs need not, so the HF
   * reader and the table builder pass false.
   */
  searchConstraints?: boolean;
}

/** How each spec field is called in messages; the HF reader maps them to config keys. */
export type RopeFieldNames = Partial<Record<keyof RopeSpec | 'spec', string>>;

/** @internal Options for {@link normalizeRopeSpec}. */
export interface NormalizeOptions extends ValidateRopeSpecOptions {
  where?: string;
  names?: RopeFieldNames;
}

/** Defaults from the YaRN paper and the Llama 3.1 release. */
export const YARN_DEFAULTS = { betaFast: 32, betaSlow: 1 } as const;
/** llama3 band bounds as released with Llama 3.1. */
export const LLAMA3_DEFAULTS = { lowFreqFactor: 1, highFreqFactor: 4 } as const;

/**
 * Validates `spec` (throws RopeSpecError) and returns a normalised copy: defaults filled in
 * (factor = length / originalLength; yarn betas 32 / 1 and truncate; llama3 bands 1 / 4;
 * longrope short factors all 1 and nHat 0), arrays copied, and fields that do not apply to the
 * method dropped. `where` prefixes messages, e.g. a file name.
 */
export function validateRopeSpec(spec: unknown, where?: string, opts: ValidateRopeSpecOptions = {}): RopeSpec {
  return normalizeRopeSpec(spec, { ...opts, where });
}

/** @internal validateRopeSpec with configurable field names (for the HF reader). */
export function normalizeRopeSpec(spec: unknown, opts: NormalizeOptions): RopeSpec {
  const where = opts.where;
  const names = opts.names ?? {};
  const name = (k: keyof RopeSpec | 'spec'): string => names[k] ?? k;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw ropeError(where, name('spec'), 'an object', describeValue(spec));
  }
  const s = spec as Record<string, unknown>;
  const method = s.method;
  if (typeof method !== 'string' || !(ROPE_METHODS as readonly string[]).includes(method)) {
    const list = ROPE_METHODS.map((m) => JSON.stringify(m)).join(', ');
    throw ropeError(where, name('method'), `one of ${list}`, describeValue(method));
  }
  const out: RopeSpec = {
    method: method as RopeMethod,
    headDim: checkNumber(s.headDim, 'evenAtLeastTwo', name('headDim'), where),
    base: checkNumber(s.base, 'greaterThanOne', name('base'), where),
    originalLength: checkNumber(s.originalLength, 'positiveInteger', name('originalLength'), where),
    length: checkNumber(s.length, 'positiveInteger', name('length'), where),
  };
  const optional = (k: keyof RopeSpec, kind: Parameters<typeof checkNumber>[1]): number | undefined =>
    s[k] === undefined ? undefined : checkNumber(s[k], kind, name(k), where);

  const factor = optional('factor', 'positive');
  if (out.method !== 'none') out.factor = factor ?? out.length / out.originalLength;
  else if (factor !== undefined) out.factor = factor;
  const attentionFactor = optional('attentionFactor', 'positive');
  if (attentionFactor !== undefined) out.attentionFactor = attentionFactor;

  // nHat changes what the rotary op does at the first positions; only longrope carries it, so
  // refuse it elsewhere instead of silently ignoring it.
  const nHat = optional('nHat', 'nonNegativeInteger');
  if (out.method !== 'longrope' && nHat !== undefined && nHat !== 0) {
    throw ropeError(where, name('nHat'), '0 (nHat applies to longrope only)', describeValue(nHat));
  }

  if (out.method === 'yarn') {
    out.betaFast = optional('betaFast', 'positive') ?? YARN_DEFAULTS.betaFast;
    out.betaSlow = optional('betaSlow', 'positive') ?? YARN_DEFAULTS.betaSlow;
    const truncate = s.truncate;
    if (truncate !== undefined && typeof truncate !== 'boolean') {
      throw ropeError(where, name('truncate'), 'a boolean', describeValue(truncate));
    }
    out.truncate = truncate ?? true;
    const mscale = optional('mscale', 'nonNegative');
    const mscaleAllDim = optional('mscaleAllDim', 'nonNegative');
    if (mscale !== undefined) out.mscale = mscale;
    if (mscaleAllDim !== undefined) out.mscaleAllDim = mscaleAllDim;
  } else if (out.method === 'llama3') {
    const low = optional('lowFreqFactor', 'positive') ?? LLAMA3_DEFAULTS.lowFreqFactor;
    const high = optional('highFreqFactor', 'positive') ?? LLAMA3_DEFAULTS.highFreqFactor;
    // The smoothing divides by (high - low); equal or swapped bands have no meaning.
    if (!(high > low)) {
      throw ropeError(where, name('highFreqFactor'), `a number greater than ${name('lowFreqFactor')} (${low})`, describeValue(high));
    }
    out.lowFreqFactor = low;
    out.highFreqFactor = high;
  } else if (out.method === 'longrope') {
    const common = { headDim: out.headDim, where, searchConstraints: opts.searchConstraints ?? true };
    out.longFactors = checkFactorList(s.longFactors, { ...common, field: name('longFactors') });
    out.shortFactors =
      s.shortFactors === undefined
        ? new Array<number>(out.headDim / 2).fill(1)
        : checkFactorList(s.shortFactors, { ...common, field: name('shortFactors') });
    out.nHat = nHat ?? 0;
  }
  return out;
}
