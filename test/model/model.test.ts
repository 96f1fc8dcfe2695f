// Model API behaviour: the naive path as a second reference, cancellation, progress, a free event
// loop during native work, save/load round trips, and bad input.
import test from 'ava';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { readSafetensorsHeader } from '../../src/model/safetensors';
import { Model } from '../../src/model/model';
import { writeRandomModel } from '../../scripts/lib/random-model';
import { maxErrors } from '../helpers/reference-rope';

const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');
const tokens = Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % 300);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-model-'));
}

test('the plain libtorch-ops path (impl: naive) agrees with the fused runtime', async (t) => {
  const model = await Model.load(TINY);
  const spec = { ...model.config.rope, method: 'yarn' as const, length: 256 };
  const fused = await model.nll(tokens, { rope: spec, positionOffset: 3 });
  const naive = await model.nll(tokens, { rope: spec, positionOffset: 3, impl: 'naive' });
  t.true(maxErrors(fused, naive).abs < 1e-4);
  model.dispose();
});

test('a long NLL can be cancelled, reports progress and leaves the event loop free', async (t) => {
  const dir = tmp();
  writeRandomModel(dir, { numLayers: 4, hiddenSize: 256, maxPositionEmbeddings: 256 });
  const model = await Model.load(dir);
  const long = Int32Array.from({ length: 6144 }, (_, i) => i % 258);
  const rope = { ...model.config.rope, method: 'linear' as const, length: 8192 };
  // Progress and a free event loop: timers fire while the forward runs off the JS thread.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const seen: [number, number][] = [];
  await model.nll(long.subarray(0, 2048), { rope, onProgress: (d, n) => seen.push([d, n]), progressIntervalMs: 10 });
  clearInterval(timer);
  t.true(ticks > 3, `event loop ticks during the job: ${ticks}`);
  t.deepEqual(seen[seen.length - 1], [5, 5], 'done = total = layers + 1 at the end');
  // Cancellation mid-job.
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 50);
  await t.throwsAsync(model.nll(long, { rope, signal: controller.signal }), { name: 'AbortError' });
  t.true(Date.now() - started < 5000, 'stopped well before a full forward');
  // Already aborted: rejects at once; the model is still usable afterwards.
  await t.throwsAsync(model.nll(long, { rope, signal: AbortSignal.abort() }), { name: 'AbortError' });
  const ok = await model.nll(long.subarray(0, 16), { rope });
  t.is(ok.length, 15);
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('save then load: fp32 reproduces logits exactly, bf16 within rounding; RoPE written to config.json', async (t) => {
  const model = await Model.load(TINY);
  const want = await model.logits(tokens, { lastN: 2 });
  const longrope = {
    method: 'longrope' as const, headDim: 16, base: 10000, originalLength: 64, length: 512,
    longFactors: [1, 1, 1.5, 2, 3, 4, 6, 8], shortFactors: [1, 1, 1, 1, 1, 1, 1, 1],
  };
  const f32 = tmp();
  await model.save(f32, { rope: longrope, dtype: 'float32' });
  const config = JSON.parse(fs.readFileSync(path.join(f32, 'config.json'), 'utf8'));
  t.is(config.rope_scaling.rope_type, 'longrope');
  t.deepEqual(config.rope_scaling.long_factor, longrope.longFactors);
  t.is(config.original_max_position_embeddings, 64);
  t.is(config.max_position_embeddings, 512);
  t.false(fs.existsSync(path.join(f32, 'model.safetensors.tmp')));
  const header = readSafetensorsHeader(path.join(f32, 'model.safetensors'));
  t.is(header.entries.length, model.info().parameters.length);
  const reloaded = await Model.load(f32);
  t.is(reloaded.config.rope.method, 'longrope');
  const plain = model.ropeTables(model.config.rope, tokens.length);
  t.deepEqual(await reloaded.logits(tokens, { lastN: 2, rope: plain }), await model.logits(tokens, { lastN: 2, rope: plain }));
  const bf16 = tmp();
  await model.save(bf16, { dtype: 'bfloat16' });
  const reloadedBf16 = await Model.load(bf16);
  t.is(reloadedBf16.config.torchDtype, 'bfloat16');
  const got = await reloadedBf16.logits(tokens, { lastN: 2 });
  const err = maxErrors(got, want);
  t.true(err.abs > 0 && err.abs < 0.05, `bf16 weights change logits a little: ${err.abs}`);
  for (const m of [model, reloaded, reloadedBf16]) m.dispose();
});

test('bad input: token ids, lengths, RoPE head dim, disposed models', async (t) => {
  const model = await Model.load(TINY);
  await t.throwsAsync(model.nll([1, 2, 300]), { message: 'Expected token ids in [0, 300) for tokens but received 300 at index 2' });
  await t.throwsAsync(model.nll([1]), { message: 'Expected at least 2 token(s) for tokens but received 1' });
  await t.throwsAsync(model.logits([1, 2], { rope: { ...model.config.rope, headDim: 32 } }), {
    message: "Expected 16 (the model's rotary dims) for rope.headDim but received 32 of type number",
  });
  await t.throwsAsync(model.nll([1, 2, 3], { scoreFrom: 5 }), { message: /scoreFrom must be in \[1, 2\], got 5/ });
  // A length the memory estimator says will not fit is refused before any native work.
  const small = await Model.load(TINY, { memoryLimitBytes: 500e6 });
  await t.throwsAsync(small.nll(new Int32Array(200_000).fill(1)), {
    message: /^Expected a length that fits in 500 MB for tokens but received 200000 tokens, which need an estimated [\d.]+ [MG]B/,
  });
  t.is((await small.nll([1, 2, 3])).length, 2);
  await t.throwsAsync(small.generate([1, 2], { maxNewTokens: 10_000_000 }), { message: /received 10000002 tokens/ });
  small.dispose();
  model.dispose();
  model.dispose();  // idempotent
  await t.throwsAsync(model.nll([1, 2, 3]), { message: 'This model has been disposed' });
  await t.throwsAsync(Model.load('/nonexistent/model'), { message: '/nonexistent/model: no such directory' });
});

test('RoPE tables are cached by content: a spec edited in place is never served stale tables', async (t) => {
  const model = await Model.load(TINY);
  try {
    const ids = Array.from({ length: 40 }, (_, i) => 3 + ((i * 31) % 290));
    const spec = { ...model.config.rope, method: 'linear' as const, length: 256, factor: 2 };
    const a = await model.nll(ids, { rope: spec });
    const again = await model.nll(ids, { rope: spec });
    t.deepEqual(Array.from(again), Array.from(a));
    spec.factor = 4;
    const b = await model.nll(ids, { rope: spec });
    const fresh = await model.nll(ids, { rope: { ...spec } });
    t.deepEqual(Array.from(b), Array.from(fresh));
    t.notDeepEqual(Array.from(b), Array.from(a));
  } finally {
    model.dispose();
  }
});
