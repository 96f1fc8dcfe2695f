// The fine-tune pipeline end to end through the CLI: kill -9 in the middle of a run, resume, and
// the loss curve continues exactly as in an uninterrupted run; refusals that protect a run.
import test from 'ava';
import { execFile, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';

import { args, killAfterCheckpoint, metrics, setup } from './finetune-helpers';

const run = promisify(execFile);

test('kill -9 mid-run, resume: the loss curve continues as if uninterrupted', async (t) => {
  t.timeout(240_000);
  const s = setup();
  const straight = path.join(s.dir, 'straight');
  await run(process.execPath, args(s, straight));

  const killed = path.join(s.dir, 'killed');
  await killAfterCheckpoint(args(s, killed), killed, 10);
  t.is(metrics(killed).length, 10, 'killed right after checkpoint 10');

  const { stdout } = await run(process.execPath, args(s, killed, ['--resume']));
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  t.is(result.resumedFrom, 10);
  const a = metrics(straight);
  const b = metrics(killed);
  t.deepEqual(b.map((m) => m.step), a.map((m) => m.step));
  for (let i = 0; i < a.length; i++) {
    t.true(Math.abs(a[i].loss - b[i].loss) <= 1e-6 * Math.max(1, a[i].loss), `step ${a[i].step}: ${a[i].loss} vs ${b[i].loss}`);
    t.is(a[i].lr, b[i].lr);
  }
  // The final models are the same bytes, both in the base model's bf16.
  t.deepEqual(fs.readFileSync(path.join(killed, 'model.safetensors')), fs.readFileSync(path.join(straight, 'model.safetensors')));
  t.is(JSON.parse(fs.readFileSync(path.join(killed, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  // Resuming the finished run does nothing and says so: the model file is not rewritten.
  const mtime = fs.statSync(path.join(killed, 'model.safetensors')).mtimeMs;
  const again = await run(process.execPath, args(s, killed, ['--resume']).filter((a) => a !== '--json'));
  t.regex(again.stdout, /already finished \(40 steps\); nothing to do/);
  t.is(fs.statSync(path.join(killed, 'model.safetensors')).mtimeMs, mtime);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('user files are streamed: across epochs, through the shuffle buffer, a killed run resumes exactly', async (t) => {
  t.timeout(240_000);
  const s = setup();
  // Two files, ~2 KB of byte tokens: about 30 segments of 62 per epoch, so 40 steps of 2 see
  // nearly three epochs and resume points fall inside them.
  const words = ['rain', 'falls', 'on', 'the', 'plain', 'in', 'spain', 'mainly'];
  const text = Array.from({ length: 220 }, (_, i) => words[(i * 5 + (i >> 2)) % words.length]).join(' ');
  const lines = Array.from({ length: 12 }, (_, i) => Array.from({ length: 16 }, (_, j) => words[(i + j * 3) % words.length]).join(' '));
  const txt = path.join(s.dir, 'a.txt');
  const jsonl = path.join(s.dir, 'b.jsonl');
  fs.writeFileSync(txt, text);
  fs.writeFileSync(jsonl, lines.map((l) => JSON.stringify({ text: l })).join('\n') + '\n');
  const perEpoch = Math.floor((text.length + lines.reduce((n, l) => n + l.length, 0) + lines.length) / 62);
  t.true(perEpoch >= 25 && perEpoch <= 35, `${perEpoch} segments per epoch`);
  const argv = (out: string, extra: string[] = []) => args({ model: s.model, data: txt }, out, ['--shuffle-buffer', '8', ...extra])
    .map((a) => (a === txt ? [txt, jsonl] : [a])).flat();

  const straight = path.join(s.dir, 'straight');
  await run(process.execPath, argv(straight));
  const killed = path.join(s.dir, 'killed');
  await killAfterCheckpoint(argv(killed), killed, 10);
  t.is(metrics(killed).length, 10, 'killed right after checkpoint 10');
  const other = await run(process.execPath, argv(killed, ['--resume']).map((a) => (a === '8' ? '16' : a))).catch((e) => e);
  t.regex(other.stderr, /different shuffleBuffer \(saved 8, requested 16\)/);
  const { stdout } = await run(process.execPath, argv(killed, ['--resume']));
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  t.is(result.resumedFrom, 10);

  const a = metrics(straight);
  const b = metrics(killed);
  t.deepEqual(b.map((m) => m.step), a.map((m) => m.step));
  for (let i = 0; i < a.length; i++) t.true(Math.abs(a[i].loss - b[i].loss) <= 1e-6 * Math.max(1, a[i].loss), `step ${a[i].step}: ${a[i].loss} vs ${b[i].loss}`);
  t.deepEqual(fs.readFileSync(path.join(killed, 'model.safetensors')), fs.readFileSync(path.join(straight, 'model.safetensors')));
  // Both runs end where 80 segments of this data leave the streamed order.
  for (const out of [straight, killed]) {
    const state = JSON.parse(fs.readFileSync(path.join(out, 'training', 'checkpoints', 'step-000040', 'state.json'), 'utf8'));
    t.deepEqual(state.dataPosition, { epoch: Math.floor(80 / perEpoch), index: 80 % perEpoch, seed: 0 });
  }
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('a run is never overwritten: no --resume over a run, or a resume with other settings, is refused', async (t) => {
  t.timeout(120_000);
  const s = setup();
  const out = path.join(s.dir, 'run');
  await run(process.execPath, args(s, out).map((a) => (a === '40' ? '5' : a)));
  const weights = fs.readFileSync(path.join(out, 'model.safetensors'));
  const again = await run(process.execPath, args(s, out).map((a) => (a === '40' ? '5' : a))).catch((e) => e);
  t.regex(again.stderr, /already holds a training run; pass --resume/);
  const other = await run(process.execPath, args(s, out, ['--resume']).map((a) => (a === '64' ? '48' : a === '40' ? '5' : a))).catch((e) => e);
  t.regex(other.stderr, /run\.json: the run to resume has a different length \(saved 64, requested 48\); nothing was overwritten/);
  t.deepEqual(fs.readFileSync(path.join(out, 'model.safetensors')), weights);
  const empty = path.join(s.dir, 'tiny.txt');
  fs.writeFileSync(empty, 'too short');
  const short = await run(process.execPath, args({ ...s, data: empty }, path.join(s.dir, 'short'))).catch((e) => e);
  t.regex(short.stderr, /Expected at least 62 tokens of training text for length 64 but received 9\b/);
  // Bad data fails before anything is written, so the corrected run is not refused as a resume.
  t.false(fs.existsSync(path.join(s.dir, 'short')));
  const missing = path.join(s.dir, 'missing.txt');
  const gone = await run(process.execPath, [...args(s, path.join(s.dir, 'gone')), '--data', s.data, missing]).catch((e) => e);
  t.regex(gone.stderr, /Expected an existing file or folder for path but received ".*missing\.txt"/);
  t.false(fs.existsSync(path.join(s.dir, 'gone')));
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('--out never loses anything: not the input model, not a folder of other files; one process per run', async (t) => {
  t.timeout(180_000);
  const s = setup();
  const weights = fs.readFileSync(path.join(s.model, 'model.safetensors'));
  const five = (out: string, extra: string[] = []) => args(s, out, extra).map((a) => (a === '40' ? '5' : a));
  for (const out of [s.model, path.join(s.model, 'sub')]) {
    const r = await run(process.execPath, five(out)).catch((e) => e);
    t.regex(r.stderr, /Expected a folder apart from --model \(.*\) for --out but received ".*", which (is|is inside) it/);
  }
  t.deepEqual(fs.readFileSync(path.join(s.model, 'model.safetensors')), weights);
  t.false(fs.existsSync(path.join(s.model, 'sub')));
  // A folder holding other files (say, another model) is refused; an empty one is fine.
  const other = path.join(s.dir, 'other');
  fs.cpSync(s.model, other, { recursive: true });
  const r = await run(process.execPath, five(other)).catch((e) => e);
  t.regex(r.stderr, /Expected an empty or new folder, or an earlier run of these settings for --out but received ".*other", which holds config\.json, expected\.json, model\.safetensors, \.\.\. \(nothing was overwritten\)/);
  const proc = await run(process.execPath, five('/proc/self/longrope-run')).catch((e) => e);
  t.regex(proc.stderr, /Expected a path on a regular file system for --out/);
  // A run directory held by a live process is refused; a stale lock (dead process) is taken over.
  const out = path.join(s.dir, 'run');
  await killAfterCheckpoint(five(out, ['--checkpoint-every', '1']), out, 2);
  const lock = path.join(out, 'training', 'lock.json');
  t.true(fs.existsSync(lock), 'the killed run left its lock behind');
  fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname() }));
  const busy = await run(process.execPath, five(out, ['--resume'])).catch((e) => e);
  t.regex(busy.stderr, new RegExp(`is in use by process ${process.pid}`));
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('exit', r));
  fs.writeFileSync(lock, JSON.stringify({ pid: dead.pid, host: os.hostname() }));
  const resumed = await run(process.execPath, five(out, ['--resume']));
  t.is(JSON.parse(resumed.stdout.trim().split('\n').pop()!).resumedFrom, 2);
  t.false(fs.existsSync(lock), 'released at the end');
  fs.rmSync(s.dir, { recursive: true, force: true });
});
