/** Memory estimates: hand-computed numbers for a tiny config, sanity numbers for LLaMA-2-7B. */
import test from 'ava';

import { parseModelConfig } from '../../src/model/config';
import { countParameters, estimateMemory, formatBytes } from '../../src/model/estimate';
import { LLAMA2_7B, tinyConfigJson } from '../fixtures/checkpoint/make';

// V=32, H=16, I=24, 2 layers, 4 heads, 2 KV heads, head dim 4, untied.
const tiny = parseModelConfig(tinyConfigJson());
const llama7b = parseModelConfig(LLAMA2_7B);

test('parameter counts', (t) => {
  // 2 x 32x16 embeddings + 2 x (768 attention + 1152 MLP + 32 norms) + 16 final norm.
  t.is(countParameters(tiny), 4944);
  t.is(countParameters(parseModelConfig(tinyConfigJson({ tie_word_embeddings: true }))), 4944 - 512);
  t.is(countParameters(llama7b), 6_738_415_616);
});

test('tiny NLL on CPU, by hand', (t) => {
  const e = estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'nll' });
  t.deepEqual(e.breakdown, {
    weights: 4944 * 4,
    residual: 100 * 16 * 4,
    normed: 100 * 16 * 4,
    qkv: 100 * (4 + 2 * 2) * 4 * 4,
    attentionOutput: 100 * 16 * 4,
    mlpChunk: 100 * 3 * 24 * 4,
    logits: 100 * 32 * 4,
    overhead: 400e6,
  });
  t.is(e.weightsBytes, 19776);
  t.is(e.activationBytes, 60800);
  t.is(e.kvCacheBytes, 0);
  t.is(e.logitsBytes, 12800);
  t.is(e.totalBytes, 400_093_376);
});

test('tiny NLL: chunk and batch', (t) => {
  const e = estimateMemory(tiny, { length: 100, batch: 2, chunk: 10, device: 'cpu', mode: 'nll' });
  t.is(e.activationBytes, 12800 + 12800 + 25600 + 12800 + 10 * 72 * 4);
  t.is(e.logitsBytes, 10 * 32 * 4);
});

test('tiny generation on CUDA (bf16): KV cache and last-position logits', (t) => {
  const e = estimateMemory(tiny, { length: 100, device: 'cuda', mode: 'generate' });
  t.is(e.weightsBytes, 9888);
  t.is(e.kvCacheBytes, 2 * 2 * 100 * 2 * 4 * 2);
  t.is(e.logitsBytes, 32 * 4);
  t.is(e.activationBytes, 30400);
  t.is(e.totalBytes, 600_046_816);
  t.is(estimateMemory(tiny, { length: 100, device: 'cuda', dtype: 'float32', mode: 'generate' }).weightsBytes, 19776);
});

test('tiny training on CPU: checkpoints, one layer and its gradients, optimizer', (t) => {
  const e = estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'train' });
  const layer = 100 * (4 * 16 + 8 * 4 + 16 + 3 * 24) * 4 + 100 * 4 * 4;
  t.like(e.breakdown, { checkpoints: 2 * 100 * 16 * 4, layerActivations: layer, layerGradients: layer, optimizer: 4944 * 4 * 3, logits: 25600 });
  t.is(e.activationBytes, 12800 + 2 * layer);
  t.is(e.totalBytes, 400_267_904);
  t.is(estimateMemory(tiny, { length: 100, device: 'cuda', mode: 'train' }).breakdown.optimizer, 4944 * 16);
});

