/**
 * Our tables against tools/fixtures/rope_reference.py: HF's formulas run with torch.
 * Regenerate with `/usr/bin/python3 tools/fixtures/rope_reference.py > test/fixtures/rope/reference.json`.
 *
 * Two references per case. `invFreq64` is HF's formula in float64 rounded to fp32 once, which is
 * what we compute: it must agree to the ulp. `invFreq` is HF's own fp32 computation: pure powers
 * (none, linear, ntk, dynamic) and longrope agree to ~2e-7 relative (1-2 ulps: torch's fp32 pow
 * and HF's double rounding of 1/x), while HF's step-by-step fp32 YaRN and llama3 blends sit up
 * to ~5 ulps from the exact blend, so those get 6e-7.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';

import { computeRopeTables, ropeSpecFromHfConfig, yarnFindDimRange, type RopeSpec } from '../../src/rope';
import { compare } from './helpers';

interface Case {
  name: string;
  hfConfig: Record<string, unknown>;
  spec: RopeSpec;
  seqLen: number | null;
  expected: { invFreq: number[]; invFreq64: number[]; attentionFactor: number; yarnLow?: number; yarnHigh?: number };
}

const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'rope', 'reference.json'), 'utf8'),
) as { cases: Case[] };

const HF_TOLERANCE: Record<string, number> = { yarn: 6e-7, llama3: 6e-7 };

test('the fixture covers every method', (t) => {
  const methods = new Set(fixture.cases.map((c) => c.spec.method));
  t.deepEqual([...methods].sort(), ['dynamic-ntk', 'linear', 'llama3', 'longrope', 'none', 'ntk', 'yarn']);
  t.true(fixture.cases.length > 90);
});

for (const c of fixture.cases) {
  test(`reference: ${c.name}`, (t) => {
    const seqLen = c.seqLen ?? undefined;
    const fromSpec = computeRopeTables(c.spec, seqLen);
    const fromHf = computeRopeTables(ropeSpecFromHfConfig(c.hfConfig, { where: c.name }), seqLen);
    t.is(fromSpec.invFreq.length, c.expected.invFreq.length);

    const exact = compare(c.expected.invFreq64, fromSpec.invFreq);
    t.true(exact.ulps <= 1, `vs float64 reference: ${exact.ulps} ulps`);
    const hf = compare(c.expected.invFreq, fromSpec.invFreq);
    const tol = HF_TOLERANCE[c.spec.method] ?? 2.5e-7;
    t.log(`vs HF fp32: max abs ${hf.abs.toExponential(2)}, max rel ${hf.rel.toExponential(2)}, ${hf.ulps} ulps`);
    t.true(hf.rel <= tol, `vs HF fp32: max rel ${hf.rel} > ${tol}`);

    // Reading the HF config must give the very same tables as our spec.
    t.deepEqual(Array.from(fromHf.invFreq), Array.from(fromSpec.invFreq));
    t.true(Math.abs(fromSpec.attentionFactor - c.expected.attentionFactor) <= 1e-6);
    t.true(Math.abs(fromHf.attentionFactor - c.expected.attentionFactor) <= 1e-6);

    if (c.expected.yarnLow !== undefined) {
      const s = c.spec;
      const r = yarnFindDimRange(s.headDim, s.base, s.originalLength, s.betaFast, s.betaSlow, s.truncate);
      t.true(Math.abs(r.low - c.expected.yarnLow) < 1e-9 && Math.abs(r.high - (c.expected.yarnHigh ?? NaN)) < 1e-9);
    }
  });
}
