/** The evaluation commands end to end on tiny-llama (byte tokenizer), and the shared --rope parser. */
import fs from 'fs';
import path from 'path';

import test from 'ava';
import { Command } from 'commander';

import { registerBenchTasksCommand } from '../../src/cli/bench-tasks-command';
import { registerPasskeyCommand } from '../../src/cli/passkey-command';
import { registerPplCommand } from '../../src/cli/ppl-command';
import { registerReportCommand } from '../../src/cli/report-command';
import { parseLengths, parseRopeArg, ropeLabel } from '../../src/cli/rope-arg';
import type { RopeSpec } from '../../src/rope/types';
import { BYTE_TOKENIZER_DIR, EVAL_FIXTURES, tempDir, TINY } from './helpers';

/** Runs `longrope <args>` with only our commands registered; returns what it printed. */
async function run(args: string[]): Promise<string> {
  const program = new Command('longrope').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerPplCommand(program);
  registerPasskeyCommand(program);
  registerBenchTasksCommand(program);
  registerReportCommand(program);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

const model: RopeSpec = { method: 'none', headDim: 16, base: 10000, originalLength: 64, length: 64 };
const common = ['--model', TINY, '--tokenizer', BYTE_TOKENIZER_DIR];

test('--rope: method names with --factor, JSON files, errors naming the flag', (t) => {
  t.is(parseRopeArg(undefined, undefined, model), model);
  t.deepEqual(parseRopeArg('yarn', '4', model), {
    method: 'yarn', headDim: 16, base: 10000, originalLength: 64, length: 256, factor: 4, betaFast: 32, betaSlow: 1, truncate: true,
  });
  t.like(parseRopeArg('none', undefined, model), { method: 'none', length: 64 });
  t.is(ropeLabel('yarn', parseRopeArg('yarn', '4', model)), 'yarn x4');
  t.is(ropeLabel(undefined, model), 'model');
  t.throws(() => parseRopeArg('yarn', undefined, model), { message: 'Expected a scale factor for --factor (needed by --rope yarn) but received nothing' });
  t.throws(() => parseRopeArg('linear', '-2', model), { message: 'Expected a finite number greater than 0 for --factor but received "-2" of type string' });
  t.throws(() => parseRopeArg('rotary', '2', model), { message: 'Expected one of none, linear, ntk, dynamic-ntk, yarn, llama3 or a JSON file for --rope but received "rotary" of type string' });
  t.throws(() => parseRopeArg(undefined, '2', model), { message: 'Expected a method for --rope (--factor scales it) but received nothing' });
  const dir = tempDir();
  const w = (name: string, v: unknown) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof v === 'string' ? v : JSON.stringify(v));
    return f;
  };
  t.like(parseRopeArg(w('spec.json', { method: 'linear', factor: 2, length: 128 }), undefined, model), { method: 'linear', factor: 2, length: 128, headDim: 16 });
  t.like(parseRopeArg(w('rs.json', { rope_type: 'linear', factor: 2 }), undefined, model), { method: 'linear', factor: 2, originalLength: 64, length: 128 });
  t.like(parseRopeArg(w('cfg.json', { max_position_embeddings: 256, original_max_position_embeddings: 64, rope_scaling: { rope_type: 'yarn', factor: 4 } }), undefined, model), { method: 'yarn', length: 256 });
  const bad = w('bad.json', { method: 'linear', factor: -1 });
  t.throws(() => parseRopeArg(bad, undefined, model), { message: `--rope ${bad}: Expected a finite number greater than 0 for factor but received -1 of type number` });
  const odd = w('odd.json', { hello: 1 });
  t.throws(() => parseRopeArg(odd, undefined, model), { message: /^--rope .*odd\.json: Expected a RopeSpec \(with "method"\)/ });
  t.throws(() => parseRopeArg(w('x.json', '{'), undefined, model), { message: /^--rope .*x\.json: Expected valid JSON for --rope .*x\.json but received a syntax error/ });
  t.throws(() => parseRopeArg(w('y.json', { method: 'linear', factor: 2 }), '2', model), { message: 'Expected no --factor with a --rope file (the file gives the scaling) but received one' });
  t.deepEqual(parseLengths('256,4k'), [256, 4096]);
  t.throws(() => parseLengths('256,abc'), { message: 'Expected a positive integer for --lengths but received "abc" of type string' });
});