test('LLaMA-2-7B at 128k on CUDA', (t) => {
  const S = 131072;
  const nll = estimateMemory(llama7b, { length: S, device: 'cuda', mode: 'nll' });
  t.is(nll.weightsBytes, 13_476_831_232);
  t.is(formatBytes(nll.weightsBytes), '13.5 GB');
  t.is(nll.activationBytes, 2 * S * 4096 * 2 + S * 96 * 128 * 2 + S * 4096 * 2 + 4096 * 3 * 11008 * 2);
  t.is(nll.logitsBytes, 4096 * 32000 * 4);
  t.is(nll.totalBytes, 21_314_102_784);
  t.is(formatBytes(nll.totalBytes), '21.3 GB');
  const gen = estimateMemory(llama7b, { length: S, device: 'cuda', mode: 'generate' });
  t.is(gen.kvCacheBytes, 2 * 32 * S * 32 * 128 * 2);
  t.is(formatBytes(gen.totalBytes), '89.5 GB');
  const train = estimateMemory(llama7b, { length: S, device: 'cuda', mode: 'train' });
  t.true(train.totalBytes > 141e9, 'full fine-tuning of 7B at 128k does not fit one H200');
});

test('option errors', (t) => {
  t.throws(() => estimateMemory(tiny, { length: 0, device: 'cpu', mode: 'nll' }), { instanceOf: TypeError, message: 'Expected a positive integer for length but received 0 of type number' });
  t.throws(() => estimateMemory(tiny, { length: 8, batch: 1.5, device: 'cpu', mode: 'nll' }), { message: 'Expected a positive integer for batch but received 1.5 of type number' });
  t.throws(() => estimateMemory(tiny, { length: 8, device: 'tpu' as never, mode: 'nll' }), { message: 'Expected "cpu" or "cuda" for device but received "tpu" of type string' });
  t.throws(() => estimateMemory(tiny, { length: 8, device: 'cpu', mode: 'eval' as never }), { message: 'Expected "nll", "generate" or "train" for mode but received "eval" of type string' });
  t.throws(() => estimateMemory(tiny, { length: 8, device: 'cpu', mode: 'nll', dtype: 'float16' as never }), { message: 'Expected "float32" or "bfloat16" for dtype but received "float16" of type string' });
});

test('formatBytes', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(999), '999 B');
  t.is(formatBytes(999.7), '1.00 kB');
  t.is(formatBytes(1500), '1.50 kB');
  t.is(formatBytes(999_999), '1.00 MB');
  t.is(formatBytes(13_476_831_232), '13.5 GB');
  t.is(formatBytes(2.5e15), '2.50 PB');
  t.throws(() => formatBytes(-1), { instanceOf: TypeError });
});

test('sequence parallel: one rank of N holds its zigzag share of the activations, the whole model, and the ring buffers', (t) => {
  const one = estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'nll' });
  // 100 tokens over 4 ranks: 8 chunks of 13 (padded to 104), 26 per rank.
  const four = estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'nll', ranks: 4 });
  t.is(four.weightsBytes, one.weightsBytes);
  t.like(four.breakdown, { residual: 26 * 16 * 4, qkv: 26 * 8 * 4 * 4, logits: 26 * 32 * 4 });
  // K and V in flight (current + arriving), fp32, plus the fp32 output being merged.
  t.is(four.breakdown.ringBuffers, 2 * (2 * 26 * 2 * 4 * 4) + 26 * 4 * 4 * 4);
  const train = estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'train', ranks: 4 });
  t.is(train.breakdown.optimizer, 4944 * 4 * 3);
  t.is(train.breakdown.checkpoints, 2 * 26 * 16 * 4);
  t.is(train.breakdown.ringBuffers, 4 * (2 * 26 * 2 * 4 * 4) + 26 * 4 * 4 * 4);
  t.deepEqual(estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'nll', ranks: 1 }), one);
  t.throws(() => estimateMemory(tiny, { length: 100, device: 'cpu', mode: 'generate', ranks: 2 }), { instanceOf: TypeError, message: /ranks > 1 \(generation runs in one process\)/ });
  // LLaMA-2-7B at 2M tokens over 16 GPUs: the NLL fits one H200's share; training does not without sharding the optimizer.
  const nll = estimateMemory(llama7b, { length: 2 ** 21, device: 'cuda', mode: 'nll', ranks: 16 });
  t.true(nll.totalBytes < 40e9, formatBytes(nll.totalBytes));
  const tr = estimateMemory(llama7b, { length: 2 ** 21, device: 'cuda', mode: 'train', ranks: 16 });
  t.true(tr.breakdown.optimizer > 100e9);
});
