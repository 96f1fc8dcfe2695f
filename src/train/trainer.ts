/**
 * AdamW training on a loaded Model: one native call per optimizer step (all micro-batches, the
 * backward passes, clipping and the update), plus atomic checkpoints of everything a resume needs.
 * The weights change in place, so the same Model evaluates the trained weights without a reload.
 */
import fs from 'fs';
import path from 'path';

import { native, type NativeTrainer, type StepMilliseconds } from '../native';
import type { JobOptions } from '../job';
import { readSafetensorsHeader, buildSafetensorsHeader } from '../model/safetensors';
import type { Model, RopeChoice } from '../model/model';

/** AdamW hyper-parameters (defaults: beta1 0.9, beta2 0.95, eps 1e-8, weight decay 0). */
export interface OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** One step's inputs besides the tokens. */
export interface StepOptions extends JobOptions {
  rope?: RopeChoice;
  lr: number;
  /** Max global gradient norm (default 1; 0 disables). */
  clip?: number;
  /** Recompute layers in backward (memory linear in layers x seq instead of full activations). */
  checkpointing?: boolean;
  /** 'naive': plain libtorch ops throughout (benchmark baseline, test reference). */
  impl?: 'fused' | 'naive';
  /**
   * Mixed precision: forward passes under bf16 autocast over fp32 weights (backward follows the
   * dtypes the forward used), clipping and AdamW in fp32.
   * Default: on for a float32 model on CUDA, off otherwise (CPU trains in fp32).
   */
  autocast?: boolean;
}

/** What a step reports. */
export interface StepResult {
  loss: number;
  gradNorm: number;
  tokens: number;
  /** Where the step's time went (forward, backward, optimizer). */
  milliseconds: StepMilliseconds;
}

const OPTIMIZER_FILE = 'optimizer.safetensors';

/** Trains `model` in place. Dispose to release optimizer memory. */
export class Trainer {
  private handle: NativeTrainer | null;

  private readonly defaultAutocast: boolean;

  constructor(readonly model: Model, options: OptimizerOptions = {}) {
    this.handle = model.withHandle((h) => native().createTrainer(h, options));
    const { device, dtype } = model.info();
    this.defaultAutocast = device.startsWith('cuda') && dtype === 'Float';  // c10's name of float32
  }

  /**
   * One optimizer step over `microBatches` (each an array of equal-length segments): gradients
   * accumulate over all of them, then one clipped AdamW update.
   */
  async step(microBatches: Int32Array[][], options: StepOptions): Promise<StepResult> {
    const trainer = this.live();
    const batch = microBatches[0]?.length ?? 0;
    const seq = microBatches[0]?.[0]?.length ?? 0;
    if (batch === 0 || seq < 2) throw new TypeError('Expected non-empty micro-batches of segments of at least 2 tokens for microBatches');
    const flat = new Int32Array(microBatches.length * batch * seq);
    let at = 0;
    microBatches.forEach((mb, m) => {
      if (mb.length !== batch) throw new TypeError(`Expected ${batch} segments for microBatches[${m}] but received ${mb.length}`);
      for (const segment of mb) {
        if (segment.length !== seq) throw new TypeError(`Expected segments of ${seq} tokens but received one of ${segment.length}`);
        flat.set(segment, at);
        at += seq;
      }
    });
    for (let i = 0; i < flat.length; i++) {
      if (flat[i] < 0 || flat[i] >= this.model.config.vocabSize) {
        throw new RangeError(`Expected token ids in [0, ${this.model.config.vocabSize}) for microBatches but received ${flat[i]}`);
      }
    }
    const tables = this.model.ropeTables(options.rope, seq);
    return this.model.enqueue(options, (_, control) => trainer.step(flat, {
      microBatches: microBatches.length, batch, seq, lr: options.lr, clip: options.clip, checkpointing: options.checkpointing,
      impl: options.impl, autocast: options.autocast ?? this.defaultAutocast,
      rope: { invFreq: tables.invFreq, baseInvFreq: tables.baseInvFreq, attentionFactor: tables.attentionFactor, nHat: tables.nHat },
      control,
    }));
  }

  /** Optimizer steps taken (restored by loadOptimizer). */
  get optimizerStep(): number {
    return this.live().optimizerStateInfo().step;
  }

  /** Writes the AdamW moments to dir/optimizer.safetensors (atomically). */
  async saveOptimizer(dir: string): Promise<void> {
    const trainer = this.live();
    const info = trainer.optimizerStateInfo();
    const { header } = buildSafetensorsHeader(info.tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape })),
      { step: String(info.step) });
    await this.model.enqueue({}, () => trainer.saveOptimizerState(path.join(dir, OPTIMIZER_FILE), header, info.tensors.map((t) => t.name)));
  }

  /** Restores the AdamW moments and step count written by saveOptimizer. */
  async loadOptimizer(dir: string): Promise<void> {
    const trainer = this.live();
    const file = fs.realpathSync(path.join(dir, OPTIMIZER_FILE));
    const header = readSafetensorsHeader(file);
    const step = Number(header.metadata.step);
    if (!Number.isInteger(step) || step < 0) throw new TypeError(`${file}: Expected an integer step in the metadata but received ${header.metadata.step}`);
    const locations = header.entries.map((e) => {
      if (e.dtype !== 'F32') throw new TypeError(`${file}: Expected F32 for ${e.name} but received ${e.dtype}`);
      return { name: e.name, dtype: 'F32' as const, shape: e.shape, file, offset: e.begin, byteLength: e.end - e.begin };
    });
    await this.model.enqueue({}, () => trainer.loadOptimizerState(locations, step));
  }

  /** A parameter's current values (float32), by Hugging Face name. */
  parameter(name: string): Float32Array {
    return this.live().parameter(name);
  }

  /** Drops the optimizer state; the model stays loaded and usable. Idempotent. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = null;
  }

  private live(): NativeTrainer {
    if (!this.handle) throw new Error('This trainer has been disposed');
    return this.handle;
  }
}
