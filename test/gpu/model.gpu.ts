// The model on CUDA against the fp32 PyTorch fixtures (test/fixtures/model): per-token NLL in
// bf16 (the CUDA default) within bf16 tolerance and in fp32 tightly, generation across
// LongRoPE's short/long switch, and one bf16-autocast training step against the CPU fp32 step.
import assert from 'assert/strict';
import fs from 'fs';
import { test } from 'node:test';
import path from 'path';

import { Model } from '../../src/model/model';
import { Trainer } from '../../src/train/trainer';
import { maxErrors } from '../helpers/reference-rope';
import { onGpu } from './setup';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'model');

interface FixtureRope { invFreq: number[]; baseInvFreq: number[]; attentionFactor: number; nHat: number }
function load(name: string) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8')) as {
    tokens: number[]; cases: { name: string; rope: FixtureRope; positionOffset: number; nll: number[] }[];
    switch: { prompt: number[]; newTokens: number[]; steps: { seqLen: number; factorSet: string }[] };
  };
}
const tables = (r: FixtureRope) => ({ invFreq: Float32Array.from(r.invFreq), baseInvFreq: Float32Array.from(r.baseInvFreq), attentionFactor: r.attentionFactor, nHat: r.nHat });
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0) / a.length;

for (const name of ['tiny-llama', 'tiny-mistral', 'tiny-longrope']) {
  test(`${name}: NLL on CUDA equals the fp32 fixtures (fp32 tightly, bf16 within bf16 tolerance)`, onGpu, async () => {
    const fx = load(name);
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const model = await Model.load(path.join(FIXTURES, name), { device: 'cuda', dtype });
      try {
        for (const c of fx.cases) {
          const nll = await model.nll(fx.tokens, { rope: tables(c.rope), positionOffset: c.positionOffset });
          const e = maxErrors(nll, c.nll).abs;
          const dMean = Math.abs(mean(nll) - mean(c.nll));
          if (dtype === 'float32') assert.ok(e < 1e-3, `${c.name} fp32: NLL max abs error ${e}`);
          else assert.ok(e < 0.15 && dMean < 0.02, `${c.name} bf16: NLL max abs error ${e}, mean ${dMean}`);
        }
      } finally {
        model.dispose();
      }
    }
  });
}

test('tiny-longrope: generation on CUDA across the original window switches factors like the reference', onGpu, async () => {
  const sw = load('tiny-longrope').switch;
  const model = await Model.load(path.join(FIXTURES, 'tiny-longrope'), { device: 'cuda', dtype: 'float32' });
  try {
    const r = await model.generate(sw.prompt, { maxNewTokens: sw.newTokens.length, stopTokens: [] });
    assert.deepEqual(r.tokens, sw.newTokens);
    assert.equal(r.switchedAt, sw.steps.find((s) => s.factorSet === 'long')!.seqLen);
  } finally {
    model.dispose();
  }
});

test('one bf16-autocast training step on CUDA matches the fp32 CPU step', onGpu, async () => {
  const segment = (seed: number, n = 32) => Int32Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) % 300);
  const dir = path.join(FIXTURES, 'tiny-llama');
  const step = async (device: 'cpu' | 'cuda') => {
    const model = await Model.load(dir, { device, dtype: 'float32' });
    const trainer = new Trainer(model);
    const r = await trainer.step([[segment(2), segment(3)]], { lr: 1e-3, clip: 1, autocast: device === 'cuda' });
    trainer.dispose();
    model.dispose();
    return r;
  };
  const cpu = await step('cpu');
  const cuda = await step('cuda');
  assert.ok(Math.abs(cuda.loss - cpu.loss) < 1e-2 * cpu.loss, `loss ${cuda.loss} vs ${cpu.loss}`);
  assert.ok(Math.abs(cuda.gradNorm - cpu.gradNorm) < 5e-2 * cpu.gradNorm, `grad norm ${cuda.gradNorm} vs ${cpu.gradNorm}`);
});
