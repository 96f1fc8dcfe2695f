/**
 * `launch` and the pieces around it that need no process group: the variables each child gets,
 * one failing child stopping the others, the environment parser's errors, the zigzag layout, and
 * a rendezvous with no rank 0 failing within its timeout.
 */
import test from 'ava';

import { launch } from '../../src/dist/launch';
import { readDistEnv } from '../../src/dist/env';
import { ProcessGroup } from '../../src/dist/process-group';
import { freePort } from '../../src/dist/launch';
import { takeRows, zigzagIndices } from '../../src/dist/zigzag';
import { native } from '../../src/native';

test('each child gets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT', async (t) => {
  const lines: string[] = [];
  const script = "const e = process.env; console.log([e.RANK, e.WORLD_SIZE, e.LOCAL_RANK, e.LOCAL_WORLD_SIZE, e.MASTER_ADDR, e.MASTER_PORT].join(' '))";
  const result = await launch({
    nproc: 3, command: process.execPath, args: ['-e', script], masterPort: 29123, stdio: 'pipe',
    onSpawn: (_, child) => child.stdout!.on('data', (d: Buffer) => lines.push(d.toString().trim())),
  });
  t.is(result.exitCode, 0);
  t.deepEqual(lines.sort(), ['0 3 0 3 127.0.0.1 29123', '1 3 1 3 127.0.0.1 29123', '2 3 2 3 127.0.0.1 29123']);
});

test('one child failing stops the others and fails the job with its code', async (t) => {
  const script = "if (process.env.RANK === '1') process.exit(7); setInterval(() => {}, 1000)";
  const start = Date.now();
  const result = await launch({ nproc: 3, command: process.execPath, args: ['-e', script], graceMs: 2000 });
  t.is(result.exitCode, 7);
  t.is(result.failedRank, 1);
  t.deepEqual(result.ranks.map((r) => r.signal), ['SIGTERM', null, 'SIGTERM']);
  t.true(Date.now() - start < 10_000);
});

test('a child killed by a signal fails the job with 128 + the signal number', async (t) => {
  const script = "if (process.env.RANK === '0') process.kill(process.pid, 'SIGKILL'); setInterval(() => {}, 1000)";
  const result = await launch({ nproc: 2, command: process.execPath, args: ['-e', script] });
  t.is(result.exitCode, 128 + 9);
  t.is(result.failedRank, 0);
});

test('readDistEnv: absent without WORLD_SIZE, defaults, and errors naming the variable', (t) => {
  t.is(readDistEnv({}), null);
  t.deepEqual(readDistEnv({ WORLD_SIZE: '4', RANK: '2' }), { rank: 2, worldSize: 4, localRank: 2, masterAddr: '127.0.0.1', masterPort: 29500 });
  t.throws(() => readDistEnv({ WORLD_SIZE: '4' }), {
    message: 'distributed environment: Expected an integer in [0, 3] for RANK but received undefined (the variable is not set)',
  });
  t.throws(() => readDistEnv({ WORLD_SIZE: '2', RANK: '2' }), {
    message: 'distributed environment: Expected an integer in [0, 1] for RANK but received "2" of type string',
  });
  t.throws(() => readDistEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: 'x' }), {
    message: 'distributed environment: Expected an integer in [1, 65535] for MASTER_PORT but received "x" of type string',
  });
});

test('zigzag layout: rank r holds chunks r and 2N-1-r; together the ranks hold every token once', (t) => {
  t.deepEqual(Array.from(zigzagIndices(8, 2, 0)), [0, 1, 6, 7]);
  t.deepEqual(Array.from(zigzagIndices(8, 2, 1)), [2, 3, 4, 5]);
  const all = [0, 1, 2, 3].flatMap((r) => Array.from(zigzagIndices(24, 4, r)));
  t.deepEqual(all.sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i));
  t.throws(() => zigzagIndices(10, 2, 0), { message: /Expected a positive multiple of 2 x worldSize \(4\) for seqLen but received 10/ });
  // [B = 2, S = 4, row 2] -> rows 3 and 0 of each batch.
  const data = Float32Array.from({ length: 16 }, (_, i) => i);
  t.deepEqual(Array.from(takeRows(data, 2, 4, 2, Int32Array.from([3, 0]))), [6, 7, 0, 1, 14, 15, 8, 9]);
});

(native().distInfo().gloo ? test : test.skip)('a rendezvous with no rank 0 fails within its timeout, naming the address', async (t) => {
  const port = await freePort();
  const start = Date.now();
  const err = await t.throwsAsync(ProcessGroup.init({ rank: 1, worldSize: 2, masterPort: port, timeoutMs: 1500 }));
  t.regex(err!.message, new RegExp(`rendezvous \\(rank 1 of 2\\) at 127\\.0\\.0\\.1:${port} failed`));
  t.true(Date.now() - start < 15_000, `${Date.now() - start} ms`);
  await t.throwsAsync(ProcessGroup.init({ rank: 2, worldSize: 2 }), { message: 'process group: Expected an integer in [0, 2) for rank but received 2 of type number' });
});
