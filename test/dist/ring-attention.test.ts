/**
 * Ring attention (zigzag) over 2 and 4 CPU processes (Gloo) against the single-process tiled
 * attention of the whole sequence: every rank's outputs and its q, k, v gradients equal the
 * matching rows of the one-process run. Also the process group's collectives, and a rank killed
 * with SIGKILL making the others fail with a clear error within the timeout.
 */
import test from 'ava';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { freePort, launch } from '../../src/dist/launch';
import { native } from '../../src/native';
import { ringInputs, RingShape } from './ring-inputs';

const CHILD = path.join(__dirname, 'children', 'ring-child.ts');
const NODE_ARGS = ['-r', 'ts-node/register/transpile-only', CHILD];
const hasGloo = native().distInfo().gloo;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-dist-'));
}

function readRanks<T>(dir: string, n: number): T[] {
  return Array.from({ length: n }, (_, r) => JSON.parse(fs.readFileSync(path.join(dir, `rank-${r}.json`), 'utf8')) as T);
}

/** Largest |a - b| between a rank's local rows and the reference's rows at `indices`. */
function maxRowError(local: number[], full: Float32Array, indices: number[], shape: RingShape, rowSize: number): number {
  let worst = 0;
  for (let b = 0; b < shape.batch; b++) {
    indices.forEach((s, i) => {
      for (let j = 0; j < rowSize; j++) {
        const got = local[(b * indices.length + i) * rowSize + j];
        const want = full[(b * shape.seq + s) * rowSize + j];
        worst = Math.max(worst, Math.abs(got - want));
      }
    });
  }
  return worst;
}

const testGloo = hasGloo ? test.serial : test.serial.skip;

for (const nproc of [2, 4]) {
  testGloo(`ring attention over ${nproc} processes equals one-process attention, forward and backward`, async (t) => {
    // seq = 2 * nproc * c with c not a multiple of the tile: partial tiles on every block.
    const shape: RingShape = { batch: 2, seq: nproc === 2 ? 88 : 96, heads: 4, kvHeads: 2, headDim: 16, tile: 16, seed: 7 + nproc };
    const dir = tmpDir();
    const result = await launch({
      nproc, command: process.execPath, args: [...NODE_ARGS, JSON.stringify({ mode: 'ring', outDir: dir, ...shape })],
      env: { OMP_NUM_THREADS: '1' },
    });
    t.is(result.exitCode, 0, JSON.stringify(result.ranks));
    const { q, k, v, gradOut } = ringInputs(shape);
    const ref = await native().attention({
      q: { data: q, shape: [shape.batch, shape.seq, shape.heads, shape.headDim] },
      k: { data: k, shape: [shape.batch, shape.seq, shape.kvHeads, shape.headDim] },
      v: { data: v, shape: [shape.batch, shape.seq, shape.kvHeads, shape.headDim] },
      gradOut, impl: 'naive',
    });
    const ranks = readRanks<{ indices: number[]; out: number[]; dq: number[]; dk: number[]; dv: number[] }>(dir, nproc);
    const covered = new Set<number>();
    for (const [r, got] of ranks.entries()) {
      got.indices.forEach((i) => covered.add(i));
      const qRow = shape.heads * shape.headDim, kRow = shape.kvHeads * shape.headDim;
      const errors = {
        out: maxRowError(got.out, ref.out, got.indices, shape, qRow),
        dq: maxRowError(got.dq, ref.dq, got.indices, shape, qRow),
        dk: maxRowError(got.dk, ref.dk, got.indices, shape, kRow),
        dv: maxRowError(got.dv, ref.dv, got.indices, shape, kRow),
      };
      t.log(`rank ${r}: max abs error ${JSON.stringify(errors)}`);
      for (const [name, e] of Object.entries(errors)) t.true(e < 2e-5, `rank ${r} ${name}: ${e}`);
    }
    t.is(covered.size, shape.seq, 'the zigzag chunks of all ranks cover the sequence');
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

testGloo('process group collectives over 3 processes', async (t) => {
  const dir = tmpDir();
  const result = await launch({
    nproc: 3, command: process.execPath, args: [...NODE_ARGS, JSON.stringify({ mode: 'collectives', outDir: dir, timeoutMs: 60_000 })],
  });
  t.is(result.exitCode, 0);
  for (const [r, got] of readRanks<Record<string, unknown>>(dir, 3).entries()) {
    t.is(got.rank, r);
    t.is(got.worldSize, 3);
    t.deepEqual(got.sum, [1 + 2 + 3, 0 + 10 + 20]);
    t.deepEqual(got.max, [2]);
    t.deepEqual(got.gathered, [[0, 0, 0.5], [1, -1, 0.5], [2, -2, 0.5]]);
    t.deepEqual(got.bcast, [42]);
    t.regex(got.mismatch as string, /allGather: rank \d sent \d elements but rank \d sent \d \(every rank must send the same number\)/);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

testGloo('a rank killed with SIGKILL makes the others fail with a clear error, not a hang', async (t) => {
  const dir = tmpDir();
  const port = await freePort();
  const shape: RingShape = { batch: 1, seq: 4098, heads: 4, kvHeads: 4, headDim: 32, tile: 256, seed: 1 };
  const job = JSON.stringify({ mode: 'die', outDir: dir, victim: 1, timeoutMs: 60_000, ...shape });
  // Spawned by hand: `launch` would stop the survivors itself once the victim dies.
  const exits = [0, 1, 2].map((rank) => new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, job], {
      stdio: 'ignore',
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: '3', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) },
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  }));
  const [r0, r1, r2] = await Promise.all(exits);
  t.is(r1.signal, 'SIGKILL');
  t.is(r0.code, 3);
  t.is(r2.code, 3);
  for (const r of [0, 2]) {
    const got = JSON.parse(fs.readFileSync(path.join(dir, `rank-${r}.json`), 'utf8')) as { error: string; ms: number };
    t.log(`rank ${r} failed after ${got.ms} ms: ${got.error}`);
    t.regex(got.error, /process group \(gloo, rank \d of 3\): .* failed: .*a peer process exited/);
    t.true(got.ms < 60_000);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
