/**
 * Loads the native addon once and types it. Every other module reaches libtorch through here.
 * A load failure becomes an error that lists concrete fixes (as sharp does), not a bare dlopen text.
 */
import path from 'path';

import { tuneBlasCore, tuneBlasThreadTimeout } from './blas-core';

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
  /** OpenBLAS's kernel family in use (src/blas-core.ts), or null where libtorch uses another BLAS. */
  blasCore: string | null;
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
  }, group?: NativeProcessGroup): Promise<{ loss: number; gradNorm: number; tokens: number; milliseconds: StepMilliseconds }>;
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
  /**
   * false: every query sees every key and k, v may have any length (ring attention's off-diagonal
   * blocks); 'tiled' and 'naive' only. Default true.
   */
  causal?: boolean;
  /** false: 'tiled' runs the ATen-tiled kernels (BLAS tiles) even where the AVX ones run. Default true. */
  avx?: boolean;
  /** SDPA's masked path: mask elements per call (query block x visible keys); default 2^24. */
  sdpaMaskElements?: number;
  /** Default 'tiled' on CPU, 'auto' (what the model runs: SDPA) on CUDA. 'sdpa' needs libtorch >= 2.1. */
  impl?: 'tiled' | 'naive' | 'auto' | 'sdpa';
  device?: string;
}

/** Options of the native `createProcessGroup` (native/dist/process_group_wrap.h). */
export interface NativeProcessGroupOptions {
  rank: number;
  worldSize: number;
  masterAddr?: string;
  masterPort?: number;
  backend?: 'gloo' | 'nccl';
  /** NCCL: this rank's GPU. */
  deviceIndex?: number;
  /** Rendezvous and every collective fail after this long (a dead or stuck peer). */
  timeoutMs?: number;
}

/** A c10d process group in native memory. Collectives must run in the same order on every rank. */
export interface NativeProcessGroup {
  info(): { rank: number; worldSize: number; backend: 'gloo' | 'nccl' };
  allReduce(data: Float32Array, op?: 'sum' | 'max' | 'min'): Promise<Float32Array>;
  /** Every rank's array (all the same length), rank-major. */
  allGather(data: Float32Array): Promise<Float32Array>;
  broadcast(data: Float32Array, root: number): Promise<Float32Array>;
  barrier(): Promise<void>;
  /** A subgroup over this group's store under `prefix`; every member calls it (src/dist's ProcessGroup.split). */
  split(options: NativeSplitOptions): Promise<NativeProcessGroup>;
  dispose(): void;
}

/** One member's view of a subgroup to form: its rank in it, its size, its backend. */
export interface NativeSplitOptions {
  /** Store keys of the subgroup: the same on its members, unique per subgroup. */
  prefix: string;
  rank: number;
  worldSize: number;
  backend?: 'gloo' | 'nccl';
  deviceIndex?: number;
  timeoutMs?: number;
}

/**
 * Something that runs a native call with a process group in its queue: src/dist's ProcessGroup.
 * Model takes this shape rather than the class, so Model never imports Dist.
 */
export interface NativeGroupRunner {
  readonly rank: number;
  readonly worldSize: number;
  run<T>(call: (group: NativeProcessGroup) => Promise<T>): Promise<T>;
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
  /** Causal attention through the model's path on random device tensors: median ms and TFLOP/s. */
  attentionBenchmark(options: {
    batch?: number; seq?: number; heads?: number; kvHeads?: number; headDim?: number; slidingWindow?: number;
    dtype?: 'float32' | 'bfloat16'; device?: string; iterations?: number; warmup?: number;
  }): Promise<{ ms: number; tflops: number }>;
  /** Bytes of the CUDA caching allocator on `device` (zeros on CPU); reset starts a new peak. */
  cudaMemory(device: string, options?: { reset?: boolean }): { allocated: number; peak: number; reserved: number };
  /**
   * Wall time per kind of work summed over every model call since the last reset (attention,
   * projection and MLP GEMMs, RoPE + norms + activation, LM head + loss, and the whole native
   * call); `reset` zeroes the counters after reading them. For `npm run bench:model`.
   */
  forwardProfile(reset?: boolean): NativeForwardProfile;
  /** Causal self-attention speed (batch 1, random fp32): our kernel ('flash', or 'flash-avx2' without AVX-512) or the ATen-tiled one ('aten'). */
  cpuAttentionBenchmark(options: { seq?: number; heads?: number; headDim?: number; tile?: number; iterations?: number; impl?: 'flash' | 'flash-avx2' | 'aten' }): Promise<{ ms: number; cpuMs: number; gflops: number }>;
  createTrainer(model: NativeModel, options?: { beta1?: number; beta2?: number; eps?: number; weightDecay?: number }): NativeTrainer;
  /** Backends this build has (Gloo needs libgloo-dev at build time, NCCL a CUDA build). */
  distInfo(): { gloo: boolean; nccl: boolean };
  createProcessGroup(options: NativeProcessGroupOptions): Promise<NativeProcessGroup>;
  /** Ring attention over this rank's zigzag chunks q [B, 2c, H, D], k = v [B, 2c, KV, D]. */
  ringAttention(group: NativeProcessGroup, options: { q: HostTensor; k: HostTensor; v: HostTensor; tile?: number; gradOut?: Float32Array }):
    Promise<{ out: Float32Array; dq?: Float32Array; dk?: Float32Array; dv?: Float32Array }>;
  /** The whole sequence's per-token NLL on every rank, computed sequence-parallel over `group`. */
  sequenceParallelNll(model: NativeModel, group: NativeProcessGroup, tokens: Int32Array,
    options: NativeForwardOptions & { scoreFrom?: number }): Promise<Float32Array>;
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

/**
 * The native binding, loaded on first use. Throws an error listing fixes when it cannot load.
 * LONGROPE_ADDON=/path/to/longrope.node loads that file instead of ./build's (CI runs the tests
 * against second builds made with PyTorch wheels; the GPU check runs its own build).
 */
export function native(): NativeBinding {
  if (cached) return cached;
  tuneBlasCore();
  tuneBlasThreadTimeout();
  try {
    const explicit = process.env.LONGROPE_ADDON;
    if (explicit) {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      cached = require(path.resolve(explicit)) as NativeBinding;
      return cached;
    }
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const bindings = require('bindings') as (opts: { bindings: string; module_root: string }) => NativeBinding;
    cached = bindings({ bindings: 'longrope', module_root: ROOT });
  } catch (cause) {
    throw loadFailure(cause);
  }
  return cached;
}

/**
 * A process group over libtorch's c10d (src/dist's door to the binding: the architecture lets
 * Dist reach the binding, and only through this function; everything else goes through Model).
 */
export function createNativeProcessGroup(options: NativeProcessGroupOptions): Promise<NativeProcessGroup> {
  return native().createProcessGroup(options);
}
