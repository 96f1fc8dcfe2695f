/**
 * `npm run search-cost`: the paper's search against the multi-fidelity search (issue 5/8, "beyond
 * the paper") on the bundled tiny model, 8x (256 -> 2048), without fine-tuning. Both run on the
 * same search pool, the same fitness samples and the same three seeds; each best-so-far spec is
 * scored on held-out windows no search saw, so the curves (best perplexity vs cost in full
 * evaluations) compare what a user gets for what they pay. Every search is resumable under
 * .runs/search-cost; the held-out scores are cached there too. Writes docs/results/search-cost.{md,json,svg}.
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../src/common/files';
import { exportModel } from '../src/model/export';
import { Model } from '../src/model/model';
import { writeFigure } from '../src/report';
import type { RopeSpec } from '../src/rope/types';
import { perplexityFitness, runSearch, type EvolveSettings, type ScreeningSettings, type SearchResult } from '../src/search';
import { heldOutWindows, searchSplit } from './lib/search-split';

const ROOT = path.resolve(__dirname, '..');

interface Algorithm {
  name: string;
  settings: Partial<EvolveSettings>;
  screening?: ScreeningSettings;
}

/** The two searches: the paper's defaults, and the cheaper one (see docs/search.md). */
const ALGORITHMS: Record<string, Algorithm> = {
  paper: { name: 'paper (P=64, T=40, 5 samples)', settings: {} },
  'multi-fidelity': {
    // 64 x (1/5 + 1/4) + 28 x 32 x (1/5 + 1/4) = 432 full evaluations at most: under a third of the paper's 1,344.
    name: 'multi-fidelity (1-sample screening, top quarter promoted, T=28, patience 6)',
    settings: { iterations: 28, patience: 6, minImprovement: 0.001 },
    screening: { samples: 1, promote: 0.25 },
  },
};

interface Curve {
  algorithm: string;
  seed: number;
  /** After each generation: cost so far (full-evaluation equivalents), best search fitness, its held-out ppl. */
  points: { cost: number; evaluations: number; best: number; heldOut: number }[];
  final: { cost: number; evaluations: number; screenEvaluations: number; searchPpl: number; heldOutPpl: number; heldOutAll: number; seconds: number; spec: RopeSpec };
}

const specKey = (s: RopeSpec) => JSON.stringify(s);

