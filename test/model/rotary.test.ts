import test from 'ava';

import { applyRotary, rotaryGradients, type RotaryOptions } from '../../src/model/rotary';
import { native } from '../../src/native';
import { computeRopeTables } from '../../src/rope';
import type { RopeSpec, RopeTables } from '../../src/rope/types';
import { maxErrors, randomArray, randomTensor, referenceRope, roundToBf16 } from '../helpers/reference-rope';

const HEAD_DIM = 64;

/** The rotary parameters of `tables` as the native ropeApply takes them. */
function nativeParams(tables: RopeTables) {
  return { invFreq: tables.invFreq, baseInvFreq: tables.baseInvFreq, attentionFactor: tables.attentionFactor, nHat: tables.nHat };
}
const L = 256;
const LONG: number[] = Array.from({ length: HEAD_DIM / 2 }, (_, i) => 1 + (7 * i) / (HEAD_DIM / 2 - 1));

// Every method at a target of 8x the original window, and LongRoPE with start tokens.
const SPECS: Record<string, RopeSpec> = {
  none: { method: 'none', headDim: HEAD_DIM, base: 10000, originalLength: L, length: L },
  linear: { method: 'linear', headDim: HEAD_DIM, base: 10000, originalLength: L, length: 8 * L },
  ntk: { method: 'ntk', headDim: HEAD_DIM, base: 10000, originalLength: L, length: 8 * L },
  'dynamic-ntk': { method: 'dynamic-ntk', headDim: HEAD_DIM, base: 10000, originalLength: L, length: 8 * L },
  yarn: { method: 'yarn', headDim: HEAD_DIM, base: 10000, originalLength: L, length: 8 * L },
  llama3: { method: 'llama3', headDim: HEAD_DIM, base: 500000, originalLength: L, length: 8 * L, factor: 8 },
  longrope: { method: 'longrope', headDim: HEAD_DIM, base: 10000, originalLength: L, length: 8 * L, longFactors: LONG, nHat: 8 },
};

function positionsFor(seq: number, options: RotaryOptions): number[] {
  if (options.positions) return Array.from(options.positions);
  return Array.from({ length: seq }, (_, i) => (options.positionOffset ?? 0) + i);
}

async function checkAgainstReferences(t: import('ava').ExecutionContext, tables: RopeTables, options: RotaryOptions,
  shapes: { q: number[]; k: number[] }, seed: number) {
  const q = randomTensor(shapes.q, seed);
  const k = randomTensor(shapes.k, seed + 1);
  const positions = positionsFor(shapes.q[1], options);
  const layout = options.layout ?? 'half';
  const fused = await applyRotary(q, k, tables, options);
  const naive = await applyRotary(q, k, tables, { ...options, impl: 'naive' });
  for (const [name, tensor, got] of [['q', q, fused.q], ['k', k, fused.k]] as const) {
    const expected = referenceRope(tensor, tables, positions, layout);
    const vsRef = maxErrors(got.data, expected);
    const vsNaive = maxErrors(got.data, (name === 'q' ? naive.q : naive.k).data);
    t.true(vsRef.abs < 2e-5, `${name}: fused vs TS reference max abs error ${vsRef.abs}`);
    t.true(vsNaive.abs < 2e-5, `${name}: fused vs libtorch rotate_half max abs error ${vsNaive.abs}`);
  }
}

for (const [name, spec] of Object.entries(SPECS)) {
  test(`fused RoPE matches both references: ${name}, offset 0 and 1000`, async (t) => {
    const tables = computeRopeTables(spec);
    await checkAgainstReferences(t, tables, {}, { q: [2, 24, 4, HEAD_DIM], k: [2, 24, 2, HEAD_DIM] }, 11);
    await checkAgainstReferences(t, tables, { positionOffset: 1000 }, { q: [1, 9, 3, HEAD_DIM], k: [1, 9, 1, HEAD_DIM] }, 12);
  });
}

test('LongRoPE start tokens: positions below nHat keep the base rotation and no attention factor', async (t) => {
  const tables = computeRopeTables(SPECS.longrope);
  t.true(tables.nHat === 8 && tables.attentionFactor > 1);
  const q = randomTensor([1, 16, 2, HEAD_DIM], 5);
  const base: RopeTables = { ...tables, invFreq: tables.baseInvFreq, attentionFactor: 1, nHat: 0 };
  const withStart = await applyRotary(q, q, tables);
  const plain = await applyRotary(q, q, base);
  const rowSize = 2 * HEAD_DIM;
  // The first 8 positions equal plain RoPE exactly; later ones differ (scaled and multiplied).
  t.deepEqual(withStart.q.data.subarray(0, 8 * rowSize), plain.q.data.subarray(0, 8 * rowSize));
  t.notDeepEqual(withStart.q.data.subarray(8 * rowSize), plain.q.data.subarray(8 * rowSize));
  await checkAgainstReferences(t, tables, { positionOffset: 3 }, { q: [1, 12, 2, HEAD_DIM], k: [1, 12, 2, HEAD_DIM] }, 6);
});

