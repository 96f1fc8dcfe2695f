/**
 * Loads the native addon once and types it. Every other module reaches libtorch through here.
 * A load failure becomes an error that lists concrete fixes (as sharp does), not a bare dlopen text.
 */
import path from 'path';

/** A dense float32 tensor on the host: row-major data and its shape. */
export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

/** The rotary parameters the native op needs: what `computeRopeTables` returns. */
export interface NativeRopeParams {
  invFreq: Float32Array;
  baseInvFreq: Float32Array;
  attentionFactor: number;
  nHat: number;
}

/** Options of the native `ropeApply`. */
export interface NativeRopeApplyOptions extends NativeRopeParams {
  q: HostTensor;
  k: HostTensor;
  positionOffset?: number;
  positions?: Int32Array;
  layout?: 'half' | 'interleaved';
  dtype?: 'float32' | 'bfloat16';
  device?: string;
  impl?: 'fused' | 'naive';
  gradQ?: Float32Array;
  gradK?: Float32Array;
}

/** Result of the native `ropeApply`: rotated q and k, and input gradients when asked for. */
export interface NativeRopeApplyResult {
  q: Float32Array;
  k: Float32Array;
  gradQ?: Float32Array;
  gradK?: Float32Array;
}

/** Options of the native rope benchmark. */
export interface NativeRopeBenchmarkOptions extends NativeRopeParams {
  batch?: number;
  seq?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  iterations?: number;
  warmup?: number;
  dtype?: 'float32' | 'bfloat16';
  device?: string;
}

/** Median timings of one rope benchmark run. */
export interface NativeRopeBenchmarkResult {
  fusedMs: number;
  fusedInPlaceMs: number;
  fusedAllocMs: number;
  naiveMs: number;
  copyMs: number;
  tablesMs: number;
  bytes: number;
  threads: number;
}

/** What the loaded binary offers. */
export interface RuntimeInfo {
  torchVersion: string;
  cudaBuilt: boolean;
  cudaDevices: number;
  threads: number;
  /** The CPU allocator tuning in effect (native/allocator.h; LONGROPE_MALLOC_TUNING=0 disables it). */
  allocator: string;
}

/** Sizes of a LLaMA/Mistral decoder as the native runtime needs them (a subset of ModelConfig). */
export interface NativeModelConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** num_key_value_heads, defaulting to num_attention_heads (no GQA). */
  numKvHeads: number;
  /** head_dim, or hidden_size / num_attention_heads. */
  headDim: number;
  rmsNormEps: number;
  /** Mistral's sliding_window; null when absent, null, or for llama (HF's LLaMA ignores it). */
  slidingWindow: number | null;
  tieWordEmbeddings: boolean;
}

/** Where one weight lies: an absolute offset in an absolute (real) file path (validated by src/model/checkpoint.ts). */
export interface NativeTensorLocation {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  file: string;
  offset: number;
  byteLength: number;
}

/** A dimension of a checkpoint weight: q = numHeads * headDim, kv = numKvHeads * headDim. */
export type NativeTensorDim = 'vocab' | 'hidden' | 'intermediate' | 'q' | 'kv';

/** One checkpoint tensor: its Hugging Face name and its shape in symbolic dimensions. */
export interface NativeTensorSpec {
  readonly name: string;
  readonly shape: readonly NativeTensorDim[];
}

/**
 * The Hugging Face tensor names of a LLaMA/Mistral checkpoint (native/model/tensor_names.h, the
 * one table). A checkpoint lists embedTokens, then for each layer i the `layer` entries named
 * `${layerPrefix}${i}.${name}`, then finalNorm, then lmHead unless the embeddings are tied.
 */
export interface NativeTensorNames {
  readonly embedTokens: NativeTensorSpec;
  /** 'model.layers.' */
  readonly layerPrefix: string;
  /** Per-layer tensors in Hugging Face state_dict order; `name` is the part after the layer prefix. */
  readonly layer: readonly NativeTensorSpec[];
  readonly finalNorm: NativeTensorSpec;
  /** Absent from checkpoints whose config ties the word embeddings. */
  readonly lmHead: NativeTensorSpec;
}

/** Cancellation and progress shared with a native job: [cancel, done, total]. */
export interface NativeJobOptions {
  control?: Int32Array;
}

/** Options shared by the forward-pass calls. */
export interface NativeForwardOptions extends NativeJobOptions {
  rope: NativeRopeParams;
  positionOffset?: number;
  chunk?: number;
  attentionTile?: number;
  /** 'naive': the plain libtorch-ops path (benchmark baseline, test reference). */
  impl?: 'fused' | 'naive';
}

/** A loaded model in native memory (native/model/model_wrap.h). */
export interface NativeModel {
  /** Token ids must lie in [0, vocabSize): a RangeError names the first that does not (nll, logits, generate). */
  nll(tokens: Int32Array, options: NativeForwardOptions & { scoreFrom?: number }): Promise<Float32Array>;
  logits(tokens: Int32Array, options: NativeForwardOptions & { lastN?: number }): Promise<Float32Array>;
  generate(prompt: Int32Array, options: NativeForwardOptions & {
    longRope?: NativeRopeParams;
    originalLength?: number;
    maxNewTokens: number;
    stopTokens?: Int32Array;
  }): Promise<{ tokens: Int32Array; switchedAt: number }>;
  save(file: string, header: Buffer, tensors: { name: string; dtype: string }[]): Promise<void>;
  /** dtype: the compute dtype the model was loaded in; parameters in Hugging Face state_dict order. */
  info(): {
    parameterBytes: number; device: string; dtype: 'float32' | 'bfloat16' | 'float16';
    parameters: { name: string; shape: number[] }[];
  };
  dispose(): void;
}

