// The SDPA path (what CUDA runs; any device with libtorch >= 2.1, so CI's torch 2.13 build runs
// it on CPU) against a float64 reference: plain causal, GQA through enable_gqa, one decoded
// token, and the masked cases processed in query blocks (sdpaMaskElements forces many blocks).
// Skipped on Debian's libtorch 1.13, which has no SDPA; there the binding must say so.
import test from 'ava';

import { native } from '../../src/native';
import { maxErrors, randomTensor } from '../helpers/reference-rope';
import { referenceAttention } from './reference';

const [major, minor] = native().runtimeInfo().torchVersion.split('.').map(Number);
const hasSdpa = major > 2 || (major === 2 && minor >= 1);
const sdpaTest = hasSdpa ? test : test.skip;

const CASES = [
  { name: 'causal, MHA', b: 1, sq: 37, h: 2, kv: 2, d: 16, window: 0, offset: 0 },
  { name: 'causal, GQA 4:1, batch 2', b: 2, sq: 50, h: 4, kv: 1, d: 8, window: 0, offset: 0 },
  { name: 'sliding window 7, GQA 2:1', b: 1, sq: 61, h: 4, kv: 2, d: 8, window: 7, offset: 0 },
  { name: 'window covering every key (no mask)', b: 1, sq: 30, h: 2, kv: 1, d: 8, window: 30, offset: 0 },
  { name: 'KV cache: 12 new queries after 40 keys, no window', b: 1, sq: 12, h: 4, kv: 2, d: 8, window: 0, offset: 40 },
  { name: 'KV cache: 5 new queries after 40 keys, window 9', b: 1, sq: 5, h: 4, kv: 2, d: 8, window: 9, offset: 40 },
  { name: 'one decoded token, GQA', b: 1, sq: 1, h: 4, kv: 2, d: 16, window: 0, offset: 33 },
  { name: 'one decoded token, window 10', b: 1, sq: 1, h: 4, kv: 2, d: 16, window: 10, offset: 33 },
];

for (const c of CASES) {
  sdpaTest(`SDPA attention equals the float64 reference: ${c.name}`, async (t) => {
    const sk = c.offset + c.sq;
    const q = randomTensor([c.b, c.sq, c.h, c.d], 11);
    const k = randomTensor([c.b, sk, c.kv, c.d], 12);
    const v = randomTensor([c.b, sk, c.kv, c.d], 13);
    const want = referenceAttention(q, k, v, c.window, c.offset);
    // Default blocks (one block at these sizes) and tiny ones (one to a few queries per call).
    for (const sdpaMaskElements of [undefined, 64, 1]) {
      const out = await native().attention({ q, k, v, slidingWindow: c.window, queryOffset: c.offset, impl: 'sdpa', sdpaMaskElements });
      const e = maxErrors(out, want).abs;
      t.true(e < 1e-5, `mask elements ${sdpaMaskElements ?? 'default'}: max abs error ${e}`);
    }
  });
}

sdpaTest('SDPA attention backward through query blocks equals the naive autograd gradients', async (t) => {
  const q = randomTensor([1, 9, 4, 8], 14);
  const k = randomTensor([1, 29, 2, 8], 15);
  const v = randomTensor([1, 29, 2, 8], 16);
  const gradOut = randomTensor([1, 9, 4, 8], 17).data;
  const opts = { q, k, v, slidingWindow: 6, queryOffset: 20, gradOut };
  const sdpa = await native().attention({ ...opts, impl: 'sdpa', sdpaMaskElements: 40 });
  const naive = await native().attention({ ...opts, impl: 'naive' });
  for (const key of ['out', 'dq', 'dk', 'dv'] as const) {
    const e = maxErrors(sdpa[key], naive[key]).abs;
    t.true(e < 2e-5, `${key}: max abs error ${e}`);
  }
});

(hasSdpa ? test.skip : test)('without SDPA (libtorch < 2.1) impl sdpa is refused with a clear error', (t) => {
  const q = randomTensor([1, 4, 2, 8], 1);
  t.throws(() => native().attention({ q, k: q, v: q, impl: 'sdpa' }), {
    message: /^Expected 'tiled', 'naive' or 'auto' \(SDPA needs libtorch >= 2\.1; this addon has 1\.13\.\d+\) for attention options\.impl but received 'sdpa'/,
  });
});

test('attention gradOut with impl auto runs the model path and equals the naive gradients', async (t) => {
  const q = randomTensor([1, 13, 4, 8], 18);
  const k = randomTensor([1, 13, 2, 8], 19);
  const v = randomTensor([1, 13, 2, 8], 20);
  const gradOut = randomTensor([1, 13, 4, 8], 21).data;
  const opts = { q, k, v, slidingWindow: 5, gradOut };
  const auto = await native().attention({ ...opts, impl: 'auto' });
  const naive = await native().attention({ ...opts, impl: 'naive' });
  for (const key of ['out', 'dq', 'dk', 'dv'] as const) {
    const e = maxErrors(auto[key], naive[key]).abs;
    t.true(e < 2e-5, `${key}: max abs error ${e}`);
  }
});
