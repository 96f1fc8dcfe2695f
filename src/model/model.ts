/**
 * A loaded LLaMA/Mistral model: the TypeScript face of the native runtime.
 *
 * The RoPE is an argument of every call (a RopeSpec, or RopeTables computed once by the caller),
 * never a property of the model: the factor search evaluates thousands of specs on one loaded
 * model, so switching must cost nothing. Calls on one model run one at a time (a queue), each off
 * the JS thread, cancellable with an AbortSignal.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { checkOutputPath, writeJsonAtomic } from '../common/files';
import { describeValue, inputError } from '../common/errors';
import { runNativeJob, type JobOptions } from '../job';
import { native, type NativeGroupRunner, type NativeModel } from '../native';
import { isRopeTables, type RopeChoice, type RopeSpec, type RopeTables } from '../rope/types';
import { readCheckpoint } from './checkpoint';
import { modelConfigToJson, type ModelConfig } from './config';
import { estimateMemory, formatBytes } from './estimate';
import { RopeResolver } from './rope-params';
import { buildSafetensorsHeader, type SafetensorsDtype } from './safetensors';
import { TrainingSession, type OptimizerOptions } from './training-session';

export type { RopeChoice };

/** Where and in what precision the model runs. */
export interface LoadOptions extends JobOptions {
  /** 'cpu' (default) or 'cuda[:N]'. */
  device?: string;
  /** Compute dtype: float32 on CPU (default there), bfloat16 on CUDA (default there). */
  dtype?: 'float32' | 'bfloat16';
  /** Memory a call may plan for: a forward whose estimate (src/model/estimate.ts) exceeds it is
   *  refused before it starts. Default: this machine's RAM on CPU; no limit on CUDA. */
  memoryLimitBytes?: number;
}

/** Options of the forward-pass calls. */
export interface ForwardOptions extends JobOptions {
  /** RoPE to run with; default the checkpoint's own (config.rope). */
  rope?: RopeChoice;
  /** Absolute position of the first token (default 0). */
  positionOffset?: number;
  /** Highest position + 1 that a RopeSpec's tables are built for (what dynamic NTK and the
   *  longrope short/long switch look at); default positionOffset + the number of tokens. */
  ropeLength?: number;
  /** Tokens per chunk of the MLP and the lm_head/loss (bounds peak memory; default 4096). */
  chunk?: number;
  /** Edge of the CPU attention tiles (default 256). */
  attentionTile?: number;
  /** 'naive' runs plain libtorch ops (no fused RoPE, full attention matrix, no chunking): the
   *  benchmark baseline and a reference; it needs O(n^2) memory. Default 'fused'. */
  impl?: 'fused' | 'naive';
}

/** Options of greedy generation. */
export interface GenerateOptions extends JobOptions {
  /** Default config.rope. A longrope spec switches from its short to its long factors once the
   *  sequence holds more than originalLength tokens, rebuilding the KV cache at that point.
   *  Precomputed tables are used as they are for the whole sequence. */
  rope?: RopeChoice;
  maxNewTokens: number;
  /** Generation stops after emitting one of these (default: the EOS id, if any). */
  stopTokens?: number[];
  chunk?: number;
}

/** Result of generate(). */
export interface GenerateResult {
  tokens: number[];
  /** Sequence length at which the long factors took over and the cache was rebuilt; null if never. */
  switchedAt: number | null;
}

/** Positions are int32 in native code: the last position must fit. */
const MAX_POSITION = 2 ** 31 - 1;

/** A LLaMA/Mistral checkpoint loaded into native memory. */
export class Model {
  private handle: NativeModel | null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly rope: RopeResolver;
  /** Memory estimates already checked, by mode, length and chunk. */
  private readonly fits = new Set<string>();

  private constructor(
    handle: NativeModel,
    /** The validated config.json. */
    readonly config: ModelConfig,
    /** The real path of the directory it was loaded from. */
    readonly dir: string,
    private readonly device: 'cpu' | 'cuda',
    private readonly memoryLimit: number,
  ) {
    this.handle = handle;
    this.rope = new RopeResolver(config.rope.headDim);
  }

