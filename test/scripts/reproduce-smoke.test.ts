/**
 * `npm run reproduce -- --smoke` end to end (every stage at tiny budgets and lengths 256-1024,
 * ~50 s on 2 busy cores): the results files, the measurements in them, a rerun that reuses
 * every stage, and a rerun with other settings that is refused.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { runTsScript } from '../helpers/run-script';

const reproduce = (args: string[]) => runTsScript('scripts/reproduce.ts', args);

test('the smoke reproduction runs every stage, writes its report, reuses finished stages and refuses other settings', async (t) => {
  t.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-reproduce-'));
  const out = path.join(dir, 'run');
  const first = reproduce(['--smoke', '--out', out]);
  t.is(first.status, 0, first.stderr + first.stdout);
  for (const title of ['LongRoPE search at 512', 'base model (no fine-tuning)', 'Table 11', 'progressive extension', 'fine-tuned model', 'Table 10']) {
    t.true(first.stdout.split('\n').some((l) => l.startsWith('== ') && l.includes(title)), title);
  }
  const results = path.join(out, 'results');
  for (const f of ['reproduce.md', 'reproduce.json', 'reproduce-ppl.svg', 'reproduce-passkey.svg', 'reproduce-ppl.png', 'reproduce-passkey.png']) t.true(fs.existsSync(path.join(results, f)), f);
  t.is(fs.readFileSync(path.join(results, 'reproduce-ppl.png')).subarray(1, 4).toString(), 'PNG');
  const r = JSON.parse(fs.readFileSync(path.join(results, 'reproduce.json'), 'utf8'));
  t.deepEqual(r.lengths, [256, 512, 1024]);
  t.deepEqual(Object.keys(r.stages), ['search', 'base', 'ablation', 'progressive', 'tuned', 'recovery']);
  // base, PI, NTK, YaRN, LongRoPE; fine-tuned; secondary search, PI and YaRN as secondary extension.
  t.is(r.methods.length, 9);
  for (const m of r.methods) {
    for (const n of r.lengths) {
      t.true(Number.isFinite(m.ppl[n].ppl) && m.ppl[n].ppl > 1, `${m.id} at ${n}`);
      t.is(m.ppl[n].windows, 2);
      t.true(m.passkey[n].accuracy >= 0 && m.passkey[n].accuracy <= 1);
    }
  }
  const ppl = (id: string, n: number) => r.methods.find((m: { id: string }) => m.id === id).ppl[n].ppl;
  // What the tiny model is known to do (models/tiny-base/README.md): unscaled it degrades beyond
  // its window, and PI's compressed positions cost perplexity inside it.
  t.true(ppl('base', 1024) > 2 * ppl('base', 256));
  t.true(ppl('pi', 256) > ppl('base', 256));
  t.is(r.ablation[0].rows.length, 5);
  t.is(r.recovery.length, 5);
  t.true(fs.existsSync(path.join(out, 'progressive', 'model', 'config.json')));
  const md = fs.readFileSync(path.join(results, 'reproduce.md'), 'utf8');
  t.regex(md, /npm run reproduce -- --smoke --out /);
  t.regex(md, /## Table 11/);
  t.true(fs.readFileSync(path.join(results, 'reproduce-ppl.svg'), 'utf8').startsWith('<svg'));

  t.notRegex(md, /## What the run shows/);
  // What a person writes after reading the run survives the rerun that rewrites the page.
  fs.writeFileSync(path.join(results, 'reproduce-notes.md'), 'The smoke run shows nothing yet.\n');
  const again = reproduce(['--smoke', '--out', out]);
  t.is(again.status, 0, again.stderr);
  t.is((again.stdout.match(/done earlier .*, reused/g) ?? []).length, 6, again.stdout);
  t.notRegex(again.stdout, /generation \d+:/);
  t.regex(fs.readFileSync(path.join(results, 'reproduce.md'), 'utf8'), /## What the run shows[^\n]*\n\nThe smoke run shows nothing yet\.\n/);
  t.deepEqual(JSON.parse(fs.readFileSync(path.join(results, 'reproduce.json'), 'utf8')).methods, r.methods);

  const other = reproduce(['--smoke', '--trials', '2', '--out', out]);
  t.is(other.status, 1);
  t.regex(other.stderr, /holds a run with other settings \(passkeyTrials\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});