test('hand-checked values: d = 4, invFreq [1, 0.01], position 1', async (t) => {
  // Pairs (x0, x2) = (1, 3) turn by 1 rad, (x1, x3) = (2, 4) by 0.01 rad:
  // x0' = cos1 - 3 sin1 = -1.984111, x2' = 3 cos1 + sin1 = 2.462377,
  // x1' = 2 cos.01 - 4 sin.01 = 1.959901, x3' = 4 cos.01 + 2 sin.01 = 4.019800.
  const tables: RopeTables = { invFreq: new Float32Array([1, 0.01]), baseInvFreq: new Float32Array([1, 0.01]), attentionFactor: 1, nHat: 0 };
  const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 1, 1, 4] };
  const r = await applyRotary(x, x, tables, { positionOffset: 1 });
  const want = [-1.984111, 1.959901, 2.462377, 4.0198];
  want.forEach((w, i) => t.true(Math.abs(r.q.data[i] - w) < 2e-6, `element ${i}: ${r.q.data[i]} vs ${w}`));
  // Attention factor 2 with nHat 1: position 0 is untouched, position 1 doubles the rotation.
  const scaled: RopeTables = { ...tables, attentionFactor: 2, nHat: 1 };
  const two = { data: new Float32Array([1, 2, 3, 4, 1, 2, 3, 4]), shape: [1, 2, 1, 4] };
  const r2 = await applyRotary(two, two, scaled);
  t.deepEqual(Array.from(r2.q.data.subarray(0, 4)), [1, 2, 3, 4]);
  want.forEach((w, i) => t.true(Math.abs(r2.q.data[4 + i] - 2 * w) < 4e-6));
});

test('interleaved layout and partial rotary dims match the reference', async (t) => {
  const tables = computeRopeTables({ ...SPECS.yarn, headDim: 16 });
  await checkAgainstReferences(t, tables, { layout: 'interleaved', positionOffset: 7 }, { q: [1, 10, 2, 16], k: [1, 10, 1, 16] }, 21);
  // 8 frequencies rotate the first 16 of 24 dims; the last 8 pass through unchanged.
  const q = randomTensor([1, 5, 2, 24], 22);
  const r = await applyRotary(q, q, tables, { positionOffset: 2 });
  const naive = await applyRotary(q, q, tables, { positionOffset: 2, impl: 'naive' });
  t.true(maxErrors(r.q.data, naive.q.data).abs < 2e-5);
  for (let row = 0; row < 10; row++) {
    t.deepEqual(r.q.data.subarray(row * 24 + 16, row * 24 + 24), q.data.subarray(row * 24 + 16, row * 24 + 24));
  }
});

test('explicit positions equal the offset form, and arbitrary positions match the reference', async (t) => {
  const tables = computeRopeTables(SPECS.longrope);
  const q = randomTensor([1, 6, 2, HEAD_DIM], 31);
  const byOffset = await applyRotary(q, q, tables, { positionOffset: 40 });
  const byList = await applyRotary(q, q, tables, { positions: Int32Array.from([40, 41, 42, 43, 44, 45]) });
  t.deepEqual(byOffset.q.data, byList.q.data);
  // A zigzag shard (sequence parallelism hands each rank such position lists), nHat straddled.
  await checkAgainstReferences(t, tables, { positions: Int32Array.from([0, 1, 2, 3, 500, 501, 502, 9]) },
    { q: [1, 8, 2, HEAD_DIM], k: [1, 8, 2, HEAD_DIM] }, 32);
});

test('backward: gradients equal the inverse rotation and the libtorch autograd reference', async (t) => {
  for (const spec of [SPECS.longrope, SPECS.yarn]) {
    const tables = computeRopeTables(spec);
    const q = randomTensor([2, 12, 4, HEAD_DIM], 41);
    const k = randomTensor([2, 12, 2, HEAD_DIM], 42);
    const gq = randomArray(q.data.length, 43);
    const gk = randomArray(k.data.length, 44);
    const options: RotaryOptions = { positionOffset: 3 };
    const fused = await rotaryGradients(q, k, tables, gq, gk, options);
    const naive = await rotaryGradients(q, k, tables, gq, gk, { ...options, impl: 'naive' });
    const positions = positionsFor(12, options);
    const wantQ = referenceRope({ data: gq, shape: q.shape }, tables, positions, 'half', true);
    const wantK = referenceRope({ data: gk, shape: k.shape }, tables, positions, 'half', true);
    t.true(maxErrors(fused.gradQ, wantQ).abs < 2e-5);
    t.true(maxErrors(fused.gradK, wantK).abs < 2e-5);
    t.true(maxErrors(fused.gradQ, naive.gradQ).abs < 2e-5);
    t.true(maxErrors(fused.gradK, naive.gradK).abs < 2e-5);
  }
});

