/**
 * `npm run bench:rope`: the fused rotary apply against the naive libtorch rotate_half path and a
 * plain copy of q and k (this machine's achievable memory bandwidth), all measured in this run.
 * Prints one JSON object. Targets (issue 1/8): speedupVsNaive >= 4, bandwidthFraction >= 0.6.
 *
 * The headline figures use the in-place apply (what the model does on fresh q/k projections in
 * inference and search). Out-of-place into existing buffers and out-of-place with fresh 64 MB
 * allocations (page faults included) are reported beside them.
 */
import { Command } from 'commander';

import { native } from '../src/native';
import { computeRopeTables } from '../src/rope';

async function main(): Promise<void> {
  const opts = new Command('bench:rope')
    .option('--seq <n>', 'sequence length', '4096')
    .option('--heads <n>', 'query heads', '32')
    .option('--kv-heads <n>', 'key heads', '32')
    .option('--head-dim <n>', 'head dim', '128')
    .option('--dtype <t>', 'float32 or bfloat16', 'float32')
    .option('--device <d>', 'cpu or cuda', 'cpu')
    .option('--iterations <n>', 'timed iterations (median reported)', '20')
    .parse()
    .opts();
  const headDim = Number(opts.headDim);
  const tables = computeRopeTables({
    method: 'yarn', headDim, base: 10000, originalLength: 4096, length: 32 * 4096,
  });
  const binding = native();
  const r = await binding.ropeBenchmark({
    ...tables,
    seq: Number(opts.seq), heads: Number(opts.heads), kvHeads: Number(opts.kvHeads), headDim,
    dtype: opts.dtype, device: opts.device, iterations: Number(opts.iterations), warmup: 3,
  });
  const gbps = (ms: number) => r.bytes / ms / 1e6;
  const result = {
    bench: 'rope',
    shape: [1, Number(opts.seq), Number(opts.heads), headDim],
    kvHeads: Number(opts.kvHeads),
    dtype: opts.dtype,
    device: opts.device,
    threads: r.threads,
    torchVersion: binding.runtimeInfo().torchVersion,
    bytesPerApply: r.bytes,
    ms: { fusedInPlace: r.fusedInPlaceMs, fusedOutOfPlace: r.fusedMs, fusedAllocating: r.fusedAllocMs,
      naive: r.naiveMs, copy: r.copyMs, angleTables: r.tablesMs },
    gbPerSecond: { fusedInPlace: gbps(r.fusedInPlaceMs), fusedOutOfPlace: gbps(r.fusedMs), copy: gbps(r.copyMs) },
    speedupVsNaive: r.naiveMs / r.fusedInPlaceMs,
    speedupVsNaiveOutOfPlace: r.naiveMs / r.fusedMs,
    bandwidthFraction: r.copyMs / r.fusedInPlaceMs,
    bandwidthFractionOutOfPlace: r.copyMs / r.fusedMs,
    targets: { speedupVsNaive: 4, bandwidthFraction: 0.6 },
  };
  const pass = result.speedupVsNaive >= 4 && result.bandwidthFraction >= 0.6;
  console.log(JSON.stringify({ ...result, pass }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
