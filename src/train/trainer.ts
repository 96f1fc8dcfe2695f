/**
 * AdamW training on a loaded Model: one native call per optimizer step (all micro-batches, the
 * backward passes, clipping and the update), plus the optimizer files a resume needs. The
 * weights change in place, so the same Model evaluates the trained weights without a reload.
 * The native side is the model's {@link TrainingSession}; this class shapes the batches.
 */
import path from 'path';

import type { Model } from '../model/model';
import type { OptimizerOptions, StepOptions, StepResult, TrainingSession } from '../model/training-session';

export type { OptimizerOptions, StepOptions, StepResult };

const OPTIMIZER_FILE = 'optimizer.safetensors';

/** Trains `model` in place. Dispose to release optimizer memory. */
export class Trainer {
  private readonly session: TrainingSession;

  constructor(readonly model: Model, options: OptimizerOptions = {}) {
    this.session = model.createTrainingSession(options);
  }

  /**
   * One optimizer step over `microBatches` (each an array of equal-length segments): gradients
   * accumulate over all of them, then one clipped AdamW update.
   */
  async step(microBatches: Int32Array[][], options: StepOptions): Promise<StepResult> {
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
    return this.session.step(flat, { microBatches: microBatches.length, batch, seq }, options);
  }

  /** Optimizer steps taken (restored by loadOptimizer). */
  get optimizerStep(): number {
    return this.session.optimizerStep;
  }

  /** Writes the AdamW moments to dir/optimizer.safetensors (atomically). */
  saveOptimizer(dir: string): Promise<void> {
    return this.session.saveOptimizer(path.join(dir, OPTIMIZER_FILE));
  }

  /** Restores the AdamW moments and step count written by saveOptimizer. */
  loadOptimizer(dir: string): Promise<void> {
    return this.session.loadOptimizer(path.join(dir, OPTIMIZER_FILE));
  }

  /** A parameter's current values (float32), by Hugging Face name. */
  parameter(name: string): Float32Array {
    return this.session.parameter(name);
  }

  /** Drops the optimizer state; the model stays loaded and usable. Idempotent. */
  dispose(): void {
    this.session.dispose();
  }
}