test('backward with one output off the loss (GQA): the fused op gives each input its own shape', async (t) => {
  // Only q's output (or only k's) reaches the loss; the other arrives undefined in the fused
  // op's backward and must become zeros of that input's shape (q has 4 heads, k 2).
  const tables = computeRopeTables(SPECS.longrope);
  const q = randomTensor([1, 10, 4, HEAD_DIM], 45);
  const k = randomTensor([1, 10, 2, HEAD_DIM], 46);
  const positions = positionsFor(10, {});
  const gq = randomArray(q.data.length, 47);
  const gk = randomArray(k.data.length, 48);
  const onlyQ = await native().ropeApply({ ...nativeParams(tables), q, k, gradQ: gq });
  t.is(onlyQ.gradQ?.length, q.data.length);
  t.true(maxErrors(onlyQ.gradQ!, referenceRope({ data: gq, shape: q.shape }, tables, positions, 'half', true)).abs < 2e-5);
  // Zeros (the rotation of a zero gradient may give -0).
  t.is(onlyQ.gradK?.length, k.data.length);
  t.true(onlyQ.gradK!.every((x) => x === 0));
  const onlyK = await native().ropeApply({ ...nativeParams(tables), q, k, gradK: gk });
  t.is(onlyK.gradQ?.length, q.data.length);
  t.true(onlyK.gradQ!.every((x) => x === 0));
  t.true(maxErrors(onlyK.gradK!, referenceRope({ data: gk, shape: k.shape }, tables, positions, 'half', true)).abs < 2e-5);
});

test('bfloat16: fused output is the fp32 result of the bf16 inputs, rounded once', async (t) => {
  const tables = computeRopeTables(SPECS.longrope);
  const q = randomTensor([1, 16, 4, HEAD_DIM], 51);
  const k = randomTensor([1, 16, 2, HEAD_DIM], 52);
  const r = await applyRotary(q, k, tables, { dtype: 'bfloat16', positionOffset: 100 });
  const positions = positionsFor(16, { positionOffset: 100 });
  const wantQ = referenceRope({ data: roundToBf16(q.data), shape: q.shape }, tables, positions);
  const err = maxErrors(r.q.data, wantQ);
  // One bf16 rounding of the output: relative error at most 2^-8.
  t.true(err.rel <= 2 ** -8, `bf16 max relative error ${err.rel}`);
  t.deepEqual(r.q.data, roundToBf16(r.q.data), 'outputs are bf16 values');
});

test('bad input: clear errors naming the field', async (t) => {
  const tables = computeRopeTables(SPECS.none);
  const q = randomTensor([1, 4, 2, HEAD_DIM], 61);
  await t.throwsAsync(applyRotary({ data: q.data, shape: [1, 4, 2, 63] }, q, tables), {
    message: `Expected a Float32Array of 504 elements for q.data but received one of ${q.data.length}`,
  });
  await t.throwsAsync(applyRotary(q, randomTensor([1, 3, 2, HEAD_DIM], 1), tables), {
    message: 'Expected [1, 4, kvHeads, 64] (batch, seq and headDim of q) for k.shape but received an array of length 4',
  });
  await t.throwsAsync(applyRotary(q, q, tables, { positionOffset: -1 }), {
    message: 'Expected a non-negative integer for options.positionOffset but received -1 of type number',
  });
  await t.throwsAsync(applyRotary(q, q, computeRopeTables({ ...SPECS.none, headDim: 128 })), {
    message: 'Expected at most headDim/2 = 32 frequencies for tables.invFreq but received 64 of type number',
  });
  await t.throwsAsync(applyRotary(q, q, tables, { layout: 'zigzag' as never }), {
    message: "Expected 'half' or 'interleaved' for layout but received 'zigzag'",
  });
  await t.throwsAsync(applyRotary(q, q, { ...tables, invFreq: new Float32Array(32).fill(NaN) }), {
    message: 'Expected a finite number greater than 0 for tables.invFreq[0] but received NaN of type number',
  });
});
