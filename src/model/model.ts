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

import { runNativeJob, type JobOptions } from '../job';
import { native, type NativeModel, type NativeRopeParams } from '../native';
import { computeRopeTables } from '../rope/methods';
import type { RopeSpec, RopeTables } from '../rope/types';
import { readCheckpoint } from './checkpoint';
import { modelConfigToJson, type ModelConfig } from './config';
import { estimateMemory, formatBytes } from './estimate';
import { buildSafetensorsHeader, type SafetensorsDtype } from './safetensors';

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

/** A RopeSpec (tables derived per call from the sequence length) or precomputed tables. */
export type RopeChoice = RopeSpec | RopeTables;

/** Options of the forward-pass calls. */
export interface ForwardOptions extends JobOptions {
  /** RoPE to run with; default the checkpoint's own (config.rope). */
  rope?: RopeChoice;
  /** Absolute position of the first token (default 0). */
  positionOffset?: number;
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

function isTables(rope: RopeChoice): rope is RopeTables {
  return (rope as RopeTables).invFreq instanceof Float32Array;
}

function nativeRope(t: RopeTables): NativeRopeParams {
  return { invFreq: t.invFreq, baseInvFreq: t.baseInvFreq, attentionFactor: t.attentionFactor, nHat: t.nHat };
}

/** A LLaMA/Mistral checkpoint loaded into native memory. */
export class Model {
  private handle: NativeModel | null;
  private queue: Promise<unknown> = Promise.resolve();

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
  }

  /** Loads a Hugging Face model directory (config.json + safetensors, single or sharded). */
  static async load(dir: string, options: LoadOptions = {}): Promise<Model> {
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
    if (isTables(rope)) return rope;
    if (rope.headDim !== this.config.rope.headDim) {
      throw new TypeError(`Expected headDim ${this.config.rope.headDim} (the model's rotary dims) for rope.headDim but received ${rope.headDim}`);
    }
    return computeRopeTables(rope, seqLen);
  }

  /**
   * Per-token negative log-likelihood (natural log) of `tokens`: entry t-scoreFrom is
   * -log p(tokens[t] | tokens[<t]) for t = scoreFrom .. n-1 (scoreFrom defaults to 1).
   */
  async nll(tokens: ArrayLike<number>, options: ForwardOptions & { scoreFrom?: number } = {}): Promise<Float32Array> {
    const { ids, forward } = this.forwardCall(tokens, options, 2);
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
    const schedule = isTables(spec) ? { rope: nativeRope(spec) } : spec.method === 'longrope'
      ? { rope: nativeRope(this.ropeTables(spec, spec.originalLength)), longRope: nativeRope(this.ropeTables(spec, spec.length)),
          originalLength: spec.originalLength }
      : { rope: nativeRope(this.ropeTables(spec, total)) };
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
    const dtype = options.dtype ?? this.config.torchDtype;
    const st: SafetensorsDtype = dtype === 'float32' ? 'F32' : dtype === 'bfloat16' ? 'BF16' : 'F16';
    fs.mkdirSync(dir, { recursive: true });
    const params = handle.info().parameters;
    const { header } = buildSafetensorsHeader(params.map((p) => ({ name: p.name, dtype: st, shape: p.shape })), { format: 'pt' });
    await this.run({}, (h) => h.save(path.join(dir, 'model.safetensors'), header, params.map((p) => ({ name: p.name, dtype: st }))));
    const config = { ...modelConfigToJson(this.config, options.rope), torch_dtype: dtype };
    writeAtomic(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']) {
      const src = path.join(this.dir, f);
      if (fs.existsSync(src) && path.resolve(dir) !== this.dir) fs.copyFileSync(src, path.join(dir, f));
    }
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
  private checkFits(length: number, mode: 'nll' | 'generate', chunk?: number): void {
    if (!Number.isFinite(this.memoryLimit)) return;
    const need = estimateMemory(this.config, { length, device: this.device, mode, chunk }).totalBytes;
    if (need > this.memoryLimit) {
      throw new RangeError(`Expected a length that fits in ${formatBytes(this.memoryLimit)} for tokens but received ${length} tokens, ` +
        `which need an estimated ${formatBytes(need)} (see \`longrope estimate\`; shorten the input or use a larger machine)`);
    }
  }

  /** Checked token ids and the native options of a forward over them (tables for the highest position). */
  private forwardCall(tokens: ArrayLike<number>, o: ForwardOptions, minTokens: number) {
    const ids = this.checkTokens(tokens, 'tokens', minTokens);
    this.checkFits(ids.length, 'nll', o.chunk);
    const rope = nativeRope(this.ropeTables(o.rope, (o.positionOffset ?? 0) + ids.length));
    return { ids, forward: { rope, positionOffset: o.positionOffset, chunk: o.chunk, attentionTile: o.attentionTile, impl: o.impl } };
  }

  private checkTokens(tokens: ArrayLike<number>, field: string, min: number): Int32Array {
    if (tokens === null || typeof tokens !== 'object' || typeof tokens.length !== 'number') {
      throw new TypeError(`Expected an array of token ids for ${field} but received ${typeof tokens}`);
    }
    if (tokens.length < min) throw new RangeError(`Expected at least ${min} token(s) for ${field} but received ${tokens.length}`);
    const vocab = this.config.vocabSize;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new RangeError(`Expected token ids in [0, ${vocab}) for ${field} but received ${t} at index ${i}`);
      }
    }
    return tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
  }

  /**
   * @internal Runs `call` with the native handle in this model's queue, so work that mutates the
   * weights (a training step) never overlaps a forward. For src/train; not public API.
   */
  enqueue<T>(options: JobOptions, call: (handle: NativeModel, control: Int32Array) => Promise<T>): Promise<T> {
    return this.run(options, call);
  }

  /** @internal The native handle, for objects bound to this model (the trainer). */
  withHandle<T>(call: (handle: NativeModel) => T): T {
    return call(this.live());
  }

  /** Runs one native call after the previous ones on this model have settled. */
  private run<T>(options: JobOptions, call: (handle: NativeModel, control: Int32Array) => Promise<T>): Promise<T> {
    const handle = this.live();
    const next = this.queue.catch(() => undefined).then(() => runNativeJob(options, (control) => call(handle, control)));
    this.queue = next;
    return next;
  }
}

function writeAtomic(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}
