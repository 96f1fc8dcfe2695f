/** Methods expressed as LongRoPE factors (lambda_i = inv_i / inv'_i), the search's seeds. */
import test from 'ava';

import {
  checkSearchConstraints,
  computeRopeTables,
  methodAsLongropeSpec,
  methodToLongropeFactors,
  type RopeSpec,
} from '../../src/rope';
import { compare } from './helpers';

const llama2 = { headDim: 128, base: 1e4, originalLength: 4096, length: 131072 } as const;

test('none gives all 1, linear gives exactly s everywhere', (t) => {
  t.true(methodToLongropeFactors({ method: 'none', ...llama2 }).every((v) => v === 1));
  t.true(methodToLongropeFactors({ method: 'linear', ...llama2 }).every((v) => v === 32));
  t.true(methodToLongropeFactors({ method: 'linear', ...llama2, factor: 2.5 }).every((v) => v === 2.5));
});

test('yarn factors are monotone, within [1, s], 1 and s at the ends', (t) => {
  for (const base of [1e4, 5e5]) {
    for (const s of [4, 16, 32, 64]) {
      const lambda = methodToLongropeFactors({ method: 'yarn', ...llama2, base, length: 4096 * s });
      t.is(lambda[0], 1);
      t.is(lambda[lambda.length - 1], s);
      t.notThrows(() => checkSearchConstraints(lambda, 'yarn'));
      t.true(lambda.every((v) => v >= 1 && v <= s));
    }
  }
});

test('ntk factors grow from 1 to s: (base\'/base)^(2i/d) with base\' = base * s^(d/(d-2))', (t) => {
  const lambda = methodToLongropeFactors({ method: 'ntk', ...llama2 });
  t.is(lambda[0], 1);
  t.true(Math.abs(lambda[63] - 32) < 1e-9);
  t.notThrows(() => checkSearchConstraints(lambda, 'ntk'));
});

test('dynamic ntk is all 1 while the sequence fits in L, NTK-like beyond', (t) => {
  const spec: RopeSpec = { method: 'dynamic-ntk', ...llama2, length: 16384 };
  t.true(methodToLongropeFactors(spec, 4096).every((v) => v === 1));
  const long = methodToLongropeFactors(spec, 16384);
  t.true(long[63] > 1);
  t.notThrows(() => checkSearchConstraints(long, 'dynamic'));
});

test('longrope returns its own short or long factors by length', (t) => {
  const longFactors = Array.from({ length: 64 }, (_, i) => 1 + i / 2);
  const shortFactors = Array.from({ length: 64 }, (_, i) => 1 + i / 100);
  const spec: RopeSpec = { method: 'longrope', ...llama2, longFactors, shortFactors };
  t.deepEqual(Array.from(methodToLongropeFactors(spec)), longFactors);
  t.deepEqual(Array.from(methodToLongropeFactors(spec, 4096)), shortFactors);
  t.deepEqual(Array.from(methodToLongropeFactors(spec, 4097)), longFactors);
});

const methods: [string, RopeSpec, number | undefined][] = [
  ['linear', { method: 'linear', ...llama2 }, undefined],
  ['ntk', { method: 'ntk', ...llama2, base: 5e5 }, undefined],
  ['dynamic-ntk at 3L', { method: 'dynamic-ntk', ...llama2, length: 16384 }, 12288],
  ['yarn', { method: 'yarn', ...llama2 }, undefined],
  ['yarn d64 base 5e5', { method: 'yarn', ...llama2, headDim: 64, base: 5e5, length: 32768 }, undefined],
  ['llama3', { method: 'llama3', headDim: 128, base: 5e5, originalLength: 8192, length: 131072 }, undefined],
  ['phi-3 dims (d 96)', { method: 'yarn', ...llama2, headDim: 96 }, undefined],
];

for (const [name, spec, seqLen] of methods) {
  test(`${name}: its factors fed back through longrope reproduce its invFreq`, (t) => {
    const direct = computeRopeTables(spec, seqLen);
    const viaLongrope = computeRopeTables(methodAsLongropeSpec(spec, seqLen), seqLen);
    // The factors are rounded to fp32 on the way (as HF does): at most 1 ulp apart.
    const d = compare(direct.invFreq, viaLongrope.invFreq);
    t.true(d.ulps <= 1, `${d.ulps} ulps`);
    t.is(viaLongrope.attentionFactor, direct.attentionFactor);
    t.deepEqual(Array.from(viaLongrope.baseInvFreq), Array.from(direct.baseInvFreq));
  });
}
