/** Values checked by hand (the arithmetic is in the comments), independent of any fixture. */
import test from 'ava';

import { baseInvFreq, computeRopeTables, methodToLongropeFactors, yarnFindDimRange, type RopeSpec } from '../../src/rope';

const f32 = (xs: number[]): number[] => Array.from(Float32Array.from(xs));

test('d=4, base 1e4: inv = [1e4^0, 1e4^-0.5] = [1, 0.01]', (t) => {
  t.deepEqual(Array.from(baseInvFreq(4, 1e4)), f32([1, 0.01]));
  const none = computeRopeTables({ method: 'none', headDim: 4, base: 1e4, originalLength: 1024, length: 1024 });
  t.deepEqual(Array.from(none.invFreq), f32([1, 0.01]));
  t.is(none.attentionFactor, 1);
  t.is(none.nHat, 0);
});

test('linear s=4: inv / 4 = [0.25, 0.0025]', (t) => {
  const r = computeRopeTables({ method: 'linear', headDim: 4, base: 1e4, originalLength: 1024, length: 4096 });
  t.deepEqual(Array.from(r.invFreq), f32([0.25, 0.0025]));
  t.deepEqual(Array.from(r.baseInvFreq), f32([1, 0.01]));
  t.is(r.attentionFactor, 1);
});

test('static ntk d=4 s=4: base\' = 1e4 * 4^(4/2) = 1.6e5, inv = [1, 1/sqrt(1.6e5) = 1/400]', (t) => {
  // NTK keeps the highest frequency and interpolates the lowest by exactly s (here 1/400 vs 1/100).
  const r = computeRopeTables({ method: 'ntk', headDim: 4, base: 1e4, originalLength: 1024, length: 4096 });
  t.deepEqual(Array.from(r.invFreq), f32([1, 0.0025]));
});

test('dynamic ntk d=4 s=2 L=1024: original up to L, then base\' = 1e4 * (2n/L - 1)^2', (t) => {
  const spec: RopeSpec = { method: 'dynamic-ntk', headDim: 4, base: 1e4, originalLength: 1024, length: 2048 };
  t.deepEqual(Array.from(computeRopeTables(spec, 1000).invFreq), f32([1, 0.01]));
  t.deepEqual(Array.from(computeRopeTables(spec, 1024).invFreq), f32([1, 0.01]));
  // n = 2048: k = 2*2048/1024 - 1 = 3, base' = 9e4, inv_1 = 1/300.
  t.deepEqual(Array.from(computeRopeTables(spec, 2048).invFreq), f32([1, 1 / 300]));
  // Default seqLen is spec.length.
  t.deepEqual(Array.from(computeRopeTables(spec).invFreq), f32([1, 1 / 300]));
});

test('yarn: LLaMA-2 (d 128, base 1e4, L 4096) ramp bounds are 20 and 46', (t) => {
  // find_dim(32) = 128 ln(4096 / (64 pi)) / (2 ln 1e4) = 20.94 -> floor 20
  // find_dim(1)  = 128 ln(4096 / (2 pi)) / (2 ln 1e4)  = 45.03 -> ceil 46
  t.deepEqual(yarnFindDimRange(128, 1e4, 4096, 32, 1), { low: 20, high: 46 });
  const raw = yarnFindDimRange(128, 1e4, 4096, 32, 1, false);
  t.true(Math.abs(raw.low - 20.94) < 0.01 && Math.abs(raw.high - 45.03) < 0.01);
});

test('yarn s=16 on LLaMA-2: lambda 1 below dim 20, 16 from 46, 1/(0.5/16 + 0.5) at the middle (33)', (t) => {
  const spec: RopeSpec = { method: 'yarn', headDim: 128, base: 1e4, originalLength: 4096, length: 65536 };
  const lambda = methodToLongropeFactors(spec);
  for (let i = 0; i <= 20; i++) t.is(lambda[i], 1);
  for (let i = 46; i < 64; i++) t.is(lambda[i], 16);
  // ramp(33) = (33 - 20) / 26 = 0.5: inv = base * (0.5/16 + 0.5) -> lambda = 1 / 0.53125 = 1.88235...
  t.true(Math.abs(lambda[33] - 1 / 0.53125) < 1e-12);
  // Attention factor 0.1 ln 16 + 1 = 1.27726.
  t.true(Math.abs(computeRopeTables(spec).attentionFactor - (0.1 * Math.log(16) + 1)) < 1e-15);
});

test('yarn attention: 0.1 ln 32 + 1 = 1.3466; with mscale 1 / mscale_all_dim 0.707 the ratio', (t) => {
  const spec: RopeSpec = { method: 'yarn', headDim: 128, base: 1e4, originalLength: 4096, length: 131072 };
  t.true(Math.abs(computeRopeTables(spec).attentionFactor - 1.3465735902799727) < 1e-12);
  const ds = computeRopeTables({ ...spec, mscale: 1, mscaleAllDim: 0.707 }).attentionFactor;
  const m = (k: number): number => 0.1 * k * Math.log(32) + 1;
  t.true(Math.abs(ds - m(1) / m(0.707)) < 1e-12);
  t.is(computeRopeTables({ ...spec, attentionFactor: 1.25 }).attentionFactor, 1.25);
});

test('llama3 (Llama 3.1: d 128, base 5e5, L 8192, s 8): dims 0-28 kept, 35-63 divided by 8, 29-34 smoothed', (t) => {
  // wavelength 2 pi 5e5^(i/64) < L/4 = 2048 for i <= 28 (i=28: 1958), > L = 8192 for i >= 35 (i=35: 8216).
  const spec: RopeSpec = {
    method: 'llama3', headDim: 128, base: 5e5, originalLength: 8192, length: 131072, factor: 8,
    lowFreqFactor: 1, highFreqFactor: 4,
  };
  const lambda = methodToLongropeFactors(spec);
  for (let i = 0; i <= 28; i++) t.is(lambda[i], 1);
  for (let i = 35; i < 64; i++) t.is(lambda[i], 8);
  for (let i = 29; i <= 34; i++) t.true(lambda[i] > 1 && lambda[i] < 8 && lambda[i] > lambda[i - 1]);
  t.is(computeRopeTables(spec).attentionFactor, 1);
});

test('longrope attention for s=32, L=4096: sqrt(1 + ln 32 / ln 4096) = sqrt(1 + 5/12) = sqrt(17/12)', (t) => {
  const half = 64;
  const spec: RopeSpec = {
    method: 'longrope', headDim: 128, base: 1e4, originalLength: 4096, length: 131072,
    longFactors: new Array<number>(half).fill(2), nHat: 4,
  };
  const r = computeRopeTables(spec);
  t.true(Math.abs(r.attentionFactor - Math.sqrt(17 / 12)) < 1e-15);
  t.is(r.nHat, 4);
  // All factors 2: every frequency halves (exact in fp32: 2 is a power of two).
  t.deepEqual(Array.from(r.invFreq), Array.from(r.baseInvFreq).map((v) => v / 2));
  // Short factors (default all 1) while the sequence fits in L; the attention factor stays.
  const short = computeRopeTables(spec, 4096);
  t.deepEqual(Array.from(short.invFreq), Array.from(short.baseInvFreq));
  t.is(short.attentionFactor, r.attentionFactor);
  // s <= 1 (a short-window spec): no attention correction.
  t.is(computeRopeTables({ ...spec, length: 4096 }).attentionFactor, 1);
  t.is(computeRopeTables({ ...spec, length: 2048 }).attentionFactor, 1);
});
