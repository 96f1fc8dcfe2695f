/**
 * `longrope launch --nproc 2 -- longrope finetune ...` (CPU, Gloo): every step runs
 * sequence-parallel; rank 0 alone writes the run; when a rank is killed (SIGKILL) after a
 * checkpoint the job fails, and it resumes under launch; the loss curve and final weights equal
 * the one-process run's within fp32 tolerance.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';

import test from 'ava';

import { readSafetensorsHeader } from '../../src/model/safetensors';
import { native } from '../../src/native';
import { args, BIN, killAfterCheckpoint, metrics, setup } from '../train/finetune-helpers';
import { rankPid } from './rank-pid';

const run = promisify(execFile);
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;

/** The float32 tensors of a model directory saved in fp32, by name. */
function weights(dir: string): Map<string, Float32Array> {
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  return new Map(readSafetensorsHeader(file).entries.map((e) => {
    if (e.dtype !== 'F32') throw new Error(`${file}: ${e.name} is ${e.dtype}, not F32`);
    const b = bytes.subarray(e.begin, e.end);
    return [e.name, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))];
  }));
}

testGloo('finetune under launch --nproc 2: sequence-parallel steps, rank 0 writes, a killed rank fails the job, it resumes, equals one process', async (t) => {
  t.timeout(300_000);
  const s = setup();
  // 8 steps, a checkpoint every 2 (the shared argv has 40 and 5).
  const argv = (out: string, extra: string[] = []) => args(s, out, extra).map((a) => (a === '40' ? '8' : a === '5' ? '2' : a));
  const straight = path.join(s.dir, 'straight');
  await run(process.execPath, argv(straight));

  const launched = path.join(s.dir, 'launched');
  const launchArgv = (extra: string[] = []) => [BIN, 'launch', '--nproc', '2', '--', ...argv(launched, extra).slice(1)];
  // Rank 0 halts after checkpoint 4 and is killed; the launcher stops rank 1 and fails the job.
  const killed = await killAfterCheckpoint(launchArgv(), launched, 4, (pid) => rankPid(pid, 0));
  t.is(killed.code, 128 + 9, 'the job fails with the killed rank\'s signal');
  t.is(metrics(launched).length, 4, 'killed right after checkpoint 4');
  const { stdout } = await run(process.execPath, launchArgv(['--resume']));
  // One result line: rank 0's.
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  t.is(lines.length, 1, stdout);
  t.like(JSON.parse(lines[0]), { resumedFrom: 4, steps: 8 });

  const a = metrics(straight);
  const b = metrics(launched);
  t.deepEqual(b.map((m) => m.step), a.map((m) => m.step));
  let lossErr = 0;
  for (let i = 0; i < a.length; i++) {
    lossErr = Math.max(lossErr, Math.abs(a[i].loss - b[i].loss));
    t.is(a[i].lr, b[i].lr);
  }
  const w1 = weights(path.join(straight, 'training', 'checkpoints', 'step-000008', 'model'));
  const w2 = weights(path.join(launched, 'training', 'checkpoints', 'step-000008', 'model'));
  const w0 = weights(s.model);
  let err = 0;
  let moved = 0;
  t.deepEqual([...w2.keys()].sort(), [...w1.keys()].sort());
  for (const [name, x1] of w1) {
    const x2 = w2.get(name)!;
    const x0 = w0.get(name)!;
    for (let i = 0; i < x1.length; i++) {
      err = Math.max(err, Math.abs(x1[i] - x2[i]));
      moved = Math.max(moved, Math.abs(x1[i] - x0[i]));
    }
  }
  t.log(`8 steps: max |loss difference| ${lossErr.toExponential(2)} (final loss ${a[a.length - 1].loss.toFixed(4)}), max weight difference ${err.toExponential(2)}; training moved weights by up to ${moved.toExponential(2)}`);
  t.true(lossErr < 1e-4, `losses differ by ${lossErr}`);
  // AdamW with eps 1e-8 nearly takes sign(g): a near-zero gradient element may round to the
  // other sign in another summation order, so weights get a looser bound than the losses.
  t.true(err < 1e-4, `weights differ by ${err}`);
  t.true(moved > 1e-3, `training moved the weights by ${moved} only`);
  t.true(fs.existsSync(path.join(launched, 'model.safetensors')));
  fs.rmSync(s.dir, { recursive: true, force: true });
});
