/**
 * `npm run reproduce:passkey -- --smoke` end to end (one step per fine-tune, one passkey trial,
 * lengths 1024 and 8192): the results files and what they hold, the second stage's RoPE built from
 * the committed 8x factors, a rerun that reuses every stage, and other settings refused.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { ROOT, runTsScript } from '../helpers/run-script';

const passkeyPath = (args: string[]) => runTsScript('scripts/passkey-path.ts', args);

test('the smoke passkey path fine-tunes twice, evaluates every method, reuses finished stages and refuses other settings', async (t) => {
  t.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-passkey-path-'));
  const out = path.join(dir, 'run');
  const first = passkeyPath(['--smoke', '--out', out]);
  t.is(first.status, 0, first.stderr + first.stdout);
  const r = JSON.parse(fs.readFileSync(path.join(out, 'results', 'passkey-path.json'), 'utf8'));
  t.deepEqual(Object.keys(r.stages), ['finetune-1', 'finetune-2', 'evaluate']);
  t.deepEqual([r.finetune.stage1.length, r.finetune.stage1.steps, r.finetune.stage2.length, r.finetune.stage2.steps], [2048, 1, 4096, 1]);
  t.deepEqual(r.methods.map((m: { id: string }) => m.id), ['stage1', 'stage2', 'stage2-pi', 'stage2-yarn']);

  // Stage 1 runs with the reproduction's committed 8x factors; stage 2 with YaRN's 2x on top of
  // them: the highest frequency kept, the lowest divided by 4096 / 2048 = 2 (YaRN's ramp).
  const spec8 = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'results', 'reproduce.json'), 'utf8')).search.bestSpec;
  const [s1, s2, pi, yarn] = r.methods.map((m: { spec: { longFactors: number[]; length: number } }) => m.spec);
  t.deepEqual(s1.longFactors, spec8.longFactors);
  const last = spec8.longFactors.length - 1;
  t.is(s2.longFactors[0], spec8.longFactors[0]);
  t.true(Math.abs(s2.longFactors[last] / spec8.longFactors[last] - 2) < 1e-9);
  t.deepEqual([s2.length, pi.length, yarn.length], [4096, 8192, 8192]);
  t.true(pi.longFactors.every((f: number, i: number) => Math.abs(f / s2.longFactors[i] - 2) < 1e-9));

  for (const m of r.methods) {
    for (const n of [1024, 8192]) {
      t.true(m.passkey[n].trials === 1 && m.passkey[n].accuracy >= 0 && m.passkey[n].accuracy <= 1, `${m.id} at ${n}`);
      t.true(Number.isFinite(m.ppl[n].ppl) && m.ppl[n].ppl > 1 && m.ppl[n].windows === 1, `${m.id} at ${n}`);
    }
  }
  // Each stage saved its own model, the second started from the first and trained on.
  const weights = (stage: string) => fs.readFileSync(path.join(out, stage, 'model.safetensors'));
  t.false(weights('1-finetune-2048').equals(weights('2-finetune-4096')));
  t.not(r.methods[0].ppl[1024].ppl, r.methods[1].ppl[1024].ppl);
  const md = fs.readFileSync(path.join(out, 'results', 'passkey-path.md'), 'utf8');
  t.regex(md, /npm run reproduce:passkey -- --smoke --out /);
  t.regex(md, /## Passkey accuracy\n\n\| \| 1024 \(4x\) \| 8192 \(32x\) \|/);

  const again = passkeyPath(['--smoke', '--out', out]);
  t.is(again.status, 0, again.stderr);
  t.is((again.stdout.match(/done earlier .*, reused/g) ?? []).length, 3, again.stdout);
  t.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'results', 'passkey-path.json'), 'utf8')).methods, r.methods);

  const other = passkeyPath(['--smoke', '--trials', '2', '--out', out]);
  t.is(other.status, 1);
  t.regex(other.stderr, /holds a run with other settings/);
  fs.rmSync(dir, { recursive: true, force: true });
});