/** Where a training step's wall time went. */
export interface StepMilliseconds {
  /** Forward passes and losses. */
  forward: number;
  /** Backward passes (with activation checkpointing, the layers' recomputation too). */
  backward: number;
  /** Gradient norm, clipping and the AdamW update. */
  optimizer: number;
}

/** AdamW trainer bound to a native model (native/train/trainer_wrap.h). */
export interface NativeTrainer {
  step(tokens: Int32Array, options: NativeJobOptions & {
    microBatches: number; batch: number; seq: number; rope: NativeRopeParams; lr: number;
    clip?: number; checkpointing?: boolean; chunk?: number; impl?: 'fused' | 'naive'; autocast?: boolean;
  }): Promise<{ loss: number; gradNorm: number; tokens: number; milliseconds: StepMilliseconds }>;
  optimizerStateInfo(): { step: number; tensors: { name: string; shape: number[] }[] };
  saveOptimizerState(file: string, header: Buffer, names: string[]): Promise<void>;
  loadOptimizerState(locations: NativeTensorLocation[], step: number): Promise<void>;
  parameter(name: string): Float32Array;
  dispose(): void;
}

/** Options of the native attention entry point (tests and tools). */
export interface NativeAttentionOptions {
  q: HostTensor;
  k: HostTensor;
  v: HostTensor;
  slidingWindow?: number;
  queryOffset?: number;
  tile?: number;
  impl?: 'tiled' | 'naive' | 'auto';
  device?: string;
}

/** Milliseconds per kind of work in the model's native calls (native/model/forward_profile.h). */
export interface NativeForwardProfile {
  attentionMs: number;
  gemmMs: number;
  ropeNormMs: number;
  lmHeadLossMs: number;
  nativeCallMs: number;
}

/** The raw binding (native/addon.cc). Public classes wrap it; users should not need it. */
export interface NativeBinding {
  runtimeInfo(): RuntimeInfo;
  /** The checkpoint tensor names (frozen data). */
  readonly tensorNames: NativeTensorNames;
  setNumThreads(threads: number): void;
  ropeApply(options: NativeRopeApplyOptions): Promise<NativeRopeApplyResult>;
  ropeBenchmark(options: NativeRopeBenchmarkOptions): Promise<NativeRopeBenchmarkResult>;
  attention(options: NativeAttentionOptions & { gradOut: Float32Array }): Promise<{ out: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array }>;
  attention(options: NativeAttentionOptions): Promise<Float32Array>;
  matmulBenchmark(options: { m?: number; n?: number; k?: number; iterations?: number }): Promise<{ gflops: number; ms: number }>;
  /**
   * Wall time per kind of work summed over every model call since the last reset (attention,
   * projection and MLP GEMMs, RoPE + norms + activation, LM head + loss, and the whole native
   * call); `reset` zeroes the counters after reading them. For `npm run bench:model`.
   */
  forwardProfile(reset?: boolean): NativeForwardProfile;
  /** Causal self-attention speed (batch 1, random fp32): our kernel ('flash', or 'flash-avx2' without AVX-512) or the ATen-tiled one ('aten'). */
  attentionBenchmark(options: { seq?: number; heads?: number; headDim?: number; tile?: number; iterations?: number; impl?: 'flash' | 'flash-avx2' | 'aten' }): Promise<{ ms: number; cpuMs: number; gflops: number }>;
  createTrainer(model: NativeModel, options?: { beta1?: number; beta2?: number; eps?: number; weightDecay?: number }): NativeTrainer;
  loadModel(options: NativeJobOptions & {
    config: NativeModelConfig;
    tensors: NativeTensorLocation[];
    device?: string;
    dtype?: 'float32' | 'bfloat16' | 'float16';
  }): Promise<NativeModel>;
}

const ROOT = path.resolve(__dirname, '..');

function loadFailure(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const fixes = [
    'Build it for this machine: `npm run setup` (installs libtorch if missing, then builds).',
    'libtorch shared libraries not found (libtorch.so, libc10.so): on Debian/Ubuntu',
    '  `sudo apt-get install -y libtorch-dev libopenblas0-pthread`; with a pip or zip libtorch set',
    '  LIBTORCH=/path/to/libtorch and rebuild with `npm run build`.',
    'Built for another Node.js or libtorch (after an upgrade): `npm run build` rebuilds from scratch.',
    'Installed as a dependency: `npm install-scripts approve longrope && npm rebuild longrope` builds it',
    '  from source (npm 11 skips install scripts until approved; LONGROPE_BUILD_FROM_SOURCE=1 forces a build).',
  ];
  const err = new Error(
    `Could not load the longrope native addon.\n${reason}\nPossible fixes:\n- ${fixes.join('\n- ')}`,
  );
  (err as Error & { cause?: unknown }).cause = cause;
  return err;
}

let cached: NativeBinding | undefined;

/** The native binding, loaded on first use. Throws an error listing fixes when it cannot load. */
export function native(): NativeBinding {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const bindings = require('bindings') as (opts: { bindings: string; module_root: string }) => NativeBinding;
    cached = bindings({ bindings: 'longrope', module_root: ROOT });
  } catch (cause) {
    throw loadFailure(cause);
  }
  return cached;
}
