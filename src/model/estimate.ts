/**
 * Peak memory of a run, before loading anything: the CLI refuses (or warns about) a length that
 * cannot fit, and the search sizes its chunks with it. The numbers follow the runtime's design:
 *
 * - Weights are held once, in the compute dtype: fp32 on CPU (bf16 GEMM is ~30x slower there),
 *   bf16 on CUDA. Checkpoint files are mmapped and converted tensor by tensor, never held twice.
 * - NLL runs layer by layer over the whole sequence with no KV cache. Live at once: the residual
 *   stream [S,H], the normed input [S,H], q,k,v [S,(nH+2nKV)hd], the attention output [S,nH*hd],
 *   and the MLP in chunks of `chunk` tokens ([chunk,2I] gate/up + [chunk,I] activation).
 *   Attention is tiled (per-head 256x256 score tiles per thread, a few MB): not counted.
 *   The final norm, lm_head and loss run in chunks of `chunk` tokens: [chunk,V] fp32 logits.
 * - Generation prefills the same way and keeps a KV cache, 2 x layers x S x nKV x hd in the
 *   compute dtype; it needs logits of the last position only ([batch,V] fp32).
 * - Training checkpoints activations per layer: one [S,H] per layer is kept, plus one layer's
 *   full activations while it is recomputed and their gradients (x2), chunked logits and their
 *   gradient, and fp32 gradients + AdamW moments (m, v) + an fp32 master copy when the compute
 *   dtype is not fp32: weights x 4 in fp32 on CUDA, x 3 on CPU where the weights are fp32 already.
 * - A fixed overhead: libtorch + Node ~400 MB on CPU, the CUDA context ~600 MB.
 *
 * - Sequence parallelism over N ranks (`ranks`; ring attention, zigzag layout): every figure is
 *   one rank's. Weights, gradients and AdamW state are whole on every rank (the runtime does not
 *   shard them); activations cover the rank's 2 x ceil(length / 2N) tokens; the ring adds K/V in
 *   flight in fp32 (the block being used and the one arriving; in training also the dK/dV
 *   accumulator and its hop) and the fp32 output being merged.
 *
 * Parts that are not live at the same moment (the MLP chunk and the logits chunk) are still
 * summed, so the total is a slight upper bound. S is length x batch (per rank: its share).
 */
import { describeValue } from '../common/errors';
import type { ModelConfig } from './config';

/** What to estimate. */
export interface EstimateOptions {
  /** Tokens per sequence. */
  length: number;
  device: 'cpu' | 'cuda';
  /** Compute dtype; default float32 on CPU, bfloat16 on CUDA. */
  dtype?: 'float32' | 'bfloat16';
  mode: 'nll' | 'generate' | 'train';
  /** Tokens per MLP / logits chunk (default 4096). */
  chunk?: number;
  /** Sequences at once (default 1). */
  batch?: number;
  /** Ranks each sequence is split over (sequence parallelism; default 1). Not with 'generate'. */
  ranks?: number;
}

/** Bytes by kind; `breakdown` itemises every term of `totalBytes`. */
export interface MemoryEstimate {
  weightsBytes: number;
  activationBytes: number;
  kvCacheBytes: number;
  logitsBytes: number;
  totalBytes: number;
  breakdown: Record<string, number>;
}

/** Fixed overhead per device: libtorch + Node on CPU, the CUDA context on GPU. */
export const OVERHEAD_BYTES = { cpu: 400e6, cuda: 600e6 } as const;
/** Default tokens per MLP / logits chunk. */
export const DEFAULT_CHUNK = 4096;

/** Parameters of the model (embeddings, layers, final norm, lm_head unless tied). */
export function countParameters(config: ModelConfig): number {
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim, numLayers } = config;
  const attn = H * numHeads * headDim * 2 + H * numKvHeads * headDim * 2;
  const layer = attn + 3 * H * I + 2 * H;
  return V * H * (config.tieWordEmbeddings ? 1 : 2) + numLayers * layer + H;
}

function positiveInt(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw new TypeError(`Expected a positive integer for ${field} but received ${describeValue(value)}`);
  }
  return value as number;
}

