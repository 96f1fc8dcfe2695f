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
import { writeRandomModel } from './lib/random-model';

const TOKENS_PER_STEP = 4096;
const STEPS = Number(process.env.BENCH_STEPS ?? 8);

/**
 * Tokens/s of the fused and the plain-ops step at one length. The two alternate step by step
 * (after a warm-up of each), so drifts of the machine (turbo, allocator state) hit both alike.
 */
async function measure(trainer: Trainer, seq: number): Promise<{ fused: number; naive: number }> {
  const batch = TOKENS_PER_STEP / seq;
  const segment = (s: number) => Int32Array.from({ length: seq }, (_, i) => (i * 131 + s * 71) % 258);
  const rope = { ...trainer.model.config.rope, method: 'linear' as const, length: Math.max(seq, 256) };
  const step = (k: number, impl: 'fused' | 'naive') =>
    trainer.step([Array.from({ length: batch }, (_, b) => segment(k * batch + b))], { lr: 1e-4, rope, impl });
  await step(0, 'naive');
  await step(0, 'fused');
  const times = { fused: [] as number[], naive: [] as number[] };
  for (let k = 1; k <= STEPS; k++) {
    for (const impl of ['naive', 'fused'] as const) {
      const t0 = performance.now();
      await step(k, impl);
      times[impl].push(performance.now() - t0);
    }
  }
  const rate = (xs: number[]) => TOKENS_PER_STEP / ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] / 1000);
  return { fused: rate(times.fused), naive: rate(times.naive) };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-bench-train-'));
  writeRandomModel(dir, { maxPositionEmbeddings: 256 });
  const model = await Model.load(dir);
  const trainer = new Trainer(model);
  const lengths: Record<number, { fused: number; naive: number; speedupVsNaive: number }> = {};
  for (const seq of [256, 2048]) {
    const { fused, naive } = await measure(trainer, seq);
    lengths[seq] = { fused: Math.round(fused), naive: Math.round(naive), speedupVsNaive: fused / naive };
  }
  trainer.dispose();
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  const pass = Object.values(lengths).every((l) => l.speedupVsNaive >= 1.3);
  console.log(JSON.stringify({
    bench: 'train', threads: native().runtimeInfo().threads, tokensPerStep: TOKENS_PER_STEP,
    tokensPerSecond: lengths, speedupVsNaive: Math.min(...Object.values(lengths).map((l) => l.speedupVsNaive)),
    target: 1.3, pass,
  }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
