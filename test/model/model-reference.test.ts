// The native LLaMA/Mistral runtime against fixtures computed by an independent PyTorch
// implementation (tools/fixtures/llama_reference.py): logits, per-token NLL, greedy decoding,
// the short/long factor switch, GQA, bf16 sharded weights, tied embeddings, sliding window.
import test from 'ava';
import fs from 'fs';
import path from 'path';

import { Model } from '../../src/model/model';
import { computeRopeTables } from '../../src/rope';
import type { RopeTables } from '../../src/rope/types';
import { maxErrors } from '../helpers/reference-rope';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'model');

interface FixtureRope { invFreq: number[]; baseInvFreq: number[]; attentionFactor: number; nHat: number }
interface FixtureCase {
  name: string; rope: FixtureRope; positionOffset: number; logitsPositions: number[]; logits: number[];
  nll: number[]; meanNll: number; nllNoWindow?: number[];
}
interface Fixture {
  tokens: number[]; cases: FixtureCase[];
  greedy: { rope: FixtureRope; positionOffset: number; prompt: number[]; newTokens: number[]; newTokensNoWindow?: number[] };
  switch?: { prompt: number[]; newTokens: number[]; steps: { seqLen: number; factorSet: string }[] };
}

function load(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8'));
}

function tables(r: FixtureRope): RopeTables {
  return { invFreq: Float32Array.from(r.invFreq), baseInvFreq: Float32Array.from(r.baseInvFreq), attentionFactor: r.attentionFactor, nHat: r.nHat };
}

for (const name of ['tiny-llama', 'tiny-mistral', 'tiny-longrope']) {
  test(`${name}: logits and per-token NLL match the PyTorch reference for every RoPE case`, async (t) => {
    const fx = load(name);
    const model = await Model.load(path.join(FIXTURES, name));
    try {
      for (const c of fx.cases) {
        const rope = tables(c.rope);
        const opts = { rope, positionOffset: c.positionOffset };
        const logits = await model.logits(fx.tokens, { ...opts, lastN: c.logitsPositions.length });
        const nll = await model.nll(fx.tokens, opts);
        const le = maxErrors(logits, c.logits);
        const ne = maxErrors(nll, c.nll);
        t.true(le.abs < 1e-4, `${c.name}: logits max abs error ${le.abs}`);
        t.true(ne.abs < 1e-4, `${c.name}: NLL max abs error ${ne.abs}`);
        if (c.nllNoWindow) t.true(maxErrors(nll, c.nllNoWindow).abs > 1e-2, `${c.name}: the sliding window matters`);
        // Small attention tiles exercise the multi-tile path (diagonal, window edges, skipped blocks).
        const tiled = await model.nll(fx.tokens, { ...opts, attentionTile: 16, chunk: 7 });
        t.true(maxErrors(tiled, c.nll).abs < 1e-4, `${c.name}: tile 16 / chunk 7`);
      }
    } finally {
      model.dispose();
    }
  });

  test(`${name}: greedy decoding with the KV cache equals the reference`, async (t) => {
    const fx = load(name);
    const model = await Model.load(path.join(FIXTURES, name));
    const g = fx.greedy;
    t.is(g.positionOffset, 0);
    const rope = tables(g.rope);
    const cached = await model.generate(g.prompt, { rope, maxNewTokens: g.newTokens.length, stopTokens: [] });
    t.deepEqual(cached.tokens, g.newTokens);
    t.is(cached.switchedAt, null);
    // The same through repeated full forwards (no cache).
    t.deepEqual(await generateWithTables(model, g.prompt, rope, g.newTokens.length), g.newTokens);
    if (g.newTokensNoWindow) t.notDeepEqual(cached.tokens, g.newTokensNoWindow);
    // Stop tokens end generation right after they are emitted.
    const stopped = await model.generate(g.prompt, { rope, maxNewTokens: g.newTokens.length, stopTokens: [g.newTokens[2]] });
    t.deepEqual(stopped.tokens, g.newTokens.slice(0, g.newTokens.indexOf(g.newTokens[2]) + 1));
    model.dispose();
  });
}

/** Greedy decoding by repeated full forwards with fixed tables: the cache-free reference path. */
async function generateWithTables(model: Model, prompt: number[], rope: RopeTables, n: number): Promise<number[]> {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = await model.logits(seq, { rope, lastN: 1 });
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
    seq.push(best);
  }
  return seq.slice(prompt.length);
}

test('tiny-longrope: generation across the original window switches to the long factors and rebuilds the cache', async (t) => {
  const fx = load('tiny-longrope');
  const sw = fx.switch!;
  const model = await Model.load(path.join(FIXTURES, 'tiny-longrope'));
  try {
    t.is(model.config.rope.method, 'longrope');
    const r = await model.generate(sw.prompt, { maxNewTokens: sw.newTokens.length, stopTokens: [] });
    t.deepEqual(r.tokens, sw.newTokens);
    t.is(r.switchedAt, sw.steps.find((s) => s.factorSet === 'long')!.seqLen);
    // A fresh forward over the final sequence with the long factors predicts the same last token.
    const seq = [...sw.prompt, ...r.tokens.slice(0, -1)];
    const fresh = await model.logits(seq, { rope: computeRopeTables(model.config.rope, seq.length), lastN: 1 });
    t.is(fresh.indexOf(Math.max(...fresh)), r.tokens[r.tokens.length - 1]);
  } finally {
    model.dispose();
  }
});
