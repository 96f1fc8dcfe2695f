/**
 * The model-owned side of training: a native AdamW trainer bound to one loaded model's weights.
 * Created by `Model.createTrainingSession()`; its calls run in the model's queue (a step never
 * overlaps a forward). src/train's Trainer builds batches and checkpoints on top of it, so the
 * training loop never touches the binding.
 */
import fs from 'fs';
import path from 'path';

import { inputError } from '../common/errors';
import type { JobOptions } from '../job';
import type { NativeGroupRunner, NativeModel, NativeTrainer, StepMilliseconds } from '../native';
import type { RopeChoice } from '../rope/types';
import type { ModelConfig } from './config';
import type { RopeResolver } from './rope-params';
import { buildSafetensorsHeader, readSafetensorsHeader } from './safetensors';

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
  /**
   * Sequence parallelism over a process group (src/dist's ProcessGroup of N > 1 ranks): every rank
   * calls with the same tokens; each runs its zigzag share of every segment with ring attention,
   * and the loss and gradients are summed over the ranks, so every rank takes the same step as
   * one process over the whole segments (within float tolerance).
   */
  sequenceParallel?: NativeGroupRunner;
}

/** What a step reports. */
export interface StepResult {
  loss: number;
  gradNorm: number;
  tokens: number;
  /** Where the step's time went (forward, backward, optimizer). */
  milliseconds: StepMilliseconds;
}

/** The shape of a step's flat token array: microBatches x batch x seq. */
export interface StepShape {
  microBatches: number;
  batch: number;
  seq: number;
}

/** Runs a native call in the owning model's queue. */
type Enqueue = <T>(options: JobOptions, call: (control: Int32Array) => Promise<T>) => Promise<T>;

/** A native AdamW trainer on one model's weights. Dispose to release the optimizer memory. */
export class TrainingSession {
  private handle: NativeTrainer | null;
  private readonly defaultAutocast: boolean;

  constructor(
    handle: NativeTrainer,
    private readonly config: ModelConfig,
    info: ReturnType<NativeModel['info']>,
    private readonly rope: RopeResolver,
    private readonly enqueue: Enqueue,
  ) {
    this.handle = handle;
    this.defaultAutocast = info.device.startsWith('cuda') && info.dtype === 'float32';
  }

  /** One optimizer step over `tokens` (microBatches x batch x seq ids, row-major). */
  step(tokens: Int32Array, shape: StepShape, options: StepOptions): Promise<StepResult> {
    const trainer = this.live();
    const rope = this.rope.params(options.rope ?? this.config.rope, shape.seq);
    const group = options.sequenceParallel && options.sequenceParallel.worldSize > 1 ? options.sequenceParallel : undefined;
    const call = (control: Int32Array) => (g?: Parameters<NativeTrainer['step']>[2]) => trainer.step(tokens, {
      ...shape, rope, lr: options.lr, clip: options.clip, checkpointing: options.checkpointing, impl: options.impl,
      autocast: options.autocast ?? this.defaultAutocast, control,
    }, g);
    // In the group's queue too: the step's collectives never interleave with another call's.
    return this.enqueue(options, (control) => (group ? group.run((g) => call(control)(g)) : call(control)()));
  }

  /** Optimizer steps taken (restored by loadOptimizer). */
  get optimizerStep(): number {
    return this.live().optimizerStateInfo().step;
  }

  /** Writes the AdamW moments and step count to `file` (safetensors, atomically). */
  async saveOptimizer(file: string): Promise<void> {
    const trainer = this.live();
    const info = trainer.optimizerStateInfo();
    const { header } = buildSafetensorsHeader(info.tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape })),
      { step: String(info.step) });
    await this.enqueue({}, () => trainer.saveOptimizerState(file, header, info.tensors.map((t) => t.name)));
  }

  /** Restores the AdamW moments and step count written by {@link saveOptimizer}. */
  async loadOptimizer(file: string): Promise<void> {
    const trainer = this.live();
    const real = fs.realpathSync(file);
    const where = path.basename(real);
    const header = readSafetensorsHeader(real);
    const step = Number(header.metadata.step);
    if (!Number.isInteger(step) || step < 0) throw inputError(where, 'metadata.step', 'a non-negative integer', String(header.metadata.step));
    const locations = header.entries.map((e) => {
      if (e.dtype !== 'F32') throw inputError(where, e.name, 'F32', e.dtype);
      return { name: e.name, dtype: 'F32' as const, shape: e.shape, file: real, offset: e.begin, byteLength: e.end - e.begin };
    });
    await this.enqueue({}, () => trainer.loadOptimizerState(locations, step));
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
