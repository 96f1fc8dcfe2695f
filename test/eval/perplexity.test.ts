/** Perplexity window bookkeeping against hand-computed values, and against model.nll on tiny-llama. */
import test from 'ava';

import { evaluatePerplexity, planWindows, sampleDocuments } from '../../src/eval/perplexity';
import { measureEvalOverhead } from '../../src/eval/overhead';
import { Model } from '../../src/model/model';
import { FakeModel, TINY } from './helpers';

// NLL of a token = 0.01 * id + 0.1 * position in the window input (BOS at position 0).
const fn = (tokens: number[], t: number) => 0.01 * tokens[t] + 0.1 * t;
const doc10 = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];

test('windows: BOS + L-1 doc tokens; first scores all, later ones the last `stride`; no padded tail', (t) => {
  t.deepEqual(planWindows(10, 5, { stride: 2 }), [
    { start: 0, docTokens: 4, scoreFrom: 1, scored: 4 },
    { start: 2, docTokens: 4, scoreFrom: 3, scored: 2 },
    { start: 4, docTokens: 4, scoreFrom: 3, scored: 2 },
    { start: 6, docTokens: 4, scoreFrom: 3, scored: 2 },
  ]);
  // An 11th token would need a window starting at 8 (ending at 12): skipped, as the reference does.
  t.is(planWindows(11, 5, { stride: 2 }).length, 4);
  t.deepEqual(planWindows(3, 5, { stride: 2 }), [], 'shorter than L-1: no window');
  t.is(planWindows(4, 5, { stride: 2 }).length, 1, 'exactly L-1 tokens: one window');
  t.deepEqual(planWindows(10, 5, { stride: 2, truncate: true }), [{ start: 0, docTokens: 4, scoreFrom: 1, scored: 4 }]);
  // Stride wider than the window: each window scores all of its tokens; the gap is not scored.
  t.deepEqual(planWindows(12, 5, { stride: 6 }), [
    { start: 0, docTokens: 4, scoreFrom: 1, scored: 4 },
    { start: 6, docTokens: 4, scoreFrom: 1, scored: 4 },
  ]);
  // Without BOS a window holds L doc tokens and its first token cannot be scored.
  t.deepEqual(planWindows(10, 5, { stride: 2, bos: false }), [
    { start: 0, docTokens: 5, scoreFrom: 1, scored: 4 },
    { start: 2, docTokens: 5, scoreFrom: 3, scored: 2 },
    { start: 4, docTokens: 5, scoreFrom: 3, scored: 2 },
  ]);
  t.throws(() => planWindows(10, 1), { message: 'Expected a length of at least 2 for length but received 1' });
  t.throws(() => planWindows(10, 5, { stride: 0 }), { message: 'Expected a positive integer for stride but received 0' });
});

test('ppl = exp(mean over windows of window means), each token scored once, by hand', async (t) => {
  const model = new FakeModel(fn);
  const [r] = await evaluatePerplexity(model, [doc10], { lengths: [5], stride: 2 });
  // Window means: (0.01*46 + 0.1*10)/4 = 0.365; then (0.01*29 + 0.7)/2 = 0.495, 0.515, 0.535.
  const want = (0.365 + 0.495 + 0.515 + 0.535) / 4;
  t.true(Math.abs(r.meanNll - want) < 1e-6, `${r.meanNll} vs ${want}`);
  t.true(Math.abs(r.ppl - Math.exp(want)) < 1e-5);
  t.like(r, { length: 5, tokens: 10, windows: 4, documents: 1, skipped: 0 });
  // The exact model inputs: BOS (99) then the window's doc tokens; scoreFrom skips the overlap.
  t.deepEqual(model.calls.map((c) => [c.tokens, c.scoreFrom]), [
    [[99, 10, 11, 12, 13], 1],
    [[99, 12, 13, 14, 15], 3],
    [[99, 14, 15, 16, 17], 3],
    [[99, 16, 17, 18, 19], 3],
  ]);
  // Every document token was scored exactly once.
  const scored = model.calls.flatMap((c) => c.tokens.slice(c.scoreFrom));
  t.deepEqual(scored, doc10);
});

