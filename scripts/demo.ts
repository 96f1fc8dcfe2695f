/**
 * `npm run demo`: LongRoPE end to end on the bundled tiny model (context 256), in minutes on a
 * laptop-class CPU:
 *   1. baselines for an 8x extension (256 -> 2048): PI, NTK, YaRN;
 *   2. a LongRoPE factor search at 2048 with a budget that fits (the multi-fidelity search,
 *      P = 32, T = 20; on half of the held-out split);
 *   3. held-out perplexity at 1x, 2x, 4x, 8x, 16x the window and passkey accuracy at the same
 *      lengths for every method (the other half of the split, which the search never saw);
 *   4. the extended model exported in Hugging Face format (rope_scaling: longrope);
 *   5. a report (Markdown, SVG and PNG plots) in the folder named at the end.
 * Each stage's result is kept under .runs/demo: run twice, it reuses them; killed, it resumes
 * (the search from its last evaluation). `--fresh` starts over.
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { ResumeMismatchError } from '../src/common/errors';
import { readJsonFile, writeJsonAtomic } from '../src/common/files';
import { ByteTokenizer } from '../src/data/tokenizer';
import { evaluatePasskey, evaluatePerplexity } from '../src/eval';
import { exportModel } from '../src/model/export';
import { Model } from '../src/model/model';
import { runtimeInfo } from '../src/model/runtime';
import { writeReport } from '../src/report/report';
import type { RopeSpec } from '../src/rope/types';
import { perplexityFitness, runSearch } from '../src/search';
import { progressBar } from '../src/train/progress';
import { searchSplit } from './lib/search-split';

const ROOT = path.resolve(__dirname, '..');
const MODEL = path.join(ROOT, 'models', 'tiny-base');

interface Cell { ppl: number; windows: number; passkey: number; trials: number }

async function main(): Promise<void> {
  const o = new Command('demo')
    .option('--out <dir>', 'where results, the exported model and the report go', path.join(ROOT, '.runs', 'demo'))
    .option('--fresh', 'discard earlier results and start over')
    .option('--trials <n>', 'passkey trials per length and method', '5')
    .option('--windows <n>', 'held-out documents per length (one window each)', '8')
    .parse().opts();
  if (o.fresh) fs.rmSync(o.out, { recursive: true, force: true });
  fs.mkdirSync(o.out, { recursive: true });
  const started = Date.now();
  const timings: [string, number][] = [];
  const stage = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    console.log(`\n== ${name}`);
    const r = await run();
    timings.push([name, (Date.now() - t0) / 1000]);
    return r;
  };
  const info = runtimeInfo();
  console.log(`longrope demo: tiny-base (LLaMA architecture, 3.3M parameters, byte vocabulary, context 256)`);
  console.log(`libtorch ${info.torchVersion}, ${info.threads} threads${info.cudaDevices > 0 ? ', CUDA' : ''}; results in ${o.out}`);

  const model = await Model.load(MODEL);
  const tok = new ByteTokenizer();
  const { searchPool: searchDocs, heldOut } = await searchSplit();
  const L = model.config.rope.originalLength;
  const target = 8 * L;
  const plain = { headDim: model.config.rope.headDim, base: model.config.rope.base, originalLength: L, length: target };
  const methods: { name: string; spec: RopeSpec }[] = [
    { name: 'none', spec: model.config.rope },
    { name: 'PI x8', spec: { ...plain, method: 'linear', factor: 8 } },
    { name: 'NTK x8', spec: { ...plain, method: 'ntk', factor: 8 } },
    { name: 'YaRN x8', spec: { ...plain, method: 'yarn', factor: 8 } },
  ];

  const search = await stage('LongRoPE search at 2048 tokens (resumable)', async () => {
    const samples = 3;
    const fitness = perplexityFitness(model, searchDocs, { length: target, samples, seed: 0 });
    // The multi-fidelity search (docs/results/search-cost.md: within 1% of the paper's search at a
    // third of its cost): each child is screened on 1 of the 3 samples, the best quarter scored on
    // all 3. The bar counts cost in full evaluations, the unit of the search's budget.
    const settings = { population: 32, parents: 16, mutations: 8, crossovers: 8, iterations: 20, seed: 0 };
    const screening = { samples: 1, promote: 0.25 };
    const maxCost = (settings.population + settings.iterations * (settings.mutations + settings.crossovers)) * (screening.samples / samples + screening.promote);
    const bar = progressBar('search cost', Math.ceil(maxCost), { best: '-' });
    const dir = path.join(o.out, 'search');
    try {
      return await runSearch({
        fitness, out: dir, resume: fs.existsSync(path.join(dir, 'search.json')), settings, screening,
        space: { base: model.config.rope, targetLength: target },
        signature: { model: 'tiny-base', samples },
        onEvaluation: (e) => bar.update(Math.round(e.cost), { best: Number.isFinite(e.best) ? e.best.toFixed(3) : '-' }),
        onGeneration: (g) => { if (!process.stderr.isTTY) console.log(`  generation ${g.generation}: best ppl ${g.best.toFixed(3)} (${g.evaluations} evaluations)`); },
      });
    } catch (e) {
      // A run folder from an older demo (other search settings) is refused by the search itself.
      if (e instanceof ResumeMismatchError) throw new Error(`${e.message}. That run was made with other demo settings: rerun with --fresh (or another --out)`);
      throw e;
    } finally {
      bar.stop();
    }
  });
  console.log(`  best fitness ${search.bestFitness.toFixed(3)} after ${search.evaluations} evaluations + ${search.screenEvaluations} screenings (cost ${search.cost.toFixed(1)}); factors in ${path.join(o.out, 'search', 'factors.csv')}`);
  methods.push({ name: 'LongRoPE x8', spec: search.bestSpec });

  const lengths = [1, 2, 4, 8, 16].map((k) => k * L);
  const cacheFile = path.join(o.out, 'evaluations.json');
  const cache = (readJsonFile(cacheFile) ?? {}) as Record<string, Cell>;
  await stage('held-out perplexity and passkey at 1x-16x for every method', async () => {
    const todo = methods.flatMap((m) => lengths.map((length) => ({ m, length }))).filter(({ m, length }) => !cache[`${m.name}@${length}`]);
    const bar = progressBar('evaluate', todo.length);
    let done = 0;
    for (const { m, length } of todo) {
      // Beyond its window `none` runs unscaled; scaled methods at 1x use their own short side.
      const [ppl] = await evaluatePerplexity(model, heldOut, { lengths: [length], truncate: true, samples: Number(o.windows), seed: 0, rope: m.spec });
      const [pk] = await evaluatePasskey(model, tok, { lengths: [length], trials: Number(o.trials), seed: 0, rope: m.spec });
      cache[`${m.name}@${length}`] = { ppl: ppl.ppl, windows: ppl.windows, passkey: pk.accuracy, trials: pk.trials };
      writeJsonAtomic(cacheFile, cache);  // a kill loses at most this cell
      bar.update(++done);
      if (!process.stderr.isTTY) console.log(`  ${m.name} at ${length}: ppl ${ppl.ppl.toFixed(3)}, passkey ${pk.accuracy * 100}%`);
    }
    bar.stop();
  });
  model.dispose();

  const exported = path.join(o.out, 'tiny-longrope-8x');
  await stage('export (Hugging Face format, rope_scaling: longrope)', async () => {
    if (fs.existsSync(path.join(exported, 'config.json'))) return console.log(`  already exported: ${exported}`);
    fs.rmSync(exported, { recursive: true, force: true });
    const r = exportModel(MODEL, search.bestSpec, exported, { job: 'npm run demo', search: path.join(o.out, 'search') });
    for (const w of r.warnings) console.log(`  warning: ${w}`);
    console.log(`  wrote ${exported}`);
  });

  const reportDir = path.join(o.out, 'report');
  await stage('report (Markdown, SVG, PNG)', async () => {
    const files: string[] = [];
    for (const m of methods) {
      for (const kind of ['perplexity', 'passkey'] as const) {
        const file = path.join(o.out, 'results', `${kind}-${m.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.json`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const results = lengths.map((length) => {
          const c = cache[`${m.name}@${length}`];
          return kind === 'perplexity'
            ? { length, ppl: c.ppl, windows: c.windows, tokens: c.windows * (length - 1), documents: c.windows, skipped: 0 }
            : { length, accuracy: c.passkey, trials: c.trials };
        });
        writeJsonAtomic(file, { kind, method: m.name, model: 'models/tiny-base', rope: m.spec, truncate: true, stride: 256, results });
        files.push(file);
      }
    }
    await writeReport(files, reportDir);
  });

  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(13) : c.padStart(9))).join(' ');
  console.log(`\nHeld-out per-byte perplexity (${o.windows} documents, one window each) / passkey accuracy (${o.trials} trials):`);
  console.log(row(['method', ...lengths.map(String)]));
  for (const m of methods) {
    console.log(row([m.name, ...lengths.map((l) => cache[`${m.name}@${l}`].ppl.toFixed(2))]));
    console.log(row(['', ...lengths.map((l) => `${Math.round(cache[`${m.name}@${l}`].passkey * 100)}%`)]));
  }
  console.log('\nTime per stage:');
  for (const [name, s] of timings) console.log(`  ${s.toFixed(1).padStart(7)} s  ${name}`);
  console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s  total`);
  console.log(`\nReport: ${path.join(reportDir, 'report.md')}\nExported model: ${exported}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
