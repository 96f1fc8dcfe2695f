/**
 * The one place where a RoPE choice becomes what native code consumes: a RopeSpec is resolved to
 * RopeTables for a sequence length (checked against the model's rotary dims), precomputed tables
 * are checked for shape and sense, and both are copied into the native parameter record.
 * Model forwards, training steps and the standalone rotary op all go through here.
 */
import { describeValue, inputError } from '../common/errors';
import { computeRopeTables } from '../rope/methods';
import { isRopeTables, type RopeChoice, type RopeTables } from '../rope/types';
import type { NativeRopeParams } from '../native';

/**
 * Checks tables before native code reads them: equal-length fp32 frequency arrays (of exactly
 * `frequencies` entries when given: fewer would leave dims unrotated and the NLL silently wrong),
 * finite positive values, a finite attention factor and an integer nHat >= 0.
 */
export function nativeRopeParams(tables: RopeTables, frequencies?: number, field = 'rope'): NativeRopeParams {
  const { invFreq, baseInvFreq, attentionFactor, nHat } = tables;
  if (!(baseInvFreq instanceof Float32Array) || baseInvFreq.length !== invFreq.length) {
    throw inputError(undefined, `${field}.baseInvFreq`, `a Float32Array of ${invFreq.length} values (as invFreq)`, describeValue(baseInvFreq));
  }
  if (frequencies !== undefined && invFreq.length !== frequencies) {
    throw inputError(undefined, `${field}.invFreq`, `${frequencies} frequencies (the model's rotary dims / 2)`, `${invFreq.length}`);
  }
  if (invFreq.length === 0) throw inputError(undefined, `${field}.invFreq`, 'at least one frequency', '0');
  for (const [name, values] of [['invFreq', invFreq], ['baseInvFreq', baseInvFreq]] as const) {
    const bad = values.findIndex((v) => !(Number.isFinite(v) && v > 0));
    if (bad >= 0) throw inputError(undefined, `${field}.${name}[${bad}]`, 'a finite number greater than 0', describeValue(values[bad]));
  }
  if (!Number.isFinite(attentionFactor) || attentionFactor <= 0) {
    throw inputError(undefined, `${field}.attentionFactor`, 'a finite number greater than 0', describeValue(attentionFactor));
  }
  if (!Number.isSafeInteger(nHat) || nHat < 0) throw inputError(undefined, `${field}.nHat`, 'a non-negative integer', describeValue(nHat));
  return { invFreq, baseInvFreq, attentionFactor, nHat };
}

/** Specs (with their lengths) whose tables a resolver keeps. */
const CACHE_ENTRIES = 64;

/**
 * Resolves RoPE choices for one model (rotary dims `headDim`), caching by the spec's content and
 * the sequence length: an evaluation that runs hundreds of windows with one spec validates it and
 * computes its tables once per length, not once per window. Keyed by content, not by object, so a
 * spec edited in place between calls is never served stale tables.
 */
export class RopeResolver {
  private readonly cache = new Map<string, NativeRopeParams>();

  constructor(private readonly headDim: number) {}

  /** Tables for a sequence whose highest position + 1 is `seqLen` (the spec's length when absent). */
  tables(rope: RopeChoice, seqLen?: number): RopeTables {
    if (isRopeTables(rope)) return rope;
    if (rope.headDim !== this.headDim) {
      throw inputError(undefined, 'rope.headDim', `${this.headDim} (the model's rotary dims)`, describeValue(rope.headDim));
    }
    return computeRopeTables(rope, seqLen);
  }

  /** The native parameters of `rope` for `seqLen`, checked against the model's rotary dims. */
  params(rope: RopeChoice, seqLen: number): NativeRopeParams {
    if (isRopeTables(rope)) return nativeRopeParams(rope, this.headDim / 2);
    const key = `${seqLen}:${JSON.stringify(rope)}`;
    let params = this.cache.get(key);
    if (params) {
      this.cache.delete(key);  // most recently used goes last
    } else {
      params = nativeRopeParams(this.tables(rope, seqLen), this.headDim / 2);
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(key, params);
    return params;
  }
}
