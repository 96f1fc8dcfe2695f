/** Learning-rate schedules against hand-computed rates, and their validation. */
import test from 'ava';

import { learningRate, RECIPES, validateSchedule, type Schedule } from '../../src/train/schedule';

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-15 + 1e-12 * Math.abs(b);

test('linear warmup then linear decay to the floor, by hand', (t) => {
  const s: Schedule = { kind: 'linear', lr: 1e-3, warmupSteps: 4, totalSteps: 14, minFraction: 0.1 };
  // Warmup: lr * (step + 1) / 4.
  t.true(close(learningRate(s, 0), 2.5e-4));
  t.true(close(learningRate(s, 3), 1e-3));
  // Decay over 10 steps: progress (step - 4) / 10, rate = lr * (0.1 + 0.9 * (1 - progress)).
  t.true(close(learningRate(s, 4), 1e-3));
  t.true(close(learningRate(s, 9), 1e-3 * (0.1 + 0.9 * 0.5)));
  t.true(close(learningRate(s, 14), 1e-4));
  // Past the end the floor holds.
  t.true(close(learningRate(s, 100), 1e-4));
});

test('cosine decay: half-way is the midpoint, the end is the floor', (t) => {
  const s: Schedule = { kind: 'cosine', lr: 2, warmupSteps: 0, totalSteps: 10 };
  t.true(close(learningRate(s, 0), 2));
  t.true(close(learningRate(s, 5), 1));
  t.true(close(learningRate(s, 10), 0));
  t.true(close(learningRate(s, 2), 1 + Math.cos(Math.PI * 0.2)));
});

test('the paper recipes: LLaMA 2e-5 linear over 400 steps (20 warmup), Mistral constant 1e-6', (t) => {
  t.true(close(learningRate(RECIPES.llama.schedule, 19), 2e-5));
  t.true(close(learningRate(RECIPES.llama.schedule, 210), 2e-5 * 0.5));
  t.true(close(learningRate(RECIPES.llama.schedule, 400), 0));
  t.is(RECIPES.llama.globalBatch, 32);
  for (const step of [0, 1, 399]) t.is(learningRate(RECIPES.mistral.schedule, step), 1e-6);
  t.is(RECIPES.mistral.globalBatch, 64);
});

test('validateSchedule names the bad field', (t) => {
  const ok: Schedule = { kind: 'linear', lr: 1, warmupSteps: 0, totalSteps: 1 };
  t.is(validateSchedule(ok), ok);
  t.throws(() => validateSchedule({ ...ok, kind: 'step' as never }), { message: 'Expected "linear", "constant" or "cosine" for schedule.kind but received "step"' });
  t.throws(() => validateSchedule({ ...ok, lr: 0 }), { message: 'Expected a positive number for schedule.lr but received 0' });
  t.throws(() => validateSchedule({ ...ok, lr: NaN }), { message: 'Expected a positive number for schedule.lr but received NaN' });
  t.throws(() => validateSchedule({ ...ok, warmupSteps: 1.5 }), { message: 'Expected a non-negative integer for schedule.warmupSteps but received 1.5' });
});
