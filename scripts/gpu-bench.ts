/**
 * GPU benchmarks for scripts/gpu-check.sh (plain Node, no npm packages: it travels compiled):
 *  - fused RoPE on q and k of [1, 32768, 32, 128] bf16: bandwidth as a fraction of the H200's
 *    4.8 TB/s (target >= 80%) and the speedup over the plain rotate_half path (target >= 5x);
 *  - causal attention at 16k-128k, head dim 128, bf16, through the model's path: TFLOP/s
 *    (target >= 370);
 *  - perplexity throughput of a LLaMA-2-7B-shaped model with random bf16 weights at 32k and 128k
 *    tokens: tokens/s and the allocator's peak memory beside the estimator's prediction. The
 *    model keeps the 7B layer shape; --layers (default 32) trades fidelity for time. It runs last.
 * --dry-run: toy sizes on the CPU, to prove the script runs where there is no GPU.
 * --out FILE writes the JSON report (also printed).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { Model } from '../src/model/model';
import { estimateMemory } from '../src/model/estimate';
import { native } from '../src/native';
import { computeRopeTables } from '../src/rope';
import { writeRandomModel } from './lib/random-model';

const HBM_BYTES_PER_S = 4.8e12;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const dry = process.argv.includes('--dry-run');
  const device = dry ? 'cpu' : 'cuda';
  const dtype = dry ? 'float32' : 'bfloat16';
  const report: Record<string, unknown> = { dryRun: dry, device, runtime: native().runtimeInfo(), when: new Date().toISOString() };
  const out = arg('--out');
  // The report is rewritten after every section, so a run cut short by a timeout keeps its figures.
  const log = (what: string, value: unknown) => {
    report[what] = value;
    console.log(`${what}: ${JSON.stringify(value)}`);
    if (out) fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  };

  // RoPE: the bench moves q and k once in and once out (`bytes`).
  const LONG = Array.from({ length: 64 }, (_, i) => 1 + (31 * i) / 63);
  const tables = computeRopeTables({ method: 'longrope', headDim: 128, base: 10000, originalLength: 4096, length: 131072, longFactors: LONG, nHat: 4 });
  const seq = dry ? 256 : 32768;
  const rope = await native().ropeBenchmark({
    invFreq: tables.invFreq, baseInvFreq: tables.baseInvFreq, attentionFactor: tables.attentionFactor, nHat: tables.nHat,
    batch: 1, seq, heads: 32, kvHeads: 32, headDim: 128, dtype, device, iterations: dry ? 3 : 50, warmup: dry ? 1 : 10,
  });
  const bandwidth = rope.bytes / (rope.fusedMs / 1e3);
  log('rope', {
    shape: [1, seq, 32, 128], dtype, fusedMs: rope.fusedMs, naiveMs: rope.naiveMs, copyMs: rope.copyMs,
    bytesPerS: bandwidth, fractionOfHbm: bandwidth / HBM_BYTES_PER_S, speedupOverNaive: rope.naiveMs / rope.fusedMs,
    targets: { fractionOfHbm: 0.8, speedupOverNaive: 5 },
  });

  // Attention through the model's path.
  const lengths = dry ? [128, 256] : [16384, 32768, 65536, 131072];
  const attention = [];
  for (const s of lengths) {
    const r = await native().attentionBenchmark({ seq: s, heads: 32, kvHeads: 32, headDim: 128, dtype, device, iterations: dry ? 2 : 5, warmup: 1 });
    attention.push({ seq: s, ...r });
    console.log(`attention ${s}: ${r.ms.toFixed(2)} ms, ${r.tflops.toFixed(1)} TFLOP/s`);
  }
  log('attention', { heads: 32, headDim: 128, dtype, causal: true, runs: attention, targetTflops: 370 });

  // Perplexity throughput of a LLaMA-2-7B-shaped model with random weights.
  const layers = Number(arg('--layers') ?? (dry ? 2 : 32));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-7b-'));
  try {
    const t0 = performance.now();
    const sizes = dry
      ? { vocabSize: 512, hiddenSize: 128, intermediateSize: 344, numLayers: layers, numHeads: 4, numKvHeads: 4 }
      : { vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: layers, numHeads: 32, numKvHeads: 32 };
    writeRandomModel(dir, { ...sizes, maxPositionEmbeddings: 4096, dtype: 'BF16' });
    const writeS = (performance.now() - t0) / 1e3;
    const model = await Model.load(dir, { device, dtype });
    const runs = [];
    try {
      for (const n of dry ? [256, 512] : [32768, 131072]) {
        const tokens = Int32Array.from({ length: n }, (_, i) => (i * 7919) % sizes.vocabSize);
        native().cudaMemory(device, { reset: true });
        const t = performance.now();
        // LongRoPE tables for 128k (the dry run's toy model has head dim 32: its own tables).
        const nll = await model.nll(tokens, { rope: dry ? computeRopeTables({ method: 'longrope', headDim: 32, base: 10000, originalLength: 128, length: 1024, longFactors: LONG.slice(0, 16), nHat: 4 }) : tables });
        const seconds = (performance.now() - t) / 1e3;
        const peak = native().cudaMemory(device).peak;
        const est = estimateMemory(model.config, { length: n, device, dtype, mode: 'nll' });
        runs.push({ tokens: n, seconds, tokensPerS: n / seconds, meanNll: nll.reduce((a, b) => a + b, 0) / nll.length, peakBytes: peak, estimatedBytes: est.totalBytes });
        console.log(`nll ${n}: ${(n / seconds).toFixed(0)} tokens/s, peak ${(peak / 2 ** 30).toFixed(2)} GiB, estimate ${(est.totalBytes / 2 ** 30).toFixed(2)} GiB`);
      }
    } finally {
      model.dispose();
    }
    log('perplexity', { shape: dry ? 'toy' : 'LLaMA-2-7B', layers, dtype, writeSeconds: writeS, runs });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
