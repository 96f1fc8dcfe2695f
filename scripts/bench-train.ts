/**
 * `npm run bench:train`: training tokens/s of the tiny-model architecture (4 layers, d = 256,
 * SwiGLU 704, byte vocab) at 256 and 2048 tokens, the fused runtime (fused RoPE, RMSNorm and
 * SwiGLU kernels) against the plain libtorch-ops version of the same step, measured in this run.
 * Target: speedupVsNaive >= 1.3 at each length. Then the peer: the same step (forward with labels,
 * backward, clipping at 1, AdamW with the same settings, the same batches) in Hugging Face
 * transformers (tools/peer/transformers_train.py), from the same initial weights: speedupVsPeer
 * per length (target >= 1.3) and both first-step losses. Prints one JSON object.
 * BENCH_NAIVE=0 skips the plain-ops step (its 2048-token step takes ~1 minute; speedupVsNaive null).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { Model } from '../src/model/model';
import { native } from '../src/native';
import { Trainer } from '../src/train/trainer';
import { median } from './lib/median';
import { runPeer } from './lib/peer-python';
import { hfConfigPatchFromSpec } from '../src/rope/hf-config';
import { writeRandomModel } from './lib/random-model';

const TOKENS_PER_STEP = 4096;
const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const IMPLS = process.env.BENCH_NAIVE === '0' ? (['fused'] as const) : (['naive', 'fused'] as const);

/**
 * Tokens/s of the fused and the plain-ops step at one length. The two alternate step by step
 * (after a warm-up of each), so drifts of the machine (turbo, allocator state) hit both alike.
 */
type Split = { forward: number; backward: number; optimizer: number };
type Splits = { fused: Split | null; naive: Split | null };
interface Measured { fused: number; naive: number | null; fusedCpuMs: number; milliseconds: Splits }

async function measure(trainer: Trainer, seq: number): Promise<Measured> {
  const rope = ropeFor(trainer, seq);
  const step = (k: number, impl: 'fused' | 'naive') => trainer.step([batchOf(seq, k)], { lr: LR, rope, impl });
  for (const impl of IMPLS) await step(0, impl);
  const times = { fused: [] as number[], naive: [] as number[] };
  const cpu: number[] = [];
  const splits = { fused: [] as Split[], naive: [] as Split[] };
  for (let k = 1; k <= STEPS; k++) {
    for (const impl of IMPLS) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await step(k, impl);
      times[impl].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      if (impl === 'fused') cpu.push((c.user + c.system) / 1000);
      splits[impl].push(r.milliseconds);
    }
  }
  const rate = (xs: number[]) => TOKENS_PER_STEP / (median(xs) / 1000);
  const split = (xs: Split[]): Split | null => xs.length === 0 ? null : ({
    forward: Math.round(median(xs.map((x) => x.forward))), backward: Math.round(median(xs.map((x) => x.backward))),
    optimizer: Math.round(median(xs.map((x) => x.optimizer))),
  });
  return { fused: rate(times.fused), naive: times.naive.length > 0 ? rate(times.naive) : null, fusedCpuMs: Math.min(...cpu), milliseconds: { fused: split(splits.fused), naive: split(splits.naive) } };
}

const LR = 1e-4;

/** Step k's batch at one length: TOKENS_PER_STEP tokens in segments of `seq`. */
function batchOf(seq: number, k: number): Int32Array[] {
  const batch = TOKENS_PER_STEP / seq;
  const segment = (s: number) => Int32Array.from({ length: seq }, (_, i) => (i * 131 + s * 71) % 258);
  return Array.from({ length: batch }, (_, b) => segment(k * batch + b));
}

function ropeFor(trainer: Trainer, seq: number) {
  return { ...trainer.model.config.rope, method: 'linear' as const, length: Math.max(seq, 256) };
}

interface PeerStep { seq: number; ms: number; cpuMs: number; firstLoss: number; torch: string; transformers: string }

/**
 * Our fused step's loss from the initial weights at each length (a fresh model per length), and
 * the same steps in transformers: its first loss and its step times (warm-up = step 0, then the
 * timed steps 1..STEPS, as ours).
 */
