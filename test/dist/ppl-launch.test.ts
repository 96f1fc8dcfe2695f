/**
 * `longrope launch --nproc 2 -- longrope ppl ...` (CPU, Gloo): every window runs sequence-parallel
 * over the two processes, rank 0 alone writes and prints, and the perplexities equal the
 * one-process command's. A command that does not run spread over ranks refuses a launcher.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';

import test from 'ava';

import { native } from '../../src/native';
import { BYTE_TOKENIZER_DIR, EVAL_FIXTURES, TINY } from '../eval/helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'longrope.js');
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;
const run = promisify(execFile);

interface PplFile { ranks: number; results: { length: number; ppl: number; meanNll: number; tokens: number; windows: number }[] }

testGloo('ppl under launch --nproc 2 runs sequence-parallel and equals the one-process ppl', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-ppl-launch-'));
  const args = (output: string) => ['ppl', '--model', TINY, '--tokenizer', BYTE_TOKENIZER_DIR, '--data', path.join(EVAL_FIXTURES, 'docs', 'story.txt'),
    path.join(EVAL_FIXTURES, 'docs', 'docs.jsonl'), '--lengths', '32,63', '--stride', '16', '--rope', 'yarn', '--factor', '4', '--output', path.join(dir, output)];
  const one = await run(process.execPath, [BIN, ...args('one.json')]);
  const two = await run(process.execPath, [BIN, 'launch', '--nproc', '2', '--', ...args('two.json')]);
  // One table, printed by rank 0, saying how the job ran.
  t.is(two.stdout.split('\n').filter((l) => l.startsWith('perplexity of')).length, 1, two.stdout);
  t.regex(two.stdout, /sequence-parallel over 2 processes/);
  t.notRegex(one.stdout, /sequence-parallel/);
  const want = JSON.parse(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')) as PplFile;
  const got = JSON.parse(fs.readFileSync(path.join(dir, 'two.json'), 'utf8')) as PplFile;
  t.is(want.ranks, 1);
  t.is(got.ranks, 2);
  t.is(got.results.length, 2);
  for (const [i, w] of want.results.entries()) {
    const g = got.results[i];
    t.like(g, { length: w.length, tokens: w.tokens, windows: w.windows });
    t.true(w.windows > 1);
    const diff = Math.abs(g.meanNll - w.meanNll);
    t.log(`length ${w.length}: ppl ${w.ppl.toFixed(6)} (one process) vs ${g.ppl.toFixed(6)} (2 processes), |mean NLL difference| ${diff.toExponential(2)}`);
    t.true(diff < 1e-5, `length ${w.length}: ${diff}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test.serial('a command that does not split its work over ranks refuses a launcher (WORLD_SIZE > 1)', async (t) => {
  const err = await t.throwsAsync(run(process.execPath, [BIN, 'passkey', '--model', TINY, '--tokenizer', BYTE_TOKENIZER_DIR, '--lengths', '64'], {
    env: { ...process.env, WORLD_SIZE: '2', RANK: '0' },
  }));
  t.regex((err as Error & { stderr: string }).stderr, /Expected a single process for longrope passkey but received WORLD_SIZE=2/);
});