async function main(): Promise<void> {
  const o = new Command('search-cost')
    .option('--model <dir>', 'model directory', path.join(ROOT, 'models', 'tiny-base'))
    .option('--target <n>', 'target length', '2048')
    .option('--runs <dir>', 'run directories', path.join(ROOT, '.runs', 'search-cost'))
    .option('--seeds <list>', 'search seeds', '0,1,2')
    .option('--algorithms <list>', 'algorithms to run', Object.keys(ALGORITHMS).join(','))
    .option('--samples <n>', 'fitness documents', '5')
    .option('--curve-windows <n>', 'held-out windows for the per-generation curve', '30')
    .option('--out <dir>', 'results folder', path.join(ROOT, 'docs', 'results'))
    .option('--export <dir>', 'also export the run with the best held-out perplexity there (HF format, e.g. models/tiny-longrope-8x)')
    .parse().opts();
  const target = Number(o.target);
  const seeds = String(o.seeds).split(',').map(Number);
  const algorithms = String(o.algorithms).split(',');
  for (const a of algorithms) if (!ALGORITHMS[a]) throw new Error(`Unknown algorithm ${a} (expected one of ${Object.keys(ALGORITHMS).join(', ')})`);
  const model = await Model.load(o.model);
  const { searchPool, heldOut } = await searchSplit();
  const allWindows = heldOutWindows(heldOut, target, model.config.bosTokenId!);
  // The curve uses an evenly spaced subset of the held-out windows; the final figure all of them.
  const step = Math.max(1, Math.floor(allWindows.length / Number(o.curveWindows)));
  const curveWindows = allWindows.filter((_, i) => i % step === 0).slice(0, Number(o.curveWindows));
  const fitness = perplexityFitness(model, searchPool, { length: target, samples: Number(o.samples), seed: 0 });

  // Held-out scores by window count and spec, kept across runs of this script (read once).
  const cacheFile = path.join(o.runs, 'held-out-cache.json');
  const cache = (readJsonFile(cacheFile) as Record<string, number> | undefined) ?? {};
  const heldOutPpl = async (spec: RopeSpec, windows: Int32Array[]): Promise<number> => {
    const key = `${windows.length}:${specKey(spec)}`;
    if (cache[key] === undefined) {
      let sum = 0;
      let count = 0;
      for (const w of windows) {
        const nll = await model.nll(w, { rope: spec });
        for (const v of nll) sum += v;
        count += nll.length;
      }
      cache[key] = Math.exp(sum / count);
      // Merged with what another run of this script may have written meanwhile.
      writeJsonAtomic(cacheFile, { ...((readJsonFile(cacheFile) as Record<string, number> | undefined) ?? {}), ...cache });
    }
    return cache[key];
  };

  const curves: Curve[] = [];
  for (const seed of seeds) {
    for (const a of algorithms) {
      const alg = ALGORITHMS[a];
      const out = path.join(o.runs, `${a}-seed${seed}`);
      const t0 = Date.now();
      const result: SearchResult = await runSearch({
        fitness, out, resume: fs.existsSync(path.join(out, 'search.json')),
        settings: { ...alg.settings, seed }, screening: alg.screening,
        space: { base: model.config.rope, targetLength: target },
        signature: { model: path.relative(ROOT, o.model), samples: Number(o.samples), sampleSeed: 0 },
        onGeneration: (g) => console.error(`[${a} seed ${seed}] generation ${g.generation}: best ${g.best.toFixed(4)} ` +
          `(cost ${g.cost.toFixed(1)} full evaluations, ${Math.round((Date.now() - t0) / 1000)} s)`),
      });
      const points: Curve['points'] = [];
      for (const g of result.history) {
        points.push({ cost: g.cost ?? g.evaluations, evaluations: g.evaluations, best: g.best, heldOut: await heldOutPpl(g.bestSpec, curveWindows) });
      }
      curves.push({
        algorithm: a, seed, points,
        final: {
          cost: result.cost, evaluations: result.evaluations, screenEvaluations: result.screenEvaluations, searchPpl: result.bestFitness,
          heldOutPpl: points[points.length - 1].heldOut, heldOutAll: await heldOutPpl(result.bestSpec, allWindows),
          seconds: result.seconds, spec: result.bestSpec,
        },
      });
      console.error(`[${a} seed ${seed}] done: cost ${result.cost.toFixed(1)}, search ppl ${result.bestFitness.toFixed(4)}, ` +
        `held-out ppl ${curves[curves.length - 1].final.heldOutAll.toFixed(4)} (${allWindows.length} windows)`);
    }
  }
  const yarn: RopeSpec = { headDim: model.config.rope.headDim, base: model.config.rope.base, originalLength: model.config.rope.originalLength, length: target, method: 'yarn', factor: target / model.config.rope.originalLength };
  const yarnHeldOut = await heldOutPpl(yarn, allWindows);
  model.dispose();
  if (o.export) exportBest(o.model, String(o.export), curves, allWindows.length, Number(o.samples));
  await writeResults(o.out, { target, samples: Number(o.samples), curveWindows: curveWindows.length, heldOutWindows: allWindows.length, yarnHeldOut, curves });
}

/** The run with the lowest held-out perplexity, exported with a provenance that names it. */
function exportBest(modelDir: string, out: string, curves: Curve[], windows: number, samples: number): void {
  const best = curves.reduce((a, b) => (b.final.heldOutAll < a.final.heldOutAll ? b : a));
  exportModel(modelDir, best.final.spec, out, {
    search: `npm run search-cost -- --export ${path.relative(ROOT, path.resolve(out))}: the ${ALGORITHMS[best.algorithm].name} run with seed ${best.seed}, ` +
      'the best held-out perplexity of the runs',
    fitness: `perplexity at ${best.final.spec.length} tokens, ${samples} documents of the evaluation split (even-indexed half), sample seed 0`,
    evaluations: best.final.evaluations,
    heldOutPerplexity: best.final.heldOutAll,
    heldOutWindows: windows,
    results: 'docs/results/search-cost.md',
  });
  console.error(`exported ${best.algorithm} seed ${best.seed} (held-out ${best.final.heldOutAll.toFixed(4)}) to ${out}`);
}

interface Results {
  target: number;
  samples: number;
  curveWindows: number;
  heldOutWindows: number;
  yarnHeldOut: number;
  curves: Curve[];
}