  /** Loads a Hugging Face model directory (config.json + safetensors, single or sharded). */
  static async load(dir: string, options: LoadOptions = {}): Promise<Model> {
    const requested = options.memoryLimitBytes;
    if (requested !== undefined && !(typeof requested === 'number' && requested > 0)) {
      throw inputError(undefined, 'memoryLimitBytes', 'a number greater than 0 (Infinity: no limit)', describeValue(requested));
    }
    const checkpoint = readCheckpoint(dir);
    const c = checkpoint.config;
    const handle = await runNativeJob(options, (control) => native().loadModel({
      config: c,  // a NativeModelConfig; the native side reads only the sizes
      tensors: checkpoint.tensors,
      device: options.device,
      dtype: options.dtype,
      control,
    }));
    const device = options.device ?? 'cpu';
    const limit = options.memoryLimitBytes ?? (device === 'cpu' ? os.totalmem() : Infinity);
    return new Model(handle, c, checkpoint.dir, device.startsWith('cuda') ? 'cuda' : 'cpu', limit);
  }

  /** RoPE tables for a sequence whose highest position + 1 is `seqLen`. */
  ropeTables(rope: RopeChoice = this.config.rope, seqLen?: number): RopeTables {
    return this.rope.tables(rope, seqLen);
  }

  /**
   * Per-token negative log-likelihood (natural log) of `tokens`: entry t-scoreFrom is
   * -log p(tokens[t] | tokens[<t]) for t = scoreFrom .. n-1 (scoreFrom defaults to 1).
   * With `sequenceParallel` (a src/dist ProcessGroup of N > 1 ranks, every rank calling with the
   * same tokens), the sequence is split over the ranks in the zigzag layout with ring attention;
   * every rank returns the whole result, equal to the one-process run within float tolerance.
   */
  async nll(tokens: ArrayLike<number>, options: ForwardOptions & { scoreFrom?: number; sequenceParallel?: NativeGroupRunner } = {}): Promise<Float32Array> {
    const group = options.sequenceParallel;
    const { ids, forward } = this.forwardCall(tokens, options, 2, group && group.worldSize > 1 ? group.worldSize : 1);
    if (group && group.worldSize > 1) {
      // Every rank passes the whole sequence and gets the whole result; each computes its zigzag share.
      return this.run(options, (h, control) =>
        group.run((g) => native().sequenceParallelNll(h, g, ids, { ...forward, control, scoreFrom: options.scoreFrom })));
    }
    return this.run(options, (h, control) => h.nll(ids, { ...forward, control, scoreFrom: options.scoreFrom }));
  }

  /** Logits [lastN, vocab] (row-major) at the last `lastN` positions of `tokens`. */
  async logits(tokens: ArrayLike<number>, options: ForwardOptions & { lastN?: number } = {}): Promise<Float32Array> {
    const { ids, forward } = this.forwardCall(tokens, options, 1);
    return this.run(options, (h, control) => h.logits(ids, { ...forward, control, lastN: options.lastN }));
  }

