/**
 * `npm run bench:model`: the model runtime on CPU, measured against a plain libtorch-ops version
 * of the same model (rotate_half RoPE, full-matrix attention, no chunking) in the same run.
 * Model: 4 layers, d = 256, 4 heads, SwiGLU 704, byte vocab (random weights).
 * Prints one JSON object with speedupVsNaive (target >= 1.5 at 4k tokens), gemmFraction (achieved
 * FLOP/s over this machine's measured fp32 GEMM rate), peakRssMB per length (NLL, one process per
 * length; target < 3 GB at 32k) and the memory estimator's prediction beside it.
 * Then the peer: models/tiny-base with YaRN, one window per document at 2k, 8k and 32k tokens
 * (BENCH_PEER_LENGTHS), our NLL against Hugging Face transformers' (scripts/lib/peer-compare.ts):
 * speedupVsPeer per length (target >= 1.5), equal mean NLLs, where our window's time goes, and
 * shareOfGemmPeak: our FLOP rate over the GEMM rate measured in the same run (the limit).
 * BENCH_PEER_ONLY=1 runs only that part.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { readModelConfig } from '../src/model/config';
import { measureEvalOverhead } from '../src/eval/overhead';
import { estimateMemory } from '../src/model/estimate';
import { Model } from '../src/model/model';
import { native } from '../src/native';
import { median } from './lib/median';
import { comparePeer, forwardFlops } from './lib/peer-compare';
import { writeRandomModel } from './lib/random-model';

const LENGTHS = (process.env.BENCH_LENGTHS ?? '4096,8192,16384,32768').split(',').map(Number);
const SPEED_LENGTH = Number(process.env.BENCH_SPEED_LENGTH ?? 4096);
const REPEATS = 3;
const PEER_LENGTHS = (process.env.BENCH_PEER_LENGTHS ?? '2048,8192,32768').split(',').map(Number);
const TINY_BASE = path.join(__dirname, '..', 'models', 'tiny-base');

/** The comparison with transformers, printed on its own line too (it is the slow part). */
async function peerSection(): Promise<Awaited<ReturnType<typeof comparePeer>>> {
  const peer = await comparePeer(TINY_BASE, PEER_LENGTHS);
  console.error(JSON.stringify({ bench: 'model-vs-transformers', ...peer }));
  return peer;
}

async function timeNll(model: Model, tokens: Int32Array, impl: 'fused' | 'naive'): Promise<number> {
  const spec = { ...model.config.rope, method: 'linear' as const, length: tokens.length };
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    await model.nll(tokens, { rope: spec, impl });
    times.push(performance.now() - start);
  }
  return median(times);
}

async function main(): Promise<void> {
  if (process.env.BENCH_PEER_ONLY === '1') {
    const peer = await peerSection();
    console.log(JSON.stringify({ bench: 'model', peer, pass: peerPass(peer) }, null, 2));
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-bench-model-'));
  writeRandomModel(dir);
  const config = readModelConfig(dir);
  const gemm = await native().matmulBenchmark({ m: 1024, n: 1024, k: 1024, iterations: 10 });

  const model = await Model.load(dir);
  const tokens = Int32Array.from({ length: SPEED_LENGTH }, (_, i) => (i * 7919 + 13) % config.vocabSize);
  await timeNll(model, tokens.subarray(0, 512), 'fused');  // warm-up
  const fusedMs = await timeNll(model, tokens, 'fused');
  const naiveMs = await timeNll(model, tokens, 'naive');
  // Evaluation overhead: the perplexity evaluator's sliding windows (1024 tokens, stride 256)
  // against the same native calls made directly; target < 5%.
  const evalTokens = Int32Array.from({ length: 1024 + 256 * 8 }, (_, i) => (i * 7919 + 13) % config.vocabSize);
  const overhead = await measureEvalOverhead(model, evalTokens, { length: 1024, stride: 256,
    rope: { ...config.rope, method: 'linear', length: 1024 }, repeats: 3 });
  model.dispose();
  const flops = forwardFlops(config, SPEED_LENGTH);

  const child = path.join(__dirname, 'lib', 'nll-rss-child.ts');
  const memory: Record<string, unknown> = {};
  const peakRssMB: Record<number, number> = {};
  for (const n of LENGTHS) {
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', child, dir, String(n)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    peakRssMB[n] = Math.round(r.peakRssMB);
    const est = estimateMemory(config, { length: n, device: 'cpu', mode: 'nll' });
    memory[n] = { ms: Math.round(r.ms), rssAfterLoadMB: Math.round(r.rssAfterLoadMB), peakRssMB: peakRssMB[n],
      estimatedMB: Math.round(est.totalBytes / 2 ** 20) };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const peer = await peerSection();

  const result = {
    bench: 'model',
    model: { layers: config.numLayers, hidden: config.hiddenSize, heads: config.numHeads, intermediate: config.intermediateSize, vocab: config.vocabSize },
    threads: native().runtimeInfo().threads,
    speedLength: SPEED_LENGTH,
    ms: { fused: Math.round(fusedMs), naive: Math.round(naiveMs) },
    tokensPerSecond: { fused: Math.round(SPEED_LENGTH / (fusedMs / 1000)), naive: Math.round(SPEED_LENGTH / (naiveMs / 1000)) },
    speedupVsNaive: naiveMs / fusedMs,
    forwardGflop: flops / 1e9,
    achievedGflops: flops / (fusedMs / 1000) / 1e9,
    machineGemmGflops: gemm.gflops,
    gemmFraction: flops / (fusedMs / 1000) / 1e9 / gemm.gflops,
    peakRssMB,
    memory,
    evalOverhead: overhead,
    peer,
    targets: { speedupVsNaive: 1.5, peakRssMBAt32k: 3072, evalOverheadFraction: 0.05, speedupVsPeer: 1.5 },
  };
  const pass = result.speedupVsNaive >= 1.5 && (peakRssMB[32768] ?? 0) < 3072 && overhead.overheadFraction < 0.05 &&
    peerPass(peer);
  console.log(JSON.stringify({ ...result, pass }, null, 2));
}

/** Every length at least 1.5x the peer's speed with mean NLLs equal to 1e-5; true when the peer was skipped. */
function peerPass(peer: Awaited<ReturnType<typeof comparePeer>>): boolean {
  return peer.rows.every((r) => r.speedupVsPeer === null || (r.speedupVsPeer >= 1.5 && r.nllRelativeDifference! < 1e-5));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
