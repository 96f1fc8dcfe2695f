/**
 * `npm run search-results`: the 8x search on the bundled tiny model (256 -> 2048) without
 * fine-tuning, and its held-out comparison with PI, NTK and YaRN (issue 5/8's results).
 * Searches run on half of the evaluation split; perplexity and passkey are measured on the other
 * half, which no search saw. Each search is resumable (its run directory under .runs/), so a
 * killed run continues. Writes docs/results/search.{md,json}.
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { writeJsonAtomic } from '../src/common/files';
import { ByteTokenizer } from '../src/data/tokenizer';
import { buildNeedleRows, evaluatePasskey } from '../src/eval';
import { Model } from '../src/model/model';
import type { RopeSpec } from '../src/rope/types';
import { needleFitness, perplexityFitness, runSearch, theoreticalCriticalDim, type SearchResult } from '../src/search';
import { heldOutWindows, searchSplit } from './lib/search-split';

const ROOT = path.resolve(__dirname, '..');

interface Variant { name: string; fitness: 'ppl' | 'needle'; searchNHat: boolean; searchAttention: boolean; criticalDim: boolean }

const VARIANTS: Variant[] = [
  { name: 'factors + nHat (paper)', fitness: 'ppl', searchNHat: true, searchAttention: false, criticalDim: false },
  { name: 'factors only', fitness: 'ppl', searchNHat: false, searchAttention: false, criticalDim: false },
  { name: 'factors + nHat + attention', fitness: 'ppl', searchNHat: true, searchAttention: true, criticalDim: false },
  { name: 'critical dim + nHat', fitness: 'ppl', searchNHat: true, searchAttention: false, criticalDim: true },
  { name: 'needle fitness, factors + nHat', fitness: 'needle', searchNHat: true, searchAttention: false, criticalDim: false },
];

async function main(): Promise<void> {
  const o = new Command('search-results')
    .option('--model <dir>', 'model directory', path.join(ROOT, 'models', 'tiny-base'))
    .option('--target <n>', 'target length', '2048')
    .option('--runs <dir>', 'run directories', path.join(ROOT, '.runs', 'search-results'))
    .option('--population <n>', '', '12').option('--parents <n>', '', '6').option('--mutations <n>', '', '4')
    .option('--crossovers <n>', '', '4').option('--iterations <n>', '', '5').option('--samples <n>', '', '3')
    .option('--only <names>', 'comma-separated variant indices to run (default all)')
    .parse().opts();
  const target = Number(o.target);
  const model = await Model.load(o.model);
  const tok = new ByteTokenizer();
  const { searchPool, heldOut } = await searchSplit();
  const base = model.config.rope;
  const settings = { population: +o.population, parents: +o.parents, mutations: +o.mutations, crossovers: +o.crossovers, iterations: +o.iterations, seed: 0 };
  const searches: { variant: Variant; result: SearchResult }[] = [];
  const only = o.only ? String(o.only).split(',').map(Number) : VARIANTS.map((_, i) => i);
  for (const i of only) {
    const v = VARIANTS[i];
    const long = searchPool.filter((d) => d.length >= target);
    const fitness = v.fitness === 'ppl'
      ? perplexityFitness(model, searchPool, { length: target, samples: +o.samples, seed: 0 })
      : needleFitness(model, buildNeedleRows(tok, long.slice(0, 3), { length: target, depths: 3, seed: 0, bosTokenId: model.config.bosTokenId }));
    const out = path.join(o.runs, `variant-${i}`);
    const t0 = Date.now();
    const result = await runSearch({
      fitness, out, resume: fs.existsSync(path.join(out, 'search.json')), settings,
      space: { base, targetLength: target, searchNHat: v.searchNHat, searchAttention: v.searchAttention, criticalDim: v.criticalDim ? theoreticalCriticalDim(base) : null },
      signature: { model: o.model, variant: v.name, samples: +o.samples },
      onGeneration: (g) => console.error(`[${v.name}] generation ${g.generation}: best ${g.best.toFixed(4)} (${g.evaluations} evaluations, ${Math.round((Date.now() - t0) / 1000)} s)`),
    });
    searches.push({ variant: v, result });
  }
  // Held-out comparison: non-overlapping windows of `target` tokens (BOS + target-1), up to 3 per document.
  const windows = heldOutWindows(heldOut, target, model.config.bosTokenId!);
  const s = target / base.originalLength;
  const plain = { headDim: base.headDim, base: base.base, originalLength: base.originalLength, length: target };
  const methods: { name: string; spec: RopeSpec }[] = [
    { name: 'none', spec: { ...plain, method: 'none', length: base.originalLength } },
    { name: 'PI', spec: { ...plain, method: 'linear', factor: s } },
    { name: 'NTK', spec: { ...plain, method: 'ntk', factor: s } },
    { name: 'YaRN', spec: { ...plain, method: 'yarn', factor: s } },
    ...searches.map((x) => ({ name: `LongRoPE: ${x.variant.name}`, spec: x.result.bestSpec })),
  ];
  const perWindow = new Map<string, number[]>();
  const rows = [];
  for (const m of methods) {
    const means: number[] = [];
    for (const w of windows) {
      const nll = await model.nll(w, { rope: m.spec });
      means.push(nll.reduce((a, b) => a + b, 0) / nll.length);
    }
    perWindow.set(m.name, means);
    const passkey = await evaluatePasskey(model, tok, { lengths: [target], trials: 10, seed: 0, rope: m.spec });
    rows.push({ method: m.name, ppl: Math.exp(means.reduce((a, b) => a + b, 0) / means.length), passkey: passkey[0].accuracy, spec: m.spec });
    console.error(`${m.name}: held-out ppl ${rows[rows.length - 1].ppl.toFixed(4)}, passkey ${passkey[0].accuracy}`);
  }
  const wins = (a: string, b: string) => perWindow.get(a)!.filter((v, i) => v < perWindow.get(b)![i]).length;
  const result = {
    model: path.relative(ROOT, o.model), target, originalLength: base.originalLength, heldOutWindows: windows.length,
    searchSettings: settings, samples: +o.samples, criticalDim: theoreticalCriticalDim(base),
    methods: rows,
    searches: searches.map((x) => ({ variant: x.variant, evaluations: x.result.evaluations, seconds: x.result.seconds, bestFitness: x.result.bestFitness,
      evaluationsPerMinute: x.result.evaluations / (x.result.seconds / 60), outsideFitnessShare: x.result.outsideFitnessShare, history: x.result.history.map((h) => ({ generation: h.generation, best: h.best, evaluations: h.evaluations })) })),
    windowWins: Object.fromEntries(searches.map((x) => {
      const n = `LongRoPE: ${x.variant.name}`;
      return [n, { vsPI: wins(n, 'PI'), vsNTK: wins(n, 'NTK'), vsYaRN: wins(n, 'YaRN'), of: windows.length }];
    })),
  };
  model.dispose();
  fs.mkdirSync(path.join(ROOT, 'docs', 'results'), { recursive: true });
  writeJsonAtomic(path.join(ROOT, 'docs', 'results', 'search.json'), result);
  console.log(JSON.stringify({ methods: rows.map((r) => ({ method: r.method, ppl: r.ppl, passkey: r.passkey })), windowWins: result.windowWins }, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
