// The native training step: it learns, its checkpointed and accumulated variants give the same
// update as the plain one, AdamW's first step has its textbook size, and optimizer state
// round-trips through a file so a resumed run continues bit-for-bit.
import test from 'ava';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { Model } from '../../src/model/model';
import { Trainer } from '../../src/train/trainer';
import { maxErrors } from '../helpers/reference-rope';

const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');
const segment = (seed: number, n = 32) => Int32Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) % 300);
const Q = 'model.layers.1.self_attn.q_proj.weight';

test('training on one segment drives its loss down and the model evaluates the new weights', async (t) => {
  const model = await Model.load(TINY);
  const trainer = new Trainer(model);
  const seg = segment(1);
  const before = await model.nll(seg);
  const losses: number[] = [];
  for (let i = 0; i < 25; i++) {
    const t0 = performance.now();
    const r = await trainer.step([[seg]], { lr: 1e-2 });
    const wall = performance.now() - t0;
    losses.push(r.loss);
    const { forward, backward, optimizer } = r.milliseconds;
    t.true([forward, backward, optimizer].every((ms) => ms > 0), JSON.stringify(r.milliseconds));
    t.true(forward + backward + optimizer <= wall + 1, `${forward + backward + optimizer} ms in a step of ${wall} ms`);
  }
  const after = await model.nll(seg);
  const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / a.length;
  t.true(Math.abs(losses[0] - mean(before)) < 1e-4, 'the first loss is the model NLL');
  t.true(losses[24] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[24]}`);
  t.true(Math.abs(mean(after) - losses[24]) < 0.5, 'inference sees the trained weights');
  trainer.dispose();
  model.dispose();
});

async function oneStep(options: { checkpointing?: boolean; split?: boolean; naive?: boolean; autocast?: boolean }) {
  const model = await Model.load(TINY);
  const trainer = new Trainer(model);
  const a = segment(2);
  const b = segment(3);
  const batches = options.split ? [[a], [b]] : [[a, b]];
  const r = await trainer.step(batches, { lr: 1e-3, checkpointing: options.checkpointing, clip: 0, impl: options.naive ? 'naive' : 'fused', autocast: options.autocast });
  const p = trainer.parameter(Q);
  trainer.dispose();
  model.dispose();
  return { r, p };
}

test('fused kernels, activation checkpointing and gradient accumulation give the plain-ops step\'s update', async (t) => {
  const plain = await oneStep({ naive: true });
  const fused = await oneStep({});
  t.true(Math.abs(plain.r.loss - fused.r.loss) < 1e-5);
  t.true(Math.abs(plain.r.gradNorm - fused.r.gradNorm) < 1e-4 * plain.r.gradNorm, `grad norm ${plain.r.gradNorm} vs ${fused.r.gradNorm}`);
  t.true(maxErrors(fused.p, plain.p).abs < 2e-5);
  const checkpointed = await oneStep({ checkpointing: true });
  const accumulated = await oneStep({ split: true });
  t.true(Math.abs(plain.r.loss - checkpointed.r.loss) < 1e-5);
  t.true(Math.abs(plain.r.gradNorm - checkpointed.r.gradNorm) < 1e-4 * plain.r.gradNorm);
  t.true(Math.abs(plain.r.loss - accumulated.r.loss) < 1e-5);
  t.true(Math.abs(plain.r.gradNorm - accumulated.r.gradNorm) < 1e-4 * plain.r.gradNorm);
  // AdamW moves a weight by ~lr where the gradient is not tiny, so compare at that scale.
  t.true(maxErrors(checkpointed.p, plain.p).abs < 2e-5);
  t.true(maxErrors(accumulated.p, plain.p).abs < 2e-5);
});

test('bf16 autocast: the step computes in bf16 (fused, checkpointed and plain paths) over fp32 weights', async (t) => {
  const fp32 = await oneStep({ naive: true });
  for (const options of [{ naive: true }, {}, { checkpointing: true }]) {
    const mixed = await oneStep({ ...options, autocast: true });
    const what = JSON.stringify(options);
    // bf16 has 8 bits of mantissa: products round at ~4e-3 relative, so the loss and gradient move
    // by that order, and not by fp32 rounding (~1e-7) alone.
    const dLoss = Math.abs(mixed.r.loss - fp32.r.loss) / fp32.r.loss;
    t.true(dLoss < 5e-3 && dLoss > 1e-6, `${what}: relative loss change ${dLoss}`);
    t.true(Math.abs(mixed.r.gradNorm - fp32.r.gradNorm) < 2e-2 * fp32.r.gradNorm, `${what}: grad norm ${mixed.r.gradNorm} vs ${fp32.r.gradNorm}`);
    // AdamW moves weights by ~lr = 1e-3 either way; bf16 gradients flip the sign of a few tiny ones.
    const diff = maxErrors(mixed.p, fp32.p);
    t.true(diff.abs <= 2.1e-3, `${what}: max weight difference ${diff.abs}`);
  }
  const bf16 = await Model.load(TINY, { dtype: 'bfloat16' });
  const trainer = new Trainer(bf16);
  await t.throwsAsync(trainer.step([[segment(2)]], { lr: 1e-3, autocast: true }), { message: /bf16 autocast needs float32 master weights, but the model was loaded as BFloat16/ });
  trainer.dispose();
  bf16.dispose();
});

test('AdamW first step: every weight with a gradient moves by lr (m/sqrt(v) = sign(g))', async (t) => {
  const model = await Model.load(TINY);
  const trainer = new Trainer(model, { weightDecay: 0 });
  const before = trainer.parameter(Q);
  await trainer.step([[segment(4)]], { lr: 1e-3, clip: 0 });
  const after = trainer.parameter(Q);
  let moved = 0;
  for (let i = 0; i < before.length; i++) {
    const d = Math.abs(after[i] - before[i]);
    t.true(d <= 1e-3 * (1 + 1e-3) + 1e-7, `|delta| ${d} at ${i}`);
    if (Math.abs(d - 1e-3) < 2e-5) moved++;
  }
  t.true(moved > 0.9 * before.length, `${moved}/${before.length} weights moved by lr`);
  trainer.dispose();
  model.dispose();
});

test('optimizer state round-trips: a resumed trainer continues exactly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-opt-'));
  const model = await Model.load(TINY);
  const trainer = new Trainer(model);
  await trainer.step([[segment(5)]], { lr: 1e-3 });
  await trainer.step([[segment(6)]], { lr: 1e-3 });
  await model.save(path.join(dir, 'model'), { dtype: 'float32' });
  await trainer.saveOptimizer(dir);
  const continued = await trainer.step([[segment(7)]], { lr: 1e-3 });

  const model2 = await Model.load(path.join(dir, 'model'));
  const trainer2 = new Trainer(model2);
  await trainer2.loadOptimizer(dir);
  t.is(trainer2.optimizerStep, 2);
  const resumed = await trainer2.step([[segment(7)]], { lr: 1e-3 });
  t.is(resumed.loss, continued.loss);
  t.deepEqual(trainer2.parameter(Q), trainer.parameter(Q));
  for (const tr of [trainer, trainer2]) tr.dispose();
  for (const m of [model, model2]) m.dispose();
});

test('bad input to a step: ragged batches and out-of-range ids', async (t) => {
  const model = await Model.load(TINY);
  const trainer = new Trainer(model);
  await t.throwsAsync(trainer.step([[segment(1, 32), segment(2, 16)]], { lr: 1e-3 }), {
    message: 'Expected segments of 32 tokens but received one of 16',
  });
  await t.throwsAsync(trainer.step([[Int32Array.from([1, 2, 999])]], { lr: 1e-3 }), {
    message: 'Expected token ids in [0, 300) for tokens[2] but received 999',
  });
  trainer.dispose();
  model.dispose();
});
