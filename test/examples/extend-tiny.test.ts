/**
 * examples/extend-tiny.ts, the README's training script, run as a user runs it (importing the
 * package by name) at its quick budgets, 4x: the exported folder holds the factors the search
 * chose and the fine-tuned weights, and a rerun resumes every step instead of repeating it.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { ROOT, runTsScript } from '../helpers/run-script';

const runExample = (out: string) => runTsScript('examples/extend-tiny.ts', [out], { EXAMPLE_QUICK: '1', EXAMPLE_TARGET: '512' });

test('the example searches, fine-tunes, evaluates and exports, and a rerun resumes every step', async (t) => {
  t.timeout(300_000);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-example-')), 'run');
  const first = runExample(out);
  t.is(first.status, 0, first.stderr + first.stdout);
  t.regex(first.stdout, /search: generation 1, best perplexity \d/);
  t.is((first.stdout.match(/^finetune: step \d+, loss \d/gm) ?? []).length, 2);
  for (const what of ['base model', 'fine-tuned']) {
    for (const n of [256, 512]) t.regex(first.stdout, new RegExp(`${what} at ${n}: perplexity \\d+\\.\\d+, passkey \\d+%`));
  }

  const best = JSON.parse(fs.readFileSync(path.join(out, 'search', 'best.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(out, 'exported', 'config.json'), 'utf8'));
  t.is(config.rope_scaling.rope_type, 'longrope');
  t.deepEqual(config.rope_scaling.long_factor, best.longFactors);
  t.is(config.max_position_embeddings, 512);
  t.is(config.original_max_position_embeddings, 256);
  const weights = (dir: string) => fs.readFileSync(path.join(dir, 'model.safetensors'));
  t.true(weights(path.join(out, 'exported')).equals(weights(path.join(out, 'finetuned'))), 'the export carries the fine-tuned weights');
  t.false(weights(path.join(out, 'finetuned')).equals(weights(path.join(ROOT, 'models', 'tiny-base'))), 'fine-tuning changed the weights');
  t.is(fs.readFileSync(path.join(out, 'finetuned', 'training', 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);

  const again = runExample(out);
  t.is(again.status, 0, again.stderr + again.stdout);
  t.notRegex(again.stdout, /search: generation/, 'the finished search is not rerun');
  t.notRegex(again.stdout, /finetune: step/, 'the finished fine-tune is not rerun');
  t.regex(again.stdout, /finetune: 2 steps/);
});
