/**
 * Inverse frequencies and attention factors of every scaling method (longrope-spec.md, table;
 * Hugging Face transformers' `modeling_rope_utils.py`).
 *
 * Precision: everything is computed in float64 and rounded once to fp32 at the end
 * (Float32Array stores round to nearest, as Math.fround does), so each invFreq entry is the
 * correctly rounded value of its formula (bit-identical to HF's formulas run in float64 and
 * rounded once, over the whole fixture grid). HF itself computes in fp32 step by step: torch's
 * fp32 pow is within 1 ulp of the correctly rounded result, so plain powers agree with HF's
 * tables to 1 ulp and longrope to 2, while HF's fp32 YaRN and llama3 blends drift up to ~5 ulps
 * (~5e-7 relative) from the exact blend (test/rope/reference.test.ts measures both). Two of
 * HF's fp32 roundings are reproduced on purpose because they are part of what every HF model
 * was trained with and move values by more than an ulp: the exponent 2i/d is rounded to fp32
 * (HF: `arange(0, d, 2).float() / d`; for d = 96 at base 5e5 the exact exponent would move
 * inv by up to 3.4e-7 relative), and longrope factors are rounded to fp32 (HF and vLLM hold
 * them in fp32 tensors).
 */
import { checkNumber, ropeError, describeValue } from './errors';
import type { RopeSpec, RopeTables } from './types';
import { normalizeRopeSpec } from './validate';

/** x_i = 2i/d rounded to fp32, i = 0 .. d/2-1: the exponent HF and the reference code use. */
export function ropeExponents(headDim: number): Float64Array {
  checkNumber(headDim, 'evenAtLeastTwo', 'headDim');
  const x = new Float64Array(headDim / 2);
  for (let i = 0; i < x.length; i++) x[i] = Math.fround((2 * i) / headDim);
  return x;
}

/** base^(-x_i) in float64 (x_i fp32-rounded, see {@link ropeExponents}). */
export function baseInvFreq64(headDim: number, base: number): Float64Array {
  checkNumber(base, 'greaterThanOne', 'base');
  return ropeExponents(headDim).map((x) => 1 / Math.pow(base, x));
}

/** The unscaled inverse frequencies base^(-2i/d), d/2 of them, correctly rounded to fp32. */
export function baseInvFreq(headDim: number, base: number): Float32Array {
  return Float32Array.from(baseInvFreq64(headDim, base));
}

/**
 * YaRN's ramp bounds: find_dim(r) = d ln(L / (2 pi r)) / (2 ln base); low = floor(find_dim(betaFast)),
 * high = ceil(find_dim(betaSlow)) (unrounded when `truncate` is false), clamped to [0, d-1] as HF
 * does. LLaMA-2 (d 128, base 1e4, L 4096) gives 20 and 46.
 */
