/**
 * Learning-rate schedules and the paper's fine-tuning recipes. A schedule is a pure function of
 * the step, so a resumed run recomputes the same rates with no saved state.
 */

/** How the learning rate evolves over a run. */
export type ScheduleKind = 'linear' | 'constant' | 'cosine';

/** A schedule: peak rate, warmup steps, decay shape, and the run length it decays over. */
export interface Schedule {
  kind: ScheduleKind;
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor as a fraction of lr for linear/cosine decay (default 0). */
  minFraction?: number;
}

/** The recipes of the LongRoPE paper (section 4.1) and the one we use for the tiny base model. */
export const RECIPES = {
  /** LLaMA-2: lr 2e-5, linear decay, global batch 32, 400 steps at 128k. */
  llama: { schedule: { kind: 'linear', lr: 2e-5, warmupSteps: 20, totalSteps: 400 }, globalBatch: 32 },
  /** Mistral: constant lr 1e-6, global batch 64, 400 steps at 16k. */
  mistral: { schedule: { kind: 'constant', lr: 1e-6, warmupSteps: 0, totalSteps: 400 }, globalBatch: 64 },
} as const satisfies Record<string, { schedule: Schedule; globalBatch: number }>;

/** Learning rate at `step` (0-based: the rate used for the step-th update). */
export function learningRate(s: Schedule, step: number): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  if (s.kind === 'constant') return s.lr;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / decaySteps));
  const floor = s.minFraction ?? 0;
  const shape = s.kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.lr * (floor + (1 - floor) * shape);
}

/** Checks a schedule's numbers; throws a TypeError naming the field. */
export function validateSchedule(s: Schedule): Schedule {
  if (!['linear', 'constant', 'cosine'].includes(s.kind)) {
    throw new TypeError(`Expected "linear", "constant" or "cosine" for schedule.kind but received ${JSON.stringify(s.kind)}`);
  }
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) throw new TypeError(`Expected a positive number for schedule.lr but received ${s.lr}`);
  for (const k of ['warmupSteps', 'totalSteps'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 0) throw new TypeError(`Expected a non-negative integer for schedule.${k} but received ${s[k]}`);
  }
  return s;
}
