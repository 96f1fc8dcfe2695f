// The tiled CPU attention (online softmax) against a plain TypeScript float64 reference and the
// libtorch full-matrix path, on small shapes: GQA, sliding window, query offsets (KV cache),
// tiles smaller than the sequence so diagonal, window-edge and skipped blocks all occur.
import test from 'ava';

import { native } from '../../src/native';
import { maxErrors, randomTensor } from '../helpers/reference-rope';
import { referenceAttention } from './reference';

const CASES = [
  { name: 'causal, MHA', b: 1, sq: 37, h: 2, kv: 2, d: 16, window: 0, offset: 0, tile: 16 },
  { name: 'causal, GQA 4:1, batch 2', b: 2, sq: 50, h: 4, kv: 1, d: 8, window: 0, offset: 0, tile: 16 },
  { name: 'sliding window 7, GQA 2:1', b: 1, sq: 61, h: 4, kv: 2, d: 8, window: 7, offset: 0, tile: 16 },
  { name: 'window wider than a tile', b: 1, sq: 70, h: 2, kv: 1, d: 8, window: 20, offset: 0, tile: 16 },
  { name: 'KV cache: 5 new queries after 40 cached keys, window 9', b: 1, sq: 5, h: 4, kv: 2, d: 8, window: 9, offset: 40, tile: 16 },
  { name: 'one query (decoding step), GQA', b: 1, sq: 1, h: 4, kv: 2, d: 16, window: 0, offset: 33, tile: 16 },
  // The model's head size: full 6-row micro-tiles, several query blocks and partial key panels.
  { name: 'head size 64, 150 queries, GQA 2:1', b: 1, sq: 150, h: 4, kv: 2, d: 64, window: 0, offset: 0, tile: 64 },
  { name: 'head size 72 (a partial column panel), window 100', b: 1, sq: 130, h: 2, kv: 2, d: 72, window: 100, offset: 0, tile: 48 },
  // head_dim % 8 != 0: the ATen-tiled fallback (the kernel on CPUs without AVX2 and off x86-64).
  { name: 'head size 12 (ATen-tiled fallback), GQA 2:1', b: 1, sq: 40, h: 2, kv: 1, d: 12, window: 0, offset: 0, tile: 16 },
];

for (const c of CASES) {
  test(`tiled attention equals the float64 reference and the libtorch path: ${c.name}`, async (t) => {
    const sk = c.offset + c.sq;
    const q = randomTensor([c.b, c.sq, c.h, c.d], 1);
    const k = randomTensor([c.b, sk, c.kv, c.d], 2);
    const v = randomTensor([c.b, sk, c.kv, c.d], 3);
    const opts = { q, k, v, slidingWindow: c.window, queryOffset: c.offset, tile: c.tile };
    const tiled = await native().attention({ ...opts, impl: 'tiled' });
    const naive = await native().attention({ ...opts, impl: 'naive' });
    const want = referenceAttention(q, k, v, c.window, c.offset);
    t.true(maxErrors(tiled, want).abs < 1e-5, `tiled vs reference ${maxErrors(tiled, want).abs}`);
    t.true(maxErrors(naive, want).abs < 1e-5, `naive vs reference ${maxErrors(naive, want).abs}`);
  });
}

for (const c of CASES.filter((x) => x.offset === 0)) {
  test(`tiled attention backward equals the libtorch autograd gradients: ${c.name}`, async (t) => {
    const q = randomTensor([c.b, c.sq, c.h, c.d], 4);
    const k = randomTensor([c.b, c.sq, c.kv, c.d], 5);
    const v = randomTensor([c.b, c.sq, c.kv, c.d], 6);
    const gradOut = randomTensor([c.b, c.sq, c.h, c.d], 7).data;
    const opts = { q, k, v, slidingWindow: c.window, tile: c.tile, gradOut };
    const tiled = await native().attention({ ...opts, impl: 'tiled' });
    const naive = await native().attention({ ...opts, impl: 'naive' });
    for (const key of ['out', 'dq', 'dk', 'dv'] as const) {
      const e = maxErrors(tiled[key], naive[key]);
      t.true(e.abs < 2e-5, `${key}: max abs error ${e.abs}`);
    }
  });
}

