/**
 * The exported model loads in transformers and scores tokens as our runtime does: per-token NLL
 * at a length beyond the original window (long factors) and within it (short factors), within
 * fp32 tolerance. The real peer: transformers 5.18 on PyTorch, loading our config.json.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { exportModel } from '../../src/model/export';
import { Model } from '../../src/model/model';
import type { RopeSpec } from '../../src/rope/types';
import { peerPython } from './python';

const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');
const SCRIPT = path.join(__dirname, '..', '..', 'tools', 'peer', 'hf_nll.py');
const peer = peerPython();

const SPEC: RopeSpec = {
  method: 'longrope', headDim: 16, base: 10000, originalLength: 64, length: 256,
  longFactors: [1, 1.2, 1.5, 2, 2.6, 3.1, 3.9, 4.4], shortFactors: [1, 1, 1.05, 1.1, 1.1, 1.2, 1.3, 1.4],
};

const tokens = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37 + seed * 101 + ((i * i) >> 3)) % 290)));

(peer.python ? test : test.skip)(`an exported longrope model gives transformers the NLL our runtime computes (long and short factors)${peer.python ? '' : ` [skipped: ${peer.reason}]`}`, async (t) => {
  t.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-export-'));
  const out = path.join(dir, 'exported');
  const r = exportModel(TINY, SPEC, out, { search: 'test' });
  t.deepEqual(r.warnings, []);
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  t.like(config, { max_position_embeddings: 256, original_max_position_embeddings: 64, longrope_provenance: { search: 'test' } });
  t.like(config.rope_scaling, { rope_type: 'longrope', long_factor: SPEC.longFactors, short_factor: SPEC.shortFactors });
  // sqrt(1 + ln 4 / ln 64) written explicitly.
  t.true(Math.abs(config.rope_scaling.attention_factor - Math.sqrt(1 + Math.log(4) / Math.log(64))) < 1e-12);

  const inputs = [tokens(256, 1), tokens(48, 2), tokens(200, 3)];
  const hf = JSON.parse(execFileSync(peer.python!, [SCRIPT, out], { input: JSON.stringify({ inputs }), encoding: 'utf8', maxBuffer: 1 << 26 })) as { nll: number[][]; transformers: string };
  t.log(`transformers ${hf.transformers}`);
  const model = await Model.load(out);
  try {
    t.deepEqual(model.config.rope.longFactors, SPEC.longFactors);
    for (let k = 0; k < inputs.length; k++) {
      const ours = await model.nll(inputs[k]);
      t.is(ours.length, hf.nll[k].length);
      let max = 0;
      for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i] - hf.nll[k][i]));
      t.log(`length ${inputs[k].length}: max |ours - transformers| = ${max.toExponential(2)}`);
      t.true(max < 2e-4, `length ${inputs[k].length}: ${max}`);
    }
    // The short and long factors really differ in effect (the test would not notice a swap otherwise).
    const asLong = await model.nll(inputs[1], { rope: { ...SPEC, shortFactors: SPEC.longFactors } });
    const diff = Math.max(...Array.from(asLong, (v, i) => Math.abs(v - hf.nll[1][i])));
    t.true(diff > 1e-3, `long factors at 48 tokens differ from transformers' short-factor NLL by ${diff}`);
  } finally {
    model.dispose();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('export: nHat > 0 warns and is kept as n_hat; a non-empty --out is refused', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-export-'));
  const r = exportModel(TINY, { ...SPEC, nHat: 4 }, path.join(dir, 'a'));
  t.is(r.warnings.length, 1);
  t.regex(r.warnings[0], /nHat = 4 start tokens cannot be expressed in rope_scaling/);
  t.is((r.config.rope_scaling as Record<string, unknown>).n_hat, 4);
  t.throws(() => exportModel(TINY, SPEC, path.join(dir, 'a')), { message: /Expected an empty or new folder for --out but received ".*a", which holds files/ });
  fs.rmSync(dir, { recursive: true, force: true });
});
