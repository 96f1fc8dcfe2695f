/**
 * Plain value types of the RoPE math. A {@link RopeSpec} says how a model rotates positions;
 * {@link RopeTables} is what the native rotary op consumes. Both are plain data so they can be
 * logged, stored next to results and handed from the search to the model without back and forth.
 */

/** Every scaling method we implement. `ntk` is static NTK-aware scaling, `dynamic-ntk` HF's `dynamic`. */
export type RopeMethod = 'none' | 'linear' | 'ntk' | 'dynamic-ntk' | 'yarn' | 'llama3' | 'longrope';

/** The methods in a stable order (used in error messages and CLI help). */
export const ROPE_METHODS: readonly RopeMethod[] = ['none', 'linear', 'ntk', 'dynamic-ntk', 'yarn', 'llama3', 'longrope'];

/**
 * How a model's rotary embedding is scaled. `validateRopeSpec` fills in the defaults; every
 * other function in `rope/` accepts an unnormalised spec and normalises it itself.
 */
export interface RopeSpec {
  method: RopeMethod;
  /** Rotary dims d of one head (head_dim x partial_rotary_factor): even, >= 2. */
  headDim: number;
  /** Rope theta. */
  base: number;
  /** L, the pretrained window (`original_max_position_embeddings`). */
  originalLength: number;
  /** N, the target window (the extended `max_position_embeddings`). */
  length: number;
  /** s, the extension ratio; defaults to length / originalLength. Unused by `none`. */
  factor?: number;
  /** YaRN: rotations bounding the ramp (defaults 32 and 1). */
  betaFast?: number;
  betaSlow?: number;
  /** YaRN: floor/ceil the ramp bounds (default true, as HF and the YaRN repo do). */
  truncate?: boolean;
  /** YaRN (DeepSeek style): with both set, attention factor = mscale(s, mscale) / mscale(s, mscaleAllDim). */
  mscale?: number;
  mscaleAllDim?: number;
  /** llama3: wavelength band bounds (defaults 1 and 4). */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  /** LongRoPE: d/2 factors used once the highest position + 1 exceeds L (lambda_i). */
  longFactors?: number[];
  /** LongRoPE: d/2 factors used while the highest position + 1 <= L; default all 1. */
  shortFactors?: number[];
  /** LongRoPE: the first nHat positions keep the unscaled frequencies (default 0). */
  nHat?: number;
  /** Explicit attention factor (multiplies cos and sin); wins over every method's default. */
  attentionFactor?: number;
}

/** A RopeSpec (tables derived per call from the sequence length) or precomputed tables. */
export type RopeChoice = RopeSpec | RopeTables;

/** Whether `rope` is precomputed tables rather than a spec. */
export function isRopeTables(rope: RopeChoice): rope is RopeTables {
  return (rope as RopeTables).invFreq instanceof Float32Array;
}

/** What the native rotary op needs for one sequence length. */
export interface RopeTables {
  /** d/2 scaled inverse frequencies, fp32. */
  invFreq: Float32Array;
  /** d/2 unscaled base^(-2i/d), fp32 (used for positions < nHat). */
  baseInvFreq: Float32Array;
  /** Multiplies cos and sin (not applied to positions < nHat). */
  attentionFactor: number;
  /** Start positions that use baseInvFreq and no attention factor; 0 for all methods but longrope. */
  nHat: number;
}
