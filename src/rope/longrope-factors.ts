/**
 * Any scaling method expressed as LongRoPE factors, lambda_i = inv_i / inv'_i. The search seeds
 * its population from these (PI, NTK and YaRN vectors), and an exported model may carry them.
 */
import { resolveSeqLen, attentionFactorOf, scaleFrequencies } from './methods';
import type { RopeSpec } from './types';
import { normalizeRopeSpec } from './validate';

/**
 * lambda_i = inv_i / inv'_i for `spec` at `seqLen` (default spec.length), in float64: `none`
 * gives all 1, `linear` all s exactly, YaRN and llama3 exactly 1 and s at the ends of their
 * ramps, longrope the factors it would use at that length. Feeding the result back as
 * longFactors reproduces the method's invFreq to within 1 fp32 ulp (the factors are rounded
 * to fp32 on the way, as HF does).
 */
export function methodToLongropeFactors(spec: RopeSpec, seqLen?: number): Float64Array {
  const norm = normalizeRopeSpec(spec, { searchConstraints: false });
  return scaleFrequencies(norm, resolveSeqLen(norm, seqLen)).lambda;
}

/**
 * A longrope spec that reproduces `spec` at `seqLen` (default spec.length): its factors as
 * long factors, the same attention factor (made explicit, since longrope's default differs).
 */
export function methodAsLongropeSpec(spec: RopeSpec, seqLen?: number): RopeSpec {
  const norm = normalizeRopeSpec(spec, { searchConstraints: false });
  const lambda = methodToLongropeFactors(norm, seqLen);
  return {
    method: 'longrope',
    headDim: norm.headDim,
    base: norm.base,
    originalLength: norm.originalLength,
    length: norm.length,
    longFactors: Array.from(lambda),
    shortFactors: Array.from(lambda),
    attentionFactor: attentionFactorOf(norm),
  };
}

