/**
 * `npm run bench:dist`: what splitting one sequence over processes costs on CPU. For each length
 * it times (a) causal attention (B = 1, 4 heads, D = 64, forward), (b) a whole NLL of the
 * bench's random 4-layer d = 256 model and (c) one training step of that model (activation
 * checkpointing, AdamW), once as 1 process x 2 threads (tiled attention, plain NLL and step) and
 * once as 2 processes x 1 thread (ring attention, sequence-parallel NLL and step over Gloo).
 * BENCH_KINDS picks rows (default attention,nll; train is opt-in), BENCH_LENGTHS the lengths.
 * overhead = (2 x 1 time) / (1 x 2 time) - 1: the price of the ring (messages, merges, the
 * zigzag's extra blocks) when both use the same two cores. Best of BENCH_REPEATS (2) runs; CPU
 * time (all ranks) beside wall time, and the load average, since a busy machine skews wall time.
 * Prints a Markdown table and JSON.
 * Child mode (internal): `bench-dist.ts --child <json>`.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { launch } from '../src/dist/launch';
import { ProcessGroup } from '../src/dist/process-group';
import { takeRows, zigzagIndices } from '../src/dist/zigzag';
import { Model } from '../src/model/model';
import { native } from '../src/native';
import { Trainer } from '../src/train/trainer';
import { lcgArray } from './lib/lcg';
import { writeRandomModel } from './lib/random-model';

const LENGTHS = (process.env.BENCH_LENGTHS ?? '8192,16384,32768').split(',').map(Number);
const HEADS = 4, HEAD_DIM = 64;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const KINDS = ['attention', 'nll', 'train'] as const;
type Kind = (typeof KINDS)[number];
const CHOSEN = (process.env.BENCH_KINDS ?? 'attention,nll').split(',') as Kind[];
const LABELS: Record<Kind, string> = {
  attention: 'causal attention (4 heads, D 64)', nll: 'NLL, 4-layer d 256 model', train: 'training step (checkpointed), same model',
};

interface ChildJob {
  kind: Kind;
  length: number;
  modelDir: string;
  outFile: string;
}

async function child(job: ChildJob): Promise<void> {
  const pg = await ProcessGroup.init({});
  const n = job.length, row = HEADS * HEAD_DIM;
  const idx = pg.worldSize > 1 ? zigzagIndices(n, pg.worldSize, pg.rank) : Int32Array.from({ length: n }, (_, i) => i);
  const s = idx.length;
  let run: () => Promise<unknown>;
  let model: Model | undefined;
  let trainer: Trainer | undefined;
  if (job.kind === 'attention') {
    const [q, k, v] = [1, 2, 3].map((seed) => takeRows(lcgArray(n * row, seed), 1, n, row, idx));
    const t = (data: Float32Array) => ({ data, shape: [1, s, HEADS, HEAD_DIM] });
    run = pg.worldSize > 1
      ? () => pg.run((h) => native().ringAttention(h, { q: t(q), k: t(k), v: t(v) }))
      : () => native().attention({ q: t(q), k: t(k), v: t(v), impl: 'tiled' });
  } else {
    model = await Model.load(job.modelDir, { dtype: 'float32' });
    const tokens = Int32Array.from({ length: n }, (_, i) => (i * 7919) % model!.config.vocabSize);
    const rope = { ...model.config.rope, method: 'linear' as const, length: n };
    if (job.kind === 'nll') {
      run = () => model!.nll(tokens, { rope, sequenceParallel: pg });
    } else {
      const t = (trainer = new Trainer(model));
      run = () => t.step([[tokens]], { rope, lr: 1e-5, checkpointing: true, sequenceParallel: pg });
    }
  }
  // The best of REPEATS runs (other work on the machine only ever slows a run down); per run the
  // slowest rank's wall time is the job's, and CPU time is summed over ranks.
  let best = { ms: Infinity, cpuMs: Infinity };
  for (let i = 0; i < REPEATS; i++) {
    await pg.barrier();
    const start = performance.now();
    const cpu = process.cpuUsage();
    await run();
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - start;
    const [slowest] = await pg.allReduce(new Float32Array([ms]), 'max');
    const [cpuMs] = await pg.allReduce(new Float32Array([(used.user + used.system) / 1000]), 'sum');
    if (slowest < best.ms) best = { ms: slowest, cpuMs };
  }
  if (pg.rank === 0) fs.writeFileSync(job.outFile, JSON.stringify(best));
  pg.dispose();
  trainer?.dispose();
  model?.dispose();
}

async function timed(job: ChildJob, nproc: number): Promise<{ ms: number; cpuMs: number }> {
  const threads = String(nproc === 1 ? 2 : 1);
  const result = await launch({
    nproc, command: process.execPath,
    args: ['-r', 'ts-node/register/transpile-only', __filename, '--child', JSON.stringify(job)],
    env: { LONGROPE_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads },
  });
  if (result.exitCode !== 0) throw new Error(`bench child failed: ${JSON.stringify(result.ranks)}`);
  return JSON.parse(fs.readFileSync(job.outFile, 'utf8')) as { ms: number; cpuMs: number };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-bench-dist-'));
  const modelDir = path.join(dir, 'model');
  fs.mkdirSync(modelDir);
  writeRandomModel(modelDir);
  const rows: { kind: Kind; length: number; oneByTwoMs: number; twoByOneMs: number; overhead: number;
    oneByTwoCpuMs: number; twoByOneCpuMs: number; loadAverage: number }[] = [];
  const bad = CHOSEN.filter((k) => !KINDS.includes(k));
  if (bad.length) throw new Error(`Expected a comma-separated list of ${KINDS.join(', ')} for BENCH_KINDS but received ${bad.join(', ')}`);
  console.error(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`);
  for (const kind of CHOSEN) {
    for (const length of LENGTHS) {
      const job: ChildJob = { kind, length, modelDir, outFile: path.join(dir, 'out.json') };
      const loadAverage = os.loadavg()[0];
      const one = await timed(job, 1);
      const two = await timed(job, 2);
      rows.push({ kind, length, oneByTwoMs: one.ms, twoByOneMs: two.ms, overhead: two.ms / one.ms - 1,
        oneByTwoCpuMs: one.cpuMs, twoByOneCpuMs: two.cpuMs, loadAverage });
      console.error(JSON.stringify(rows[rows.length - 1]));
    }
  }
  console.log('| what | tokens | 1 process x 2 threads | 2 processes x 1 thread | overhead (wall) | CPU s, 1 x 2 / 2 x 1 | load avg |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${LABELS[r.kind]} | ${r.length} | ` +
      `${(r.oneByTwoMs / 1000).toFixed(2)} s | ${(r.twoByOneMs / 1000).toFixed(2)} s | ${(100 * r.overhead).toFixed(0)}% | ` +
      `${(r.oneByTwoCpuMs / 1000).toFixed(1)} / ${(r.twoByOneCpuMs / 1000).toFixed(1)} | ${r.loadAverage.toFixed(1)} |`);
  }
  console.log(JSON.stringify({ cpus: os.cpus().length, torch: native().runtimeInfo().torchVersion, loadAverageAfter: os.loadavg()[0], rows }));
  fs.rmSync(dir, { recursive: true, force: true });
}

const at = process.argv.indexOf('--child');
(at >= 0 ? child(JSON.parse(process.argv[at + 1]) as ChildJob) : main()).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