/** search-cost.json, the plot (SVG and PNG) and the Markdown table. */
async function writeResults(dir: string, r: Results): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path.join(dir, 'search-cost.json'), r);
  const values = r.curves.flatMap((c) => c.points.map((p) => ({ ...p, run: `${c.algorithm} seed ${c.seed}`, algorithm: c.algorithm })));
  const layer = (field: 'best' | 'heldOut', title: string) => ({
    title,
    width: 380,
    height: 260,
    mark: { type: 'line' as const, point: true, interpolate: 'step-after' as const },
    encoding: {
      x: { field: 'cost', type: 'quantitative' as const, title: 'cost (full fitness evaluations)', scale: { type: 'symlog' as const } },
      y: { field, type: 'quantitative' as const, title: 'perplexity at 2048', scale: { zero: false } },
      color: { field: 'algorithm', type: 'nominal' as const },
      detail: { field: 'run', type: 'nominal' as const },
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    hconcat: [layer('best', 'best search fitness (5 search samples)'), layer('heldOut', `its held-out perplexity (${r.curveWindows} windows)`)],
  };
  await writeFigure(spec as never, path.join(dir, 'search-cost'));
  writeFileAtomic(path.join(dir, 'search-cost.md'), costMarkdown(r));
  console.log(JSON.stringify(r.curves.map((c) => ({ algorithm: c.algorithm, seed: c.seed, ...c.final, spec: undefined })), null, 2));
}

/** The table: per run its cost and held-out perplexity, against the paper's run of the same seed. */
function costMarkdown(r: Results): string {
  const paper = new Map(r.curves.filter((c) => c.algorithm === 'paper').map((c) => [c.seed, c]));
  const rows = r.curves.map((c) => {
    const ref = paper.get(c.seed);
    const rel = ref ? `${(100 * (c.final.heldOutAll / ref.final.heldOutAll - 1)).toFixed(2)}%` : '-';
    const costShare = ref ? `${(100 * c.final.cost / ref.final.cost).toFixed(1)}%` : '-';
    // The first generation whose best was already within 1% of the paper's final (curve windows).
    const reached = ref ? c.points.find((p) => p.heldOut <= 1.01 * ref.final.heldOutPpl) : undefined;
    return `| ${c.algorithm} | ${c.seed} | ${c.final.cost.toFixed(1)} (${costShare}) | ${c.final.evaluations}${c.final.screenEvaluations ? ` + ${c.final.screenEvaluations} screened` : ''} | ` +
      `${c.final.searchPpl.toFixed(4)} | ${c.final.heldOutAll.toFixed(4)} | ${rel} | ${reached ? reached.cost.toFixed(1) : '-'} | ${(c.final.seconds / 60).toFixed(1)} |`;
  });
  const mf = r.curves.filter((c) => c.algorithm !== 'paper' && paper.has(c.seed));
  const bestPaper = Math.min(...[...paper.values()].map((c) => c.final.heldOutAll));
  const gap = (c: Curve) => 100 * (c.final.heldOutAll / paper.get(c.seed)!.final.heldOutAll - 1);
  const summary = mf.length === 0 ? [] : [
    `Every multi-fidelity run ended within ${Math.max(...mf.map(gap)).toFixed(2)}% of the held-out perplexity of the paper's run ` +
      `with the same seed (within ${Math.max(...mf.map((c) => 100 * (c.final.heldOutAll / bestPaper - 1))).toFixed(2)}% of the paper's best seed, ` +
      `${bestPaper.toFixed(4)}), at ${Math.max(...mf.map((c) => 100 * c.final.cost / paper.get(c.seed)!.final.cost)).toFixed(1)}% of its cost at most.`,
    '',
  ];
  return [
    `# The paper's search against the multi-fidelity search (${r.target} tokens, 8x, no fine-tuning)`,
    '',
    'Command: `npm run search-cost` (resumable; run folders under `.runs/search-cost`). Both searches run',
    `on the same search documents, the same ${r.samples} fitness samples and the same seeds; every best-so-far spec is`,
    'scored on held-out windows no search saw. Cost is counted in full fitness evaluations (a screening on k of the',
    `${r.samples} samples costs k/${r.samples}); the minutes depend on what else the machine ran and are not comparable between rows.`,
    '',
    '![best perplexity against cost](search-cost.svg)',
    '',
    ...summary,
    `| search | seed | cost (full evaluations; share of the paper's) | evaluations | best search ppl | held-out ppl (${r.heldOutWindows} windows) | vs the paper, same seed | cost to reach within 1% of the paper's final (${r.curveWindows} windows) | minutes |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `YaRN (the best seed) on the same ${r.heldOutWindows} held-out windows: ${r.yarnHeldOut.toFixed(4)}.`,
    '',
  ].join('\n');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