test('several documents and lengths in one call; short documents are skipped and counted', async (t) => {
  const model = new FakeModel(fn);
  const docs = [doc10, [1, 2, 3], [5, 6, 7, 8, 9, 10, 11]];
  const seen: [number, number][] = [];
  const rs = await evaluatePerplexity(model, docs, { lengths: [5, 8], stride: 2, onProgress: (d, n) => seen.push([d, n]) });
  // L=5: doc10 -> 4 windows, [1,2,3] skipped, 7 tokens -> windows at 0 and 2 (scores 4 + 2).
  t.like(rs[0], { length: 5, windows: 6, tokens: 16, documents: 2, skipped: 1 });
  const w = [0.365, 0.495, 0.515, 0.535, (0.01 * 26 + 1) / 4, (0.01 * 19 + 0.7) / 2];
  t.true(Math.abs(rs[0].meanNll - w.reduce((a, b) => a + b) / w.length) < 1e-6);
  // L=8 (7 doc tokens): doc10 -> windows at 0 and 2 (7 + 2 tokens); the 7-token doc -> one window.
  t.like(rs[1], { length: 8, windows: 3, tokens: 16, documents: 2, skipped: 1 });
  t.deepEqual(seen[0], [0, 9]);
  t.deepEqual(seen[seen.length - 1], [9, 9]);
  t.is(seen.length, 10);
});

test('truncate: one window of BOS + the first L-1 tokens per document', async (t) => {
  const model = new FakeModel(fn);
  const [r] = await evaluatePerplexity(model, [doc10, [1, 2]], { lengths: [5], truncate: true });
  t.like(r, { windows: 1, tokens: 4, documents: 1, skipped: 1 });
  t.deepEqual(model.calls[0], { tokens: [99, 10, 11, 12, 13], scoreFrom: 1, rope: undefined });
  t.true(Math.abs(r.ppl - Math.exp(0.365)) < 1e-5);
});

test('no BOS id: windows of L document tokens', async (t) => {
  const model = new FakeModel(fn, { bosTokenId: null });
  const [r] = await evaluatePerplexity(model, [doc10], { lengths: [5], stride: 2 });
  t.deepEqual(model.calls.map((c) => [c.tokens, c.scoreFrom]), [
    [[10, 11, 12, 13, 14], 1],
    [[12, 13, 14, 15, 16], 3],
    [[14, 15, 16, 17, 18], 3],
  ]);
  t.is(r.tokens, 8);
});

test('samples: Python random.Random(seed).sample order; rope per length; abort', async (t) => {
  t.deepEqual(sampleDocuments(10, 3, 5), [9, 4, 5]); // random.Random(5).sample(range(10), 3)
  t.deepEqual(sampleDocuments(3, undefined), [0, 1, 2]);
  t.deepEqual(sampleDocuments(3, 10, 1), [0, 1, 2]);
  const docs = Array.from({ length: 10 }, (_, i) => [i + 1, i + 2, i + 3, i + 4]);
  const model = new FakeModel(fn);
  const spec = { ...model.config.rope, method: 'linear' as const, length: 8192 };
  const [r] = await evaluatePerplexity(model, docs, { lengths: [5], samples: 3, seed: 5, rope: (L) => (L === 5 ? spec : undefined) });
  t.is(r.documents, 3);
  t.deepEqual(model.calls.map((c) => c.tokens[1]), [10, 5, 6]);
  t.true(model.calls.every((c) => c.rope === spec));
  await t.throwsAsync(evaluatePerplexity(model, docs, { lengths: [5], signal: AbortSignal.abort() }), { name: 'AbortError' });
  await t.throwsAsync(evaluatePerplexity(model, docs, { lengths: [] }), { message: 'Expected at least one evaluation length for lengths but received none' });
});

test('tiny-llama end to end: equals a direct computation from full-window model.nll', async (t) => {
  const model = await Model.load(TINY);
  try {
    const doc = Array.from({ length: 150 }, (_, i) => (i * 131 + 7) % 300);
    const L = 48;
    const stride = 16;
    const [r] = await evaluatePerplexity(model, [doc], { lengths: [L], stride });
    // Direct: every window scored in full (scoreFrom 1), keeping the entries the protocol scores.
    const means: number[] = [];
    let prevEnd = 0;
    for (let b = 0; b + L - 1 <= doc.length; b += stride) {
      const full = await model.nll([1, ...doc.slice(b, b + L - 1)]);
      const end = b + L - 1;
      const keep = full.slice(full.length - (end - prevEnd));
      means.push(keep.reduce((a, v) => a + v, 0) / keep.length);
      prevEnd = end;
    }
    const want = Math.exp(means.reduce((a, v) => a + v, 0) / means.length);
    t.is(r.windows, means.length);
    t.true(Math.abs(r.ppl - want) / want < 1e-5, `${r.ppl} vs ${want}`);
    t.true(r.ppl > 1 && r.ppl < 1e4);
    const o = await measureEvalOverhead(model, doc, { length: L, stride, repeats: 1 });
    t.is(o.windows, means.length);
    t.true(o.evalMs > 0 && o.directMs > 0 && Number.isFinite(o.overheadFraction));
  } finally {
    model.dispose();
  }
});