/**
 * Estimates peak memory of an NLL pass, generation, or a training step (see the module comment).
 * @throws {TypeError} for invalid options.
 */
export function estimateMemory(config: ModelConfig, opts: EstimateOptions): MemoryEstimate {
  const length = positiveInt(opts.length, 'length');
  const batch = positiveInt(opts.batch ?? 1, 'batch');
  const chunk = positiveInt(opts.chunk ?? DEFAULT_CHUNK, 'chunk');
  const ranks = positiveInt(opts.ranks ?? 1, 'ranks');
  if (ranks > 1 && opts.mode === 'generate') {
    throw new TypeError(`Expected "nll" or "train" for mode with ranks > 1 (generation runs in one process) but received ${describeValue(opts.mode)}`);
  }
  if (opts.device !== 'cpu' && opts.device !== 'cuda') {
    throw new TypeError(`Expected "cpu" or "cuda" for device but received ${describeValue(opts.device)}`);
  }
  if (!['nll', 'generate', 'train'].includes(opts.mode)) {
    throw new TypeError(`Expected "nll", "generate" or "train" for mode but received ${describeValue(opts.mode)}`);
  }
  const dtype = opts.dtype ?? (opts.device === 'cpu' ? 'float32' : 'bfloat16');
  if (dtype !== 'float32' && dtype !== 'bfloat16') {
    throw new TypeError(`Expected "float32" or "bfloat16" for dtype but received ${describeValue(dtype)}`);
  }
  const b = dtype === 'float32' ? 4 : 2;
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim, numLayers: L } = config;
  // One rank's tokens: two zigzag chunks of ceil(length / 2N) (the sequence is padded to 2N chunks).
  const S = (ranks > 1 ? 2 * Math.ceil(length / (2 * ranks)) : length) * batch;
  const c = Math.min(chunk, S);
  const params = countParameters(config);

  const breakdown: Record<string, number> = { weights: params * b };
  let logits = c * V * 4;
  let kv = 0;
  if (opts.mode === 'train') {
    breakdown.checkpoints = L * S * H * b;
    // Saved by one recomputed layer: input, normed, q/k/v, attention output (+ fp32 logsumexp),
    // residual after attention, its norm, gate/up, activation; and the same again as gradients.
    const layer = S * (4 * H + (numHeads + 2 * numKvHeads) * headDim + numHeads * headDim + 3 * I) * b + S * numHeads * 4;
    breakdown.layerActivations = layer;
    breakdown.layerGradients = layer;
    breakdown.optimizer = params * 4 * (b === 4 ? 3 : 4);
    logits *= 2;
  } else {
    breakdown.residual = S * H * b;
    breakdown.normed = S * H * b;
    breakdown.qkv = S * (numHeads + 2 * numKvHeads) * headDim * b;
    breakdown.attentionOutput = S * numHeads * headDim * b;
    breakdown.mlpChunk = c * 3 * I * b;
    if (opts.mode === 'generate') {
      kv = 2 * L * S * numKvHeads * headDim * b;
      breakdown.kvCache = kv;
      logits = batch * V * 4;
    }
  }
  if (ranks > 1) {
    const kvBlock = 2 * S * numKvHeads * headDim * 4;
    breakdown.ringBuffers = (opts.mode === 'train' ? 4 : 2) * kvBlock + S * numHeads * headDim * 4;
  }
  breakdown.logits = logits;
  breakdown.overhead = OVERHEAD_BYTES[opts.device];
  const activation = Object.entries(breakdown)
    .filter(([k]) => !['weights', 'kvCache', 'logits', 'overhead', 'optimizer'].includes(k))
    .reduce((sum, [, v]) => sum + v, 0);
  const totalBytes = Object.values(breakdown).reduce((sum, v) => sum + v, 0);
  return { weightsBytes: breakdown.weights, activationBytes: activation, kvCacheBytes: kv, logitsBytes: logits, totalBytes, breakdown };
}

/** `13.5 GB`: decimal units (1 GB = 1e9 bytes), three significant digits. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new TypeError(`Expected a non-negative number for bytes but received ${describeValue(bytes)}`);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = bytes;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toPrecision(3)} ${units[i]}`;
}