  /** Greedy decoding with a KV cache. */
  async generate(prompt: ArrayLike<number>, options: GenerateOptions): Promise<GenerateResult> {
    const ids = this.checkTokens(prompt, 'prompt', 1);
    if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 0) {
      throw new TypeError(`Expected a non-negative integer for maxNewTokens but received ${options.maxNewTokens}`);
    }
    const spec = options.rope ?? this.config.rope;
    const total = ids.length + options.maxNewTokens;
    this.checkFits(total, 'generate', options.chunk);
    const stops = options.stopTokens ?? (this.config.eosTokenId === null ? [] : [this.config.eosTokenId]);
    const schedule = !isRopeTables(spec) && spec.method === 'longrope'
      ? { rope: this.rope.params(spec, spec.originalLength), longRope: this.rope.params(spec, spec.length), originalLength: spec.originalLength }
      : { rope: this.rope.params(spec, total) };
    const r = await this.run(options, (h, control) => h.generate(ids, {
      ...schedule, maxNewTokens: options.maxNewTokens, stopTokens: Int32Array.from(stops), chunk: options.chunk, control,
    }));
    return { tokens: Array.from(r.tokens), switchedAt: r.switchedAt < 0 ? null : r.switchedAt };
  }

  /**
   * Writes a Hugging Face model directory: config.json (RoPE fields from `rope`, default the
   * model's) and model.safetensors in `dtype` (default the config's torch_dtype). Tokenizer files
   * next to the source checkpoint are copied. Each file is written to a temp name and renamed.
   */
  async save(dir: string, options: { rope?: RopeSpec; dtype?: 'float32' | 'bfloat16' | 'float16' } = {}): Promise<void> {
    const handle = this.live();
    checkOutputPath(dir, 'dir', 'dir');
    const dtype = options.dtype ?? this.config.torchDtype;
    const st: SafetensorsDtype = dtype === 'float32' ? 'F32' : dtype === 'bfloat16' ? 'BF16' : 'F16';
    fs.mkdirSync(dir, { recursive: true });
    const params = handle.info().parameters;
    const { header } = buildSafetensorsHeader(params.map((p) => ({ name: p.name, dtype: st, shape: p.shape })), { format: 'pt' });
    await this.run({}, (h) => h.save(path.join(dir, 'model.safetensors'), header, params.map((p) => ({ name: p.name, dtype: st }))));
    const config = { ...modelConfigToJson(this.config, options.rope), torch_dtype: dtype };
    writeJsonAtomic(path.join(dir, 'config.json'), config);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']) {
      const src = path.join(this.dir, f);
      if (fs.existsSync(src) && path.resolve(dir) !== this.dir) fs.copyFileSync(src, path.join(dir, f));
    }
  }

  /**
   * @internal An AdamW training session on this model's weights (src/train's Trainer builds on
   * it). Its steps run in this model's queue, so a step never overlaps a forward.
   */
  createTrainingSession(options: OptimizerOptions = {}): TrainingSession {
    const handle = native().createTrainer(this.live(), options);
    return new TrainingSession(handle, this.config, this.info(), this.rope, (o, call) => this.run(o, (_, control) => call(control)));
  }

  /** Parameter names, shapes and total bytes as held in memory. */
  info(): ReturnType<NativeModel['info']> {
    return this.live().info();
  }

  /** Frees native memory (after any running call finishes). Idempotent. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.queue.catch(() => undefined);
    this.dispose();
  }

  private live(): NativeModel {
    if (!this.handle) throw new Error('This model has been disposed');
    return this.handle;
  }

  /** Refuses a call the memory estimator says cannot fit (before any native work). */
  private checkFits(length: number, mode: 'nll' | 'generate', chunk?: number, ranks = 1): void {
    if (!Number.isFinite(this.memoryLimit)) return;
    const key = `${mode}:${length}:${chunk}:${ranks}`;
    if (this.fits.has(key)) return;
    // Under sequence parallelism, this rank's share (src/model/estimate.ts).
    const need = estimateMemory(this.config, { length, device: this.device, mode, chunk, ranks }).totalBytes;
    if (need > this.memoryLimit) {
      throw new RangeError(`Expected a length that fits in ${formatBytes(this.memoryLimit)} for tokens but received ${length} tokens, ` +
        `which need an estimated ${formatBytes(need)} (see \`longrope estimate\`; shorten the input or use a larger machine)`);
    }
    this.fits.add(key);
  }

  /** Checked token ids and the native options of a forward over them (tables for the highest position). */
  private forwardCall(tokens: ArrayLike<number>, o: ForwardOptions, minTokens: number, ranks = 1) {
    const ids = this.checkTokens(tokens, 'tokens', minTokens);
    this.checkFits(ids.length, 'nll', o.chunk, ranks);
    const offset = o.positionOffset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + ids.length > MAX_POSITION) {
      throw inputError(undefined, 'positionOffset', `a non-negative integer with positionOffset + tokens <= ${MAX_POSITION}`, describeValue(o.positionOffset));
    }
    const ropeLength = o.ropeLength ?? offset + ids.length;
    const rope = this.rope.params(o.rope ?? this.config.rope, ropeLength);
    return { ids, forward: { rope, positionOffset: o.positionOffset, chunk: o.chunk, attentionTile: o.attentionTile, impl: o.impl } };
  }

  /**
   * The ids as an Int32Array. Their range is checked once, by the binding (one pass over the
   * host array); here only what an Int32Array cannot hold is refused (non-integers, huge values).
   */
  private checkTokens(tokens: ArrayLike<number>, field: string, min: number): Int32Array {
    if (tokens === null || typeof tokens !== 'object' || typeof tokens.length !== 'number') {
      throw inputError(undefined, field, 'an array of token ids', describeValue(tokens));
    }
    if (tokens.length < min) throw new RangeError(`Expected at least ${min} token(s) for ${field} but received ${tokens.length}`);
    if (tokens instanceof Int32Array) return tokens;
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (!Number.isInteger(t) || t < 0 || t >= this.config.vocabSize) {
        throw new RangeError(`Expected token ids in [0, ${this.config.vocabSize}) for ${field} but received ${t} at index ${i}`);
      }
      ids[i] = t;
    }
    return ids;
  }

  /** Runs one native call after the previous ones on this model have settled. */
  private run<T>(options: JobOptions, call: (handle: NativeModel, control: Int32Array) => Promise<T>): Promise<T> {
    const handle = this.live();
    const next = this.queue.catch(() => undefined).then(() => runNativeJob(options, (control) => call(handle, control)));
    this.queue = next;
    return next;
  }
}
