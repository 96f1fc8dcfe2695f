/**
 * The search's fitness on a model whose NLLs are known: the paper's perplexity (BOS + the first
 * N-1 tokens of each sampled document) and its screening subset (the first k of the same windows).
 */
import test from 'ava';

import { perplexityFitness } from '../../src/search';
import { FakeModel, FAKE_ROPE } from '../eval/helpers';

// NLL of token t: its value / 100 (so each window's mean is known in closed form).
const model = new FakeModel((tokens, t) => tokens[t] / 100);
const docs = [3, 5, 7, 9, 11, 13].map((v, d) => Int32Array.from({ length: 10 + d }, () => v));
const spec = { ...FAKE_ROPE, method: 'linear' as const, factor: 2, length: 8 };

test('perplexity fitness: exp of the mean window NLL over the sampled documents; subset(k) scores the first k of them', async (t) => {
  const fitness = perplexityFitness(model, docs, { length: 8, samples: 4, seed: 1 });
  model.calls.length = 0;
  const full = await fitness.evaluate(spec);
  const windows = model.calls.map((c) => c.tokens);
  t.is(windows.length, 4);
  t.true(windows.every((w) => w.length === 8 && w[0] === 99), 'BOS + 7 tokens');
  const mean = (ws: number[][]) => ws.reduce((s, w) => s + w[1] / 100, 0) / ws.length;
  t.true(Math.abs(full - Math.exp(mean(windows))) < 1e-6, `${full} vs ${Math.exp(mean(windows))}`);
  model.calls.length = 0;
  const screened = await fitness.subset!(2).evaluate(spec);
  t.deepEqual(model.calls.map((c) => c.tokens), windows.slice(0, 2));
  t.true(Math.abs(screened - Math.exp(mean(windows.slice(0, 2)))) < 1e-6);
  t.is(fitness.subset!(2).callsPerEvaluation, 2);
  t.throws(() => fitness.subset!(5), { message: 'Expected a screening sample count from 1 to 4 (the fitness\'s samples) but received 5' });
});