test('ppl: JSON results per length; --rope yarn --factor; --output feeds report', async (t) => {
  const dir = tempDir();
  const data = [path.join(EVAL_FIXTURES, 'docs', 'docs.jsonl'), path.join(EVAL_FIXTURES, 'docs', 'story.txt')];
  const out = JSON.parse(await run(['ppl', ...common, '--data', ...data, '--lengths', '32,64', '--stride', '16', '--json', '--output', path.join(dir, 'ppl.json')]));
  t.like(out, { kind: 'perplexity', method: 'model', stride: 16, truncate: false });
  t.deepEqual(out.results.map((r: { length: number }) => r.length), [32, 64]);
  for (const r of out.results) {
    t.true(r.ppl > 1 && Number.isFinite(r.ppl));
    t.is(r.documents + r.skipped, 5);
    t.true(r.windows >= r.documents && r.tokens > 0);
  }
  const yarn = JSON.parse(await run(['ppl', ...common, '--data', data[1], '--lengths', '128', '--rope', 'yarn', '--factor', '4', '--truncate', '--json', '--output', path.join(dir, 'yarn.json')]));
  t.like(yarn, { method: 'yarn x4', rope: { method: 'yarn', length: 256 }, truncate: true });
  t.like(yarn.results[0], { windows: 1, tokens: 127, documents: 1 });
  const table = await run(['ppl', ...common, '--data', data[1], '--lengths', '64', '--samples', '1']);
  t.regex(table, /^perplexity of .* \(model\), stride 256\nlength +ppl +tokens +windows +documents +skipped\n64 +\d+\.\d{4} +189 +3 +1 +0$/);
  const rep = await run(['report', path.join(dir, 'ppl.json'), path.join(dir, 'yarn.json'), '--out', path.join(dir, 'report')]);
  t.true(rep.includes('report.md'));
  t.true(fs.readFileSync(path.join(dir, 'report', 'report.md'), 'utf8').includes('| yarn x4 | - | - | '));
  t.true(fs.existsSync(path.join(dir, 'report', 'ppl.png')));
});

test('passkey and bench-tasks: JSON and tables', async (t) => {
  const pk = JSON.parse(await run(['passkey', ...common, '--lengths', '260', '--trials', '2', '--json']));
  t.like(pk, { kind: 'passkey', method: 'model' });
  t.like(pk.results[0], { length: 260, trials: 2 });
  t.is(pk.results[0].details.length, 2);
  const args = ['bench-tasks', ...common, '--task', `arc_challenge=${path.join(EVAL_FIXTURES, 'arc')}`, `truthfulqa_mc2=${path.join(EVAL_FIXTURES, 'truthfulqa', 'mc_task.json')}`,
    '--shots', '1', '--limit', '2', '--max-length', '512'];
  const tasks = JSON.parse(await run([...args, '--json']));
  t.like(tasks, { kind: 'tasks', method: 'model', limit: 2 });
  t.deepEqual(tasks.results.map((r: { task: string; shots: number; n: number }) => [r.task, r.shots, r.n]), [['arc_challenge', 1, 2], ['truthfulqa_mc2', 0, 2]]);
  t.is(tasks.results[0].items, undefined, 'per-question details only with --details');
  t.true(tasks.results[1].metrics.mc2 > 0 && tasks.results[1].metrics.mc2 < 1);
  t.regex(await run(args), /^task +shots +n +acc +acc_norm +mc2\narc_challenge +1 +2 +\d\.\d{4} +\d\.\d{4} +-\ntruthfulqa_mc2 +0 +2 +- +- +\d\.\d{4}$/);
});

test('command errors are thrown with the flag named', async (t) => {
  await t.throwsAsync(run(['ppl', ...common, '--data', 'x.txt', '--lengths', '0']), { message: 'Expected a positive integer for --lengths but received "0" of type string' });
  await t.throwsAsync(run(['bench-tasks', ...common, '--task', 'arc_challenge']), { message: 'Expected NAME=PATH for --task but received "arc_challenge" of type string' });
  await t.throwsAsync(run(['bench-tasks', ...common, '--task', `gsm8k=${EVAL_FIXTURES}`]), { message: /^Expected one of arc_challenge, hellaswag, mmlu, truthfulqa_mc2 for the task name/ });
  await t.throwsAsync(run(['passkey', ...common, '--lengths', '100']), { message: 'Expected a passkey length of at least 248 tokens (the prompt without filler) but received 100' });
  await t.throwsAsync(run(['passkey', ...common, '--lengths', '300', '--rope', 'yarn']), { message: 'Expected a scale factor for --factor (needed by --rope yarn) but received nothing' });
});
