/**
 * `npx ts-node --transpile-only scripts/bench-attention-grad.ts`: causal attention forward +
 * backward on CPU (the training path: the tiled autograd function) with the AVX kernels
 * (attention_flash_cpu*.cc) against the ATen-tiled ones (BLAS tiles, `avx: false`), on the
 * training shapes of `bench:train` (4,096 tokens: batch 4096 / seq, 4 heads of 64). Reports the
 * median wall and the mean process-CPU milliseconds of BENCH_REPEATS (default 10) calls per
 * kernel, the calls alternating, and the forward alone (no gradOut) so the backward's share
 * shows. The CPU figure is a mean because this VM accounts CPU time in scheduler ticks (4 ms):
 * one call's figure is a sample, the mean of many is unbiased. On a loaded machine run it with
 * LONGROPE_NUM_THREADS=1 too: a descheduled thread makes the other spin at the barrier, which
 * counts as CPU time. Lengths from BENCH_LENGTHS (default 256,2048). Prints one JSON object.
 */
import { native } from '../src/native';
import { lcgArray } from './lib/lcg';
import { median } from './lib/median';

const TOKENS = 4096;
const HEADS = 4;
const HEAD_DIM = 64;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 10);
const LENGTHS = (process.env.BENCH_LENGTHS ?? '256,2048').split(',').map(Number);

/** Inputs in [-0.5, 0.5). */
const random = (n: number, seed: number) => lcgArray(n, seed).map((x) => x / 2);

type Timing = { wallMs: number; cpuMs: number };

async function time(call: () => Promise<unknown>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await call();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const seq of LENGTHS) {
    const batch = TOKENS / seq;
    const shape = [batch, seq, HEADS, HEAD_DIM];
    const n = TOKENS * HEADS * HEAD_DIM;
    const base = { q: { data: random(n, 1), shape }, k: { data: random(n, 2), shape }, v: { data: random(n, 3), shape } };
    const gradOut = random(n, 4);
    const runs: Record<string, Timing[]> = { avxTrain: [], atenTrain: [], avxForward: [], atenForward: [] };
    const calls: Record<string, () => Promise<unknown>> = {
      avxTrain: () => native().attention({ ...base, gradOut, impl: 'tiled' }),
      atenTrain: () => native().attention({ ...base, gradOut, impl: 'tiled', avx: false }),
      avxForward: () => native().attention({ ...base, impl: 'tiled' }),
      atenForward: () => native().attention({ ...base, impl: 'tiled', avx: false }),
    };
    for (const call of Object.values(calls)) await call();  // warm-up
    for (let r = 0; r < REPEATS; r++) {
      for (const [name, call] of Object.entries(calls)) runs[name].push(await time(call));
    }
    const summary = (name: string) => ({
      wallMs: Math.round(median(runs[name].map((x) => x.wallMs))),
      cpuMs: Math.round(runs[name].reduce((a, x) => a + x.cpuMs, 0) / runs[name].length),
    });
    const row: Record<string, unknown> = { seq, batch };
    for (const name of Object.keys(calls)) row[name] = summary(name);
    const backward = (train: string, fwd: string) => summary(train).cpuMs - summary(fwd).cpuMs;
    row.backwardCpuMs = { avx: backward('avxTrain', 'avxForward'), aten: backward('atenTrain', 'atenForward') };
    row.trainSpeedupCpu = summary('atenTrain').cpuMs / summary('avxTrain').cpuMs;
    rows.push(row);
  }
  console.log(JSON.stringify({ bench: 'attention-grad', threads: native().runtimeInfo().threads, heads: HEADS, headDim: HEAD_DIM,
    tokens: TOKENS, repeats: REPEATS, lengths: rows }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
