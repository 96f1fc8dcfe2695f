/**
 * `npm run bench:train`: training tokens/s of the tiny-model architecture (4 layers, d = 256,
 * SwiGLU 704, byte vocab) at 256 and 2048 tokens, the fused runtime (fused RoPE, RMSNorm and
 * SwiGLU kernels) against the plain libtorch-ops version of the same step, measured in this run.
 * Target: speedupVsNaive >= 1.3 at each length. Prints one JSON object.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { Model } from '../src/model/model';
import { native } from '../src/native';
import { Trainer } from '../src/train/trainer';
import { median } from './lib/median';
import { writeRandomModel } from './lib/random-model';

const TOKENS_PER_STEP = 4096;
const STEPS = Number(process.env.BENCH_STEPS ?? 8);

/**
 * Tokens/s of the fused and the plain-ops step at one length. The two alternate step by step
 * (after a warm-up of each), so drifts of the machine (turbo, allocator state) hit both alike.
 */
type Split = { forward: number; backward: number; optimizer: number };
interface Measured { fused: number; naive: number; milliseconds: { fused: Split; naive: Split } }

async function measure(trainer: Trainer, seq: number): Promise<Measured> {
  const batch = TOKENS_PER_STEP / seq;
  const segment = (s: number) => Int32Array.from({ length: seq }, (_, i) => (i * 131 + s * 71) % 258);
  const rope = { ...trainer.model.config.rope, method: 'linear' as const, length: Math.max(seq, 256) };
  const step = (k: number, impl: 'fused' | 'naive') =>
    trainer.step([Array.from({ length: batch }, (_, b) => segment(k * batch + b))], { lr: 1e-4, rope, impl });
  await step(0, 'naive');
  await step(0, 'fused');
  const times = { fused: [] as number[], naive: [] as number[] };
  const splits = { fused: [] as Split[], naive: [] as Split[] };
  for (let k = 1; k <= STEPS; k++) {
    for (const impl of ['naive', 'fused'] as const) {
      const t0 = performance.now();
      const r = await step(k, impl);
      times[impl].push(performance.now() - t0);
      splits[impl].push(r.milliseconds);
    }
  }
  const rate = (xs: number[]) => TOKENS_PER_STEP / (median(xs) / 1000);
  const split = (xs: Split[]): Split => ({
    forward: Math.round(median(xs.map((x) => x.forward))), backward: Math.round(median(xs.map((x) => x.backward))),
    optimizer: Math.round(median(xs.map((x) => x.optimizer))),
  });
  return { fused: rate(times.fused), naive: rate(times.naive), milliseconds: { fused: split(splits.fused), naive: split(splits.naive) } };
}

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
  const lengths: Record<number, { fused: number; naive: number; speedupVsNaive: number; gemmFloorMs: number; medianMilliseconds: Measured['milliseconds'] }> = {};
  for (const seq of [256, 2048]) {
    const { fused, naive, milliseconds } = await measure(trainer, seq);
    const flops = 6 * TOKENS_PER_STEP * linearWeights + 7 * TOKENS_PER_STEP * seq * c.hiddenSize * c.numLayers;
    lengths[seq] = { fused: Math.round(fused), naive: Math.round(naive), speedupVsNaive: fused / naive,
      gemmFloorMs: Math.round(flops / (gemm.gflops * 1e6)), medianMilliseconds: milliseconds };
  }
  trainer.dispose();
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  const pass = Object.values(lengths).every((l) => l.speedupVsNaive >= 1.3);
  console.log(JSON.stringify({
    bench: 'train', threads: native().runtimeInfo().threads, tokensPerStep: TOKENS_PER_STEP, machineGemmGflops: gemm.gflops,
    tokensPerSecond: lengths, speedupVsNaive: Math.min(...Object.values(lengths).map((l) => l.speedupVsNaive)),
    target: 1.3, pass,
  }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
