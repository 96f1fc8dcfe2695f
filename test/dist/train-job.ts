/**
 * The training job shared by test/dist/train-parallel.test.ts and its ranks: two AdamW steps on
 * a random model (the first plain, the second with activation checkpointing), optionally
 * sequence-parallel, recording the parameters before, and each step's loss, gradient norm and
 * all parameters after it.
 */
import type { ProcessGroup } from '../../src/dist/process-group';
import { readModelConfig } from '../../src/model/config';
import { Model } from '../../src/model/model';
import { Trainer } from '../../src/train/trainer';

/** A model directory and the shape of each step's batch. */
export interface TrainJob {
  modelDir: string;
  vocabSize: number;
  /** Segment length: 2 * 2 micro-batches x segments of `seq` tokens per step. */
  seq: number;
}

/** What one step left behind. */
export interface StepRecord {
  loss: number;
  gradNorm: number;
  tokens: number;
  /** Every parameter after the step, concatenated in `model.info().parameters` order. */
  params: Float32Array;
}

function segment(job: TrainJob, step: number, i: number): Int32Array {
  return Int32Array.from({ length: job.seq }, (_, t) => (t * 7919 + 131 * i + 977 * step + 13 * (t >> 3)) % job.vocabSize);
}

/**
 * Runs the job's two steps; every rank of `group` calls it with the same job. AdamW's eps is 1
 * and lr 0.5, so an update is lr * m / (sqrt(v) + 1): smooth in the gradient (no sign(g) from a
 * tiny eps, where rounding noise in a near-zero gradient would flip a whole update).
 */
export async function runTrainJob(job: TrainJob, group?: ProcessGroup): Promise<{ initial: Float32Array; steps: StepRecord[] }> {
  const model = await Model.load(job.modelDir, { dtype: 'float32' });
  const trainer = new Trainer(model, { eps: 1 });
  const rope = { ...readModelConfig(job.modelDir).rope, method: 'yarn' as const, length: 512 };
  const names = model.info().parameters.map((p) => p.name);
  const allParams = (): Float32Array => {
    const parts = names.map((n) => trainer.parameter(n));
    const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (flat.set(p, at), at + p.length), 0);
    return flat;
  };
  const initial = allParams();
  const steps: StepRecord[] = [];
  try {
    for (const [step, checkpointing] of [false, true].entries()) {
      const micro = [0, 1].map((m) => [0, 1].map((b) => segment(job, step, 2 * m + b)));
      const r = await trainer.step(micro, { rope, lr: 0.5, clip: 1, checkpointing, sequenceParallel: group });
      steps.push({ loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens, params: allParams() });
    }
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return { initial, steps };
}
