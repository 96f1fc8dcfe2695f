// Attention on CUDA (the model's path: SDPA, masked cases in query blocks) against the CPU tiled
// kernel and the float64-free naive path: GQA, KV-cache offsets, a sliding window, and S > 65,536.
import assert from 'assert/strict';
import { test } from 'node:test';

import { native } from '../../src/native';
import { maxErrors, randomTensor } from '../helpers/reference-rope';
import { onGpu } from './setup';

async function compare(shape: { b: number; sq: number; h: number; kv: number; d: number; window: number; offset: number }, tol: number) {
  const sk = shape.offset + shape.sq;
  const q = randomTensor([shape.b, shape.sq, shape.h, shape.d], 1);
  const k = randomTensor([shape.b, sk, shape.kv, shape.d], 2);
  const v = randomTensor([shape.b, sk, shape.kv, shape.d], 3);
  const opts = { q, k, v, slidingWindow: shape.window, queryOffset: shape.offset };
  const cuda = await native().attention({ ...opts, device: 'cuda' });  // default impl on CUDA: auto
  const cpu = await native().attention({ ...opts, impl: 'tiled' });
  const e = maxErrors(cuda, cpu).abs;
  assert.ok(e < tol, `${JSON.stringify(shape)}: max abs error ${e}`);
}

test('CUDA attention equals the CPU kernel: causal, GQA, offsets, sliding window, one token', onGpu, async () => {
  await compare({ b: 2, sq: 333, h: 8, kv: 2, d: 128, window: 0, offset: 0 }, 1e-4);
  await compare({ b: 1, sq: 200, h: 8, kv: 2, d: 64, window: 64, offset: 0 }, 1e-4);
  await compare({ b: 1, sq: 77, h: 4, kv: 4, d: 128, window: 0, offset: 1000 }, 1e-4);
  await compare({ b: 1, sq: 77, h: 8, kv: 1, d: 128, window: 500, offset: 1000 }, 1e-4);
  await compare({ b: 1, sq: 1, h: 8, kv: 2, d: 128, window: 0, offset: 4095 }, 1e-4);
});

test('CUDA attention beyond 65,536 positions (grid limits, 32-bit mask offsets) equals the CPU kernel', onGpu, async () => {
  // Causal over 70,000 keys, and a windowed chunk of queries after a long cache (the blocked mask path).
  await compare({ b: 1, sq: 70000, h: 2, kv: 1, d: 64, window: 0, offset: 0 }, 1e-4);
  await compare({ b: 1, sq: 4096, h: 2, kv: 1, d: 64, window: 8192, offset: 66000 }, 1e-4);
});

test('CUDA attention gradients equal the naive autograd on CPU (gradOut on the device)', onGpu, async () => {
  const q = randomTensor([1, 96, 4, 64], 4);
  const k = randomTensor([1, 96, 2, 64], 5);
  const v = randomTensor([1, 96, 2, 64], 6);
  const gradOut = randomTensor([1, 96, 4, 64], 7).data;
  const opts = { q, k, v, slidingWindow: 40, gradOut };
  const cuda = await native().attention({ ...opts, device: 'cuda' });
  const cpu = await native().attention({ ...opts, impl: 'naive' });
  for (const key of ['out', 'dq', 'dk', 'dv'] as const) {
    const e = maxErrors(cuda[key], cpu[key]).abs;
    assert.ok(e < 1e-4, `${key}: max abs error ${e}`);
  }
});

test('the tiled CPU kernel is refused on CUDA with a clear error', onGpu, () => {
  const q = randomTensor([1, 4, 2, 8], 1);
  assert.throws(() => native().attention({ q, k: q, v: q, device: 'cuda', impl: 'tiled' }), /the tiled kernel is CPU-only/);
});
