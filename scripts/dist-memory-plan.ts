/**
 * `npm run plan:dist [-- config.json]`: the per-rank memory plan of sequence parallelism from the
 * memory estimator (src/model/estimate.ts), as the Markdown table in docs/distributed.md.
 * Default model LLaMA-2-7B; lengths 128k, 512k and 2M tokens; 8 and 16 GPUs (ranks). CUDA,
 * bf16 compute, activation checkpointing per layer in training; the "sharded" column is what
 * sharding gradients, AdamW moments and the fp32 master copy over the ranks (ZeRO-2 style) would
 * leave per rank: an estimate of something this runtime does not do.
 */
import fs from 'fs';

import { parseModelConfig } from '../src/model/config';
import { estimateMemory, formatBytes } from '../src/model/estimate';
import { LLAMA2_7B } from '../test/fixtures/checkpoint/make';

const LENGTHS = [128 * 1024, 512 * 1024, 2048 * 1024];
const RANKS = [8, 16];

function main(): void {
  const file = process.argv[2];
  const config = parseModelConfig(file ? JSON.parse(fs.readFileSync(file, 'utf8')) : LLAMA2_7B, file ?? 'LLaMA-2-7B');
  const k = (n: number) => (n >= 1024 * 1024 ? `${n / (1024 * 1024)}M` : `${n / 1024}k`);
  console.log('| tokens | GPUs | tokens per GPU | NLL per GPU | training step per GPU | of which weights + grads + AdamW | training, optimizer state sharded |');
  console.log('|---|---|---|---|---|---|---|');
  for (const length of LENGTHS) {
    for (const ranks of RANKS) {
      const nll = estimateMemory(config, { length, device: 'cuda', mode: 'nll', ranks });
      const train = estimateMemory(config, { length, device: 'cuda', mode: 'train', ranks });
      const state = train.breakdown.weights + train.breakdown.optimizer;
      const sharded = train.totalBytes - train.breakdown.optimizer * (1 - 1 / ranks);
      console.log(`| ${k(length)} | ${ranks} | ${2 * Math.ceil(length / (2 * ranks))} | ${formatBytes(nll.totalBytes)} | ` +
        `${formatBytes(train.totalBytes)} | ${formatBytes(state)} | ${formatBytes(sharded)} |`);
    }
  }
}

main();