// The AVX backward (attention_flash_cpu_grad.cc) where its tiling shows: 64-key tiles and 60-query
// blocks with partial ends, several tiles per head, GQA, windows, a query offset, and the
// non-causal mode ring attention runs its off-diagonal blocks in (any number of keys; the
// ATen-tiled forward with the grouped-layout backward). One (batch, KV head) pair on 2+ threads
// takes the per-key-tile schedule with per-thread dQ buffers; 2 or 4 pairs the per-pair one.
const GRAD_CASES = [
  { name: 'length 64 (one key tile), MHA', b: 1, sq: 64, sk: 64, h: 2, kv: 2, d: 64, window: 0, offset: 0, causal: true },
  { name: 'length 200, GQA 2:1, batch 2', b: 2, sq: 200, sk: 200, h: 4, kv: 2, d: 64, window: 0, offset: 0, causal: true },
  { name: 'length 257, one KV head for 4 query heads', b: 1, sq: 257, sk: 257, h: 4, kv: 1, d: 32, window: 0, offset: 0, causal: true },
  { name: 'length 190, window 90, one KV head', b: 1, sq: 190, sk: 190, h: 2, kv: 1, d: 64, window: 90, offset: 0, causal: true },
  { name: '70 queries after 50 cached keys, window 33', b: 1, sq: 70, sk: 120, h: 2, kv: 1, d: 16, window: 33, offset: 50, causal: true },
  { name: 'non-causal: 90 queries, 150 keys, GQA 3:1', b: 1, sq: 90, sk: 150, h: 3, kv: 1, d: 64, window: 0, offset: 0, causal: false },
  { name: 'non-causal: 130 queries, 40 keys, batch 2', b: 2, sq: 130, sk: 40, h: 2, kv: 2, d: 32, window: 0, offset: 0, causal: false },
];

for (const c of GRAD_CASES) {
  test(`tiled attention backward equals the libtorch autograd gradients: ${c.name}`, async (t) => {
    const q = randomTensor([c.b, c.sq, c.h, c.d], 11);
    const k = randomTensor([c.b, c.sk, c.kv, c.d], 12);
    const v = randomTensor([c.b, c.sk, c.kv, c.d], 13);
    const gradOut = randomTensor([c.b, c.sq, c.h, c.d], 14).data;
    const opts = { q, k, v, slidingWindow: c.window, queryOffset: c.offset, causal: c.causal, gradOut };
    const tiled = await native().attention({ ...opts, impl: 'tiled' });
    const naive = await native().attention({ ...opts, impl: 'naive' });
    const aten = await native().attention({ ...opts, impl: 'tiled', avx: false });  // the BLAS-tile backward
    for (const key of ['out', 'dq', 'dk', 'dv'] as const) {
      const e = maxErrors(tiled[key], naive[key]);
      t.true(e.abs < 5e-5, `${key}: max abs error ${e.abs} against autograd`);
      const f = maxErrors(tiled[key], aten[key]);
      t.true(f.abs < 5e-5, `${key}: max abs error ${f.abs} against the ATen-tiled kernels`);
    }
  });
}

test('attention: non-causal mode is refused by the implementations without it', (t) => {
  const q = randomTensor([1, 4, 2, 8], 1);
  const k = randomTensor([1, 6, 2, 8], 2);
  t.throws(() => native().attention({ q, k, v: k, causal: false, impl: 'auto' }), {
    message: /^Expected true with impl 'auto' \(non-causal attention: 'tiled' or 'naive'\) for attention options.causal but received false/,
  });
});

test('attention: shape mismatches are refused with a clear error', (t) => {
  const q = randomTensor([1, 4, 3, 8], 1);
  const k = randomTensor([1, 4, 2, 8], 2);
  t.throws(() => native().attention({ q, k, v: k }), {
    message: 'Expected q [B, Sq, H, D] and k = v [B, queryOffset + Sq, KV, D] with H a multiple of KV for attention options ' +
      'but received q [1, 4, 3, 8], k [1, 4, 2, 8], v [1, 4, 2, 8], queryOffset 0',
  });
});