export function yarnFindDimRange(
  headDim: number,
  base: number,
  originalLength: number,
  betaFast = 32,
  betaSlow = 1,
  truncate = true,
): { low: number; high: number } {
  checkNumber(headDim, 'evenAtLeastTwo', 'headDim');
  checkNumber(base, 'greaterThanOne', 'base');
  checkNumber(originalLength, 'positiveInteger', 'originalLength');
  checkNumber(betaFast, 'positive', 'betaFast');
  checkNumber(betaSlow, 'positive', 'betaSlow');
  const findDim = (rotations: number): number =>
    (headDim * Math.log(originalLength / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = findDim(betaFast);
  let high = findDim(betaSlow);
  if (truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  return { low: Math.max(low, 0), high: Math.min(high, headDim - 1) };
}

/**
 * NTK-aware base: base' = base * k^(d/(d-2)). Static ntk: k = s. Dynamic (HF `dynamic`):
 * k = s*n/L - (s-1) with n = max(seqLen, L), so k = 1 (the original base) while the sequence
 * fits in L. The HF writer uses this too, so a static-NTK spec and its export agree bit for bit.
 */
export function ntkScaledBase(spec: RopeSpec, seqLen: number): number {
  const d = spec.headDim;
  const s = spec.factor ?? spec.length / spec.originalLength;
  const L = spec.originalLength;
  const k = spec.method === 'dynamic-ntk' ? (s * Math.max(seqLen, L)) / L - (s - 1) : s;
  return spec.base * Math.pow(k, d / (d - 2));
}

/** @internal Float64 inverse frequencies of a normalised spec, with lambda_i = base_i / inv_i. */
export interface ScaledFrequencies {
  base: Float64Array;
  inv: Float64Array;
  lambda: Float64Array;
}

/** lambda for inv = base * ((1 - w)/s + w): the YaRN / llama3 blend, exact at both ends. */
function blendLambda(s: number, w: number): number {
  if (w >= 1) return 1;
  if (w <= 0) return s;
  return 1 / ((1 - w) / s + w);
}

/** @internal The scaled frequencies of a normalised spec for a sequence of `seqLen` positions. */
export function scaleFrequencies(spec: RopeSpec, seqLen: number): ScaledFrequencies {
  const d = spec.headDim;
  const half = d / 2;
  const base = baseInvFreq64(d, spec.base);
  const s = spec.factor ?? spec.length / spec.originalLength;
  const lambda = new Float64Array(half).fill(1);
  let inv: Float64Array | undefined;
  switch (spec.method) {
    case 'none':
      break;
    case 'linear':
      lambda.fill(s);
      break;
    case 'ntk':
    case 'dynamic-ntk': {
      // Computed as base'^(-x) directly (not base / lambda) so a static-NTK spec and the
      // 'none' spec its HF export reads back as (rope_theta = base') give identical tables.
      inv = baseInvFreq64(d, ntkScaledBase(spec, seqLen));
      for (let i = 0; i < half; i++) lambda[i] = base[i] / inv[i];
      break;
    }
    case 'yarn': {
      const { low, high } = yarnFindDimRange(d, spec.base, spec.originalLength, spec.betaFast, spec.betaSlow, spec.truncate);
      const top = low === high ? high + 0.001 : high; // HF's guard against a zero-width ramp
      for (let i = 0; i < half; i++) {
        const ramp = Math.min(Math.max((i - low) / (top - low), 0), 1);
        lambda[i] = blendLambda(s, 1 - ramp); // 1 - ramp = share of the unscaled frequency
      }
      break;
    }
    case 'llama3': {
      const L = spec.originalLength;
      const lowF = spec.lowFreqFactor ?? 1;
      const highF = spec.highFreqFactor ?? 4;
      const lowWave = L / lowF; // longer wavelengths are interpolated fully
      const highWave = L / highF; // shorter ones are kept
      for (let i = 0; i < half; i++) {
        const wave = (2 * Math.PI) / base[i];
        if (wave < highWave) lambda[i] = 1;
        else if (wave > lowWave) lambda[i] = s;
        else lambda[i] = blendLambda(s, (L / wave - lowF) / (highF - lowF));
      }
      break;
    }
    case 'longrope': {
      // Short factors while the whole sequence fits in L, long ones beyond (HF, vLLM).
      const factors = (seqLen > spec.originalLength ? spec.longFactors : spec.shortFactors) ?? [];
      for (let i = 0; i < half; i++) lambda[i] = factors[i];
      inv = new Float64Array(half);
      for (let i = 0; i < half; i++) inv[i] = base[i] / Math.fround(factors[i]);
      break;
    }
  }
  if (!inv) inv = base.map((b, i) => b / lambda[i]);
  return { base, inv, lambda };
}

/** YaRN's mscale: 0.1 * m * ln(s) + 1, and 1 when s <= 1 (no extension, no correction). */
function yarnMscale(s: number, m = 1): number {
  return s <= 1 ? 1 : 0.1 * m * Math.log(s) + 1;
}

/**
 * The attention factor (multiplies cos and sin) of a normalised spec. An explicit
 * attentionFactor wins. YaRN: 0.1 ln(s) + 1, or mscale(s, mscale) / mscale(s, mscaleAllDim) when
 * both are set (DeepSeek configs; HF treats 0 as unset). LongRoPE: sqrt(1 + ln(s) / ln(L)), 1 if
 * s <= 1, the same for short and long factors. All others: 1.
 */
export function ropeAttentionFactor(spec: RopeSpec): number {
  return attentionFactorOf(normalizeRopeSpec(spec, { searchConstraints: false }));
}

/** @internal {@link ropeAttentionFactor} of an already normalised spec. */
export function attentionFactorOf(spec: RopeSpec): number {
  if (spec.attentionFactor !== undefined) return spec.attentionFactor;
  const s = spec.factor ?? spec.length / spec.originalLength;
  if (spec.method === 'yarn') {
    if (spec.mscale && spec.mscaleAllDim) return yarnMscale(s, spec.mscale) / yarnMscale(s, spec.mscaleAllDim);
    return yarnMscale(s);
  }
  if (spec.method === 'longrope') return s <= 1 ? 1 : Math.sqrt(1 + Math.log(s) / Math.log(spec.originalLength));
  return 1;
}

/** @internal Validates a seqLen argument (default spec.length). */
export function resolveSeqLen(spec: RopeSpec, seqLen: number | undefined): number {
  if (seqLen === undefined) return spec.length;
  if (typeof seqLen === 'number' && Number.isInteger(seqLen) && seqLen > 0) return seqLen;
  throw ropeError(undefined, 'seqLen', 'a positive integer', describeValue(seqLen));
}

/**
 * Tables for a sequence whose highest position + 1 is `seqLen` (default spec.length). seqLen
 * matters for dynamic-ntk (recomputed base; the original once seqLen <= L) and longrope (short
 * factors while seqLen <= L, long beyond). Validates the spec (factor lists need not satisfy the
 * search constraints here: published models' factors are used as they are).
 */
export function computeRopeTables(spec: RopeSpec, seqLen?: number): RopeTables {
  const norm = normalizeRopeSpec(spec, { searchConstraints: false });
  const n = resolveSeqLen(norm, seqLen);
  const { base, inv } = scaleFrequencies(norm, n);
  return {
    invFreq: Float32Array.from(inv),
    baseInvFreq: Float32Array.from(base),
    attentionFactor: attentionFactorOf(norm),
    nHat: norm.method === 'longrope' ? (norm.nHat ?? 0) : 0,
  };
}