async function peerSteps(dir: string, threads: number) {
  const ourFirstLoss: Record<number, number> = {};
  const windows: { dir: string; batches: number[][][] }[] = [];
  for (const seq of SEQS) {
    const model = await Model.load(dir);
    const trainer = new Trainer(model);
    ourFirstLoss[seq] = (await trainer.step([batchOf(seq, 0)], { lr: LR, rope: ropeFor(trainer, seq) })).loss;
    const hfDir = fs.mkdtempSync(path.join(dir, `hf${seq}-`));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(hfDir, 'config.json'), JSON.stringify({ ...config, ...hfConfigPatchFromSpec(ropeFor(trainer, seq)) }));
    fs.symlinkSync(path.join(dir, 'model.safetensors'), path.join(hfDir, 'model.safetensors'));
    trainer.dispose();
    model.dispose();
    const batches = Array.from({ length: STEPS + 1 }, (_, k) => batchOf(seq, k).map((s) => Array.from(s)));
    windows.push({ dir: hfDir, batches });
  }
  const run = runPeer<PeerStep>('transformers_train.py', {
    windows, lr: LR, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0, clip: 1, threads,
  });
  return { ourFirstLoss, run };
}

const SEQS = [256, 2048];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-bench-train-'));
  writeRandomModel(dir, { maxPositionEmbeddings: 256 });
  const model = await Model.load(dir);
  const trainer = new Trainer(model);
  // The step's matrix-product work at the GEMM rate measured here: the time no implementation of
  // this step on this machine goes below (projections 6 x tokens x weights; causal attention
  // ~7 x tokens x seq x d per layer: 2 in forward, 5 in the FlashAttention-2 style backward).
  const c = model.config;
  const gemm = await native().matmulBenchmark({ m: TOKENS_PER_STEP, n: c.intermediateSize, k: c.hiddenSize, iterations: 5 });
  const linearWeights = c.numLayers * (4 * c.hiddenSize * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize) + c.hiddenSize * c.vocabSize;
  type Row = { fused: number; naive: number | null; speedupVsNaive: number | null; gemmFloorMs: number; medianMilliseconds: Measured['milliseconds'];
    fusedCpuMs: number; peer: number | null; speedupVsPeer: number | null; peerCpuMs: number | null; speedupVsPeerCpu: number | null;
    firstLoss: number | null; peerFirstLoss: number | null };
  const lengths: Record<number, Row> = {};
  const measured: Record<number, Measured> = {};
  for (const seq of SEQS) measured[seq] = await measure(trainer, seq);
  trainer.dispose();
  model.dispose();
  const threads = native().runtimeInfo().threads;
  const { ourFirstLoss, run } = await peerSteps(dir, threads);
  const peer = 'lines' in run ? run.lines : null;
  for (const seq of SEQS) {
    const { fused, naive, fusedCpuMs, milliseconds } = measured[seq];
    const flops = 6 * TOKENS_PER_STEP * linearWeights + 7 * TOKENS_PER_STEP * seq * c.hiddenSize * c.numLayers;
    const p = peer?.find((l) => l.seq === seq) ?? null;
    const peerRate = p ? TOKENS_PER_STEP / (p.ms / 1000) : null;
    lengths[seq] = { fused: Math.round(fused), naive: naive === null ? null : Math.round(naive),
      speedupVsNaive: naive === null ? null : fused / naive,
      gemmFloorMs: Math.round(flops / (gemm.gflops * 1e6)), medianMilliseconds: milliseconds, fusedCpuMs: Math.round(fusedCpuMs),
      peer: peerRate === null ? null : Math.round(peerRate), speedupVsPeer: peerRate === null ? null : fused / peerRate,
      peerCpuMs: p ? Math.round(p.cpuMs) : null, speedupVsPeerCpu: p ? p.cpuMs / fusedCpuMs : null,
      firstLoss: ourFirstLoss[seq], peerFirstLoss: p ? p.firstLoss : null };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const pass = Object.values(lengths).every((l) => (l.speedupVsNaive === null || l.speedupVsNaive >= 1.3) &&
    (l.speedupVsPeer === null || l.speedupVsPeer >= 1.3));
  console.log(JSON.stringify({
    bench: 'train', threads, tokensPerStep: TOKENS_PER_STEP, machineGemmGflops: gemm.gflops,
    peer: peer ? { python: 'python' in run ? run.python : '', torch: peer[0].torch, transformers: peer[0].transformers } : { skipped: 'skipped' in run ? run.skipped : 'no output' },
    tokensPerSecond: lengths,
    speedupVsNaive: IMPLS.length > 1 ? Math.min(...Object.values(lengths).map((l) => l.speedupVsNaive ?? Infinity)) : null,
    speedupVsPeer: peer ? Math.min(...Object.values(lengths).map((l) => l.speedupVsPeer ?? Infinity)) : null,
    target: 1.3, pass,
  }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
