// CUDA RoPE kernels against the CPU references: fp32 and bf16, forward and backward, GQA,
// position offsets across nHat (LongRoPE's start tokens), both layouts.
import assert from 'assert/strict';
import { test } from 'node:test';

import { applyRotary, rotaryGradients } from '../../src/model/rotary';
import { native } from '../../src/native';
import { computeRopeTables } from '../../src/rope';
import { maxErrors, randomArray, randomTensor, roundToBf16 } from '../helpers/reference-rope';
import { assertCudaAddon, onGpu } from './setup';

const LONG = Array.from({ length: 64 }, (_, i) => 1 + (31 * i) / 63);
const tables = computeRopeTables({ method: 'longrope', headDim: 128, base: 10000, originalLength: 4096, length: 131072, longFactors: LONG, nHat: 4 });

test('the addon is a CUDA build that sees the GPU', onGpu, () => assertCudaAddon());

test('CUDA fused RoPE equals the CPU references (fp32, GQA, offsets across nHat, both layouts)', onGpu, async () => {
  for (const layout of ['half', 'interleaved'] as const) {
    for (const positionOffset of [0, 2, 5000]) {
      const q = randomTensor([2, 300, 8, 128], 1);
      const k = randomTensor([2, 300, 2, 128], 2);
      const options = { positionOffset, layout };
      const cuda = await applyRotary(q, k, tables, { ...options, device: 'cuda' });
      const cpu = await applyRotary(q, k, tables, { ...options, impl: 'naive' });
      assert.ok(maxErrors(cuda.q.data, cpu.q.data).abs < 1e-4, `${layout} offset ${positionOffset}: q`);
      assert.ok(maxErrors(cuda.k.data, cpu.k.data).abs < 1e-4, `${layout} offset ${positionOffset}: k`);
    }
  }
});

test('CUDA fused RoPE backward equals the CPU autograd reference (GQA, one gradient alone)', onGpu, async () => {
  const q = randomTensor([1, 64, 8, 128], 3);
  const k = randomTensor([1, 64, 2, 128], 4);
  const gq = randomArray(q.data.length, 5);
  const gk = randomArray(k.data.length, 6);
  const cuda = await rotaryGradients(q, k, tables, gq, gk, { device: 'cuda', positionOffset: 1 });
  const cpu = await rotaryGradients(q, k, tables, gq, gk, { impl: 'naive', positionOffset: 1 });
  assert.ok(maxErrors(cuda.gradQ, cpu.gradQ).abs < 1e-4);
  assert.ok(maxErrors(cuda.gradK, cpu.gradK).abs < 1e-4);
  const p = { invFreq: tables.invFreq, baseInvFreq: tables.baseInvFreq, attentionFactor: tables.attentionFactor, nHat: tables.nHat };
  const onlyQ = await native().ropeApply({ ...p, q, k, gradQ: gq, device: 'cuda', positionOffset: 1 });
  assert.ok(maxErrors(onlyQ.gradQ!, cpu.gradQ).abs < 1e-4);
  assert.equal(onlyQ.gradK?.length, k.data.length);
  assert.ok(onlyQ.gradK!.every((x) => x === 0));
});

test('CUDA bf16 matches the CPU fused bf16 path, forward and backward', onGpu, async () => {
  const q = randomTensor([1, 128, 4, 128], 7);
  const cuda = await applyRotary(q, q, tables, { device: 'cuda', dtype: 'bfloat16', positionOffset: 3 });
  const cpu = await applyRotary(q, q, tables, { dtype: 'bfloat16', positionOffset: 3 });
  assert.deepEqual(cuda.q.data, roundToBf16(cuda.q.data));
  assert.ok(maxErrors(cuda.q.data, cpu.q.data).rel <= 2 ** -7);
  const g = randomArray(q.data.length, 8);
  const gc = await rotaryGradients(q, q, tables, g, g, { device: 'cuda', dtype: 'bfloat16' });
  const gp = await rotaryGradients(q, q, tables, g, g, { dtype: 'bfloat16' });
  assert.ok(maxErrors(gc.gradQ, gp.gradQ).rel <= 2 ** -7);
});
