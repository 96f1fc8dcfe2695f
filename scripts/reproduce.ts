/**
 * `npm run reproduce`: the LongRoPE paper's section 4 at miniature scale on models/tiny-base
 * (window L = 256, byte tokens), as resumable stages in a run folder (default .runs/reproduce):
 *   1. search   LongRoPE factors at 8x (2048) on the base model (the paper's search settings);
 *   2. base     held-out perplexity and passkey vs length for base, PI, NTK, YaRN, LongRoPE x8
 *               (Tables 5/7/9, Figure 4 without fine-tuning);
 *   3. ablation Table 11: uniform factors vs non-uniform over dimensions vs + start tokens nHat;
 *   4. progressive: fine-tune at 2048 with the 8x factors, search again on the fine-tuned model
 *               for 64x (16k; more targets with --secondary), recover short factors at L,
 *               export (src/search/extend.ts);
 *   5. tuned    perplexity and passkey vs length of the fine-tuned stages, and PI/YaRN as
 *               secondary extensions beside the searched one (Table 6's comparison);
 *   6. recovery Table 10: perplexity and passkey at L with the long factors vs the recovered
 *               short factors;
 * then the report: docs/results/reproduce.{md,json} and SVG figures (--results elsewhere).
 * Each stage's result is saved as it finishes; a rerun reuses finished stages and a killed run
 * resumes the stage it was in. `--fresh` starts over; `--smoke` runs every stage in minutes.
 * Searches use the even-indexed half of the evaluation split; every measurement uses the other
 * half, which no search saw. Fine-tuning uses the training split.
 *
 * Durations on 2 cores, from the medium run (docs/results/reproduce.md: 3 h 45 min of stages; a
 * fitness evaluation of 5 documents at 2048 ~2.4 s, of 3 documents at 16384 ~18 s; a fine-tuning
 * step of 8 x 2048 tokens ~4 s; the evaluation grids 32-58 min, mostly passkey and perplexity at
 * 16k-32k): --budget medium ~4 h; --budget paper ~15-20 h, of which the 1,344-evaluation secondary
 * search at 16k is ~11 h (a 32k target would add ~40 h); --smoke under a minute.
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { readJsonFile, writeJsonAtomic } from '../src/common/files';
import { pretrainingStream, type PretrainingPosition } from '../src/data';
import { ByteTokenizer } from '../src/data/tokenizer';
import { Model } from '../src/model/model';
import { runtimeInfo } from '../src/model/runtime';
import type { RopeSpec } from '../src/rope/types';
import { extend, extensionSearch, N_HAT_CHOICES, perplexityFitness, runSearch, type ExtendOptions, type SearchResult } from '../src/search';
import { writeReproduceReport, type ReproduceResults, type SearchSummary } from './lib/reproduce-report';
import { baselineSpecs, evaluationWindows, longEnough, longFactorsEverywhere, passkeyCell, pplCell, ratioLabel, secondaryBaselineSpecs, type Method, type PasskeyCell, type PplCell } from './lib/reproduce-eval';
import { settingsFromFlags, withSettingsFlags, type ReproduceSettings, type SearchBudget } from './lib/reproduce-settings';
import { CellCache, checkRunFolder, formatSeconds, progress, readFinetuneLog, StageRunner } from './lib/run-stages';
import { searchSplit } from './lib/search-split';

const ROOT = path.resolve(__dirname, '..');
const MODEL = path.join(ROOT, 'models', 'tiny-base');

const loopOf = (b: SearchBudget, seed: number) => ({ population: b.population, parents: b.parents, mutations: b.mutations, crossovers: b.crossovers, iterations: b.iterations, seed });

function summary(r: SearchResult): SearchSummary {
  return {
    bestSpec: r.bestSpec, bestFitness: r.bestFitness, evaluations: r.evaluations, generations: r.generations, seconds: r.seconds,
    history: r.history.map((h) => ({ generation: h.generation, best: h.best, evaluations: h.evaluations })),
  };
}

async function main(): Promise<void> {
  const cmd = withSettingsFlags(new Command('reproduce')
    .option('--out <dir>', 'run folder (stage results, searches, the fine-tuned model)', path.join(ROOT, '.runs', 'reproduce'))
    .option('--results <dir>', 'where reproduce.{md,json} and the figures go (default docs/results; with --smoke OUT/results)')
    .option('--fresh', 'discard the run folder and start over'));
  const o = cmd.parse().opts();
  const settings = settingsFromFlags(o);
  const out = path.resolve(o.out);
  if (o.fresh) fs.rmSync(out, { recursive: true, force: true });
  const settingsFile = checkRunFolder(out, settings);
  const resultsDir = path.resolve(o.results ?? (settings.budget === 'smoke' ? path.join(out, 'results') : path.join(ROOT, 'docs', 'results')));
  const argv = process.argv.slice(2);
  const command = `npm run reproduce${argv.length ? ` -- ${argv.join(' ')}` : ''}`;

  const info = runtimeInfo();
  console.log(`longrope reproduce (${settings.budget} budget): tiny-base, libtorch ${info.torchVersion}, ${info.threads} threads; run folder ${out}`);
  const tok = new ByteTokenizer();
  const { searchPool: pool, heldOut } = await searchSplit();
  const base = await Model.load(MODEL);
  const rope = base.config.rope;
  const L = rope.originalLength;
  const ft = settings.finetuneLength;
  for (const [what, lengths] of [['--finetune-length', [ft]], ['--ablation-lengths', settings.ablationLengths]] as const) {
    for (const n of lengths) if (n <= L) throw new Error(`Expected ${what} above the original window ${L} but received ${n}`);
  }
  // Every search needs its fitness documents in the search half; fail now, not hours in.
  const searches: [number, number][] = [[ft, settings.search.samples], ...settings.ablationLengths.map((n) => [n, settings.search.samples] as [number, number]),
    ...settings.secondary.map((n) => [n, settings.secondarySearch.samples] as [number, number]), [L, settings.search.samples]];
  for (const [n, samples] of searches) {
    if (longEnough(pool, n) < samples) throw new Error(`Expected ${samples} search documents of at least ${n - 1} tokens for a search at ${n} but received ${longEnough(pool, n)}: lower the length or --samples / --secondary-samples`);
  }
  const lengths = settings.lengths.filter((n) => {
    const ok = longEnough(heldOut, n) >= 2;
    if (!ok) console.log(`  length ${n} dropped: ${longEnough(heldOut, n)} held-out document(s) that long (2 needed)`);
    return ok;
  });
  const windows = new Map(lengths.map((n) => [n, evaluationWindows(heldOut, n, settings.windowsPerDocument, settings.maxWindows)]));
  const windowsAt = (n: number) => windows.get(n) ?? evaluationWindows(heldOut, n, settings.windowsPerDocument, settings.maxWindows);
  console.log(`  documents: ${pool.length} for the searches, ${heldOut.length} held out; held-out windows per length: ${lengths.map((n) => `${n}: ${windowsAt(n).length}`).join(', ')}`);

  const evals = (b: SearchBudget) => b.population + b.iterations * (b.mutations + b.crossovers);
  console.log(`  plan: searches of up to ${evals(settings.search)} evaluations x ${settings.search.samples} documents at ${[ft, ...settings.ablationLengths, L].join(', ')} ` +
    `(Table 11: two per ablation length, one shared with the ${ratioLabel(ft, L)} search); secondary searches of up to ${evals(settings.secondarySearch)} x ${settings.secondarySearch.samples} at ${settings.secondary.join(', ')}; ` +
    `fine-tuning ${settings.finetune.steps} steps x ${settings.finetune.globalBatch} x ${ft} tokens; ${settings.passkeyTrials} passkey trials per cell`);

  // Only a run that passed the checks above claims the folder (a corrected rerun is not refused).
  fs.mkdirSync(out, { recursive: true });
  writeJsonAtomic(settingsFile, settings);
  const commands = ((readJsonFile(path.join(out, 'commands.json')) ?? []) as { command: string; at: string }[]);
  commands.push({ command, at: new Date().toISOString() });
  writeJsonAtomic(path.join(out, 'commands.json'), commands);
  const runner = new StageRunner(out);
  const cells = new CellCache<PplCell | PasskeyCell | number>(path.join(out, 'cells.json'));
  const progressive = path.join(out, 'progressive');
  let bar: ReturnType<typeof progress> | undefined;
  const ext: ExtendOptions = {
    modelDir: MODEL, out: progressive, finetuneLength: ft, targetLength: settings.secondary[0], documents: pool,
    samples: settings.search.samples, seed: settings.seed, settings: loopOf(settings.search, settings.seed),
    stageSearch: { 'secondary-search': { settings: loopOf(settings.secondarySearch, settings.seed), samples: settings.secondarySearch.samples } },
    recoveryMaxFactor: settings.recoveryMaxFactor, resume: true,
    finetune: {
      steps: settings.finetune.steps, globalBatch: settings.finetune.globalBatch, microBatch: 1, checkpointEvery: Math.max(1, Math.min(25, settings.finetune.steps)),
      schedule: { kind: 'linear', lr: settings.finetune.lr, warmupSteps: settings.finetune.warmupSteps, totalSteps: settings.finetune.steps },
      ...(settings.finetune.mixedShortEvery > 0 ? { mixedShort: { length: L, every: settings.finetune.mixedShortEvery } } : {}),
      runInfo: { data: 'train split + passkey sequences and copy drills', syntheticShare: settings.finetune.syntheticShare, seed: settings.seed },
      // The training split packed at the fine-tuning length, cut anywhere (no EOS tied to the last
      // position, as tiny-base's later stages), with passkey sequences at that length (keys at
      // uniform depths up to 2048) and copy drills mixed in: retrieval to train beyond 256.
      data: (position) => pretrainingStream({ tokenizer: tok, length: ft, seed: settings.seed, syntheticShare: settings.finetune.syntheticShare, copyDrills: true, closeWithEos: false, position: position as PretrainingPosition | undefined }),
      onStep: (m) => bar?.update(m.step, `loss ${m.loss.toFixed(3)}, ${Math.round(m.tokensPerSecond)} tok/s`),
    },
    onStage: (stage, status) => {
      console.log(`   [${stage}] ${status}`);
      if (status === 'start') wallStart.set(stage, Date.now());
      if (status === 'done') wall.set(stage, (Date.now() - (wallStart.get(stage) ?? Date.now())) / 1000);
      bar?.stop();
      bar = status === 'start' && stage === 'finetune' && !process.stderr.isTTY ? progress('fine-tune steps', settings.finetune.steps) : undefined;
    },
    onGeneration: (stage, g) => console.log(`   [${stage}] generation ${g.generation}: best ppl ${g.best.toFixed(4)} (${g.evaluations} evaluations, ${formatSeconds(g.seconds)})`),
    onEvaluation: (stage, e) => { if (!e.cached) evalLog(stage, e.evaluations, e.fitness, e.best); },
  };
  const wallStart = new Map<string, number>();
  const wall = new Map<string, number>();
  let lastEval = 0;
  const evalLog = (stage: string, n: number, fitness: number, best: number) => {
    if (Date.now() - lastEval < 30_000) return;
    lastEval = Date.now();
    console.log(`   [${stage}] evaluation ${n}: ppl ${fitness.toFixed(4)}, best ${best.toFixed(4)}`);
  };

  // 1. The 8x search, in the folder extend() uses for its first stage (so stage 4 reuses it).
  const search = await runner.stage('search', `LongRoPE search at ${ft} (${ratioLabel(ft, L)}) on the base model`, async () => {
    const r = await extensionSearch(ext, 'search', MODEL, { targetLength: ft }, path.join(progressive, '1-search'));
    return { value: summary(r), seconds: r.seconds };
  });

  // Evaluates methods at every length (perplexity and passkey); seconds spent, over all attempts.
  const evaluate = async (methods: Method[], model: (m: Method) => Promise<Model>): Promise<number> => {
    const total = methods.length * lengths.length * 2;
    const p = progress('cells', total);
    let done = 0;
    for (const m of methods) {
      for (const n of lengths) {
        const mm = await model(m);
        const ppl = (await cells.cell(`ppl|${m.id}|${n}`, () => pplCell(mm, windowsAt(n), n, m.spec))) as PplCell;
        p.update(++done, `${m.label} at ${n}: ppl ${ppl.ppl.toFixed(3)}`);
        const pk = (await cells.cell(`passkey|${m.id}|${n}`, () => passkeyCell(mm, tok, n, m.spec, settings.passkeyTrials, settings.seed))) as PasskeyCell;
        p.update(++done, `${m.label} at ${n}: passkey ${Math.round(pk.accuracy * 100)}%`);
      }
    }
    p.stop();
    const ids = new Set(methods.map((m) => m.id));
    return cells.seconds((k) => ids.has(k.split('|')[1]) && (k.startsWith('ppl|') || k.startsWith('passkey|')));
  };
  const r8 = ratioLabel(ft, L);
  const baseMethods: Method[] = [
    { id: 'base', label: 'base (no scaling)', model: 'base', spec: rope },
    ...baselineSpecs(rope, ft).map((b) => ({ id: b.id, label: `${b.name} ${r8}`, model: 'base' as const, spec: b.spec })),
    { id: 'longrope', label: `LongRoPE ${r8} (searched, no fine-tuning)`, model: 'base', spec: search.bestSpec },
  ];
  await runner.stage('base', 'held-out perplexity and passkey vs length, base model (no fine-tuning)', async () => ({ value: null, seconds: await evaluate(baseMethods, async () => base) }));

  // 3. Table 11 at each ablation length: PI; uniform factors with LongRoPE's attention factor;
  //    uniform + the best nHat; searched factors (nHat = 0); searched factors + nHat.
  const ablation = await runner.stage('ablation', 'Table 11: the two non-uniformities (no fine-tuning)', async () => {
    let seconds = 0;
    const rows = [];
    for (const n of settings.ablationLengths) {
      const s = n / L;
      const uniform = (nHat: number): RopeSpec => ({ method: 'longrope', headDim: rope.headDim, base: rope.base, originalLength: L, length: n, longFactors: new Array(rope.headDim / 2).fill(s), nHat });
      const fitness = perplexityFitness(base, pool, { length: n, samples: settings.search.samples, seed: settings.seed });
      const nHats = N_HAT_CHOICES.filter((h) => h < n);
      const grid: { nHat: number; fitness: number }[] = [];
      for (const h of nHats) grid.push({ nHat: h, fitness: (await cells.cell(`t11fit|${n}|${h}`, () => fitness.evaluate(uniform(h)))) as number });
      seconds += cells.seconds((k) => k.startsWith(`t11fit|${n}|`));
      const bestN = grid.reduce((a, b) => (b.fitness < a.fitness ? b : a));
      const searched = async (nHat: boolean): Promise<SearchSummary> => {
        if (nHat && n === ft) return search;
        const r = await runSearch({
          fitness, out: path.join(out, 'ablation', `${n}-${nHat ? 'dims-nhat' : 'dims'}`), resume: true, settings: loopOf(settings.search, settings.seed),
          space: { base: rope, targetLength: n, searchNHat: nHat }, signature: { stage: 'ablation', model: 'tiny-base', samples: settings.search.samples },
          onGeneration: (g) => console.log(`   [${n} ${nHat ? 'dims + nHat' : 'dims'}] generation ${g.generation}: best ppl ${g.best.toFixed(4)} (${g.evaluations} evaluations)`),
        });
        seconds += r.seconds;
        return summary(r);
      };
      const dims = await searched(false);
      const both = await searched(true);
      const specs: { id: string; label: string; spec: RopeSpec; fitness?: number }[] = [
        { id: 'pi', label: 'PI (uniform factors, no attention factor)', spec: baselineSpecs(rope, n)[0].spec },
        { id: 'uniform', label: 'uniform factors s, LongRoPE attention factor', spec: uniform(0), fitness: grid[0].fitness },
        { id: 'uniform-nhat', label: 'uniform factors s + the best start tokens nHat (grid over the paper\'s choices)', spec: uniform(bestN.nHat), fitness: bestN.fitness },
        { id: 'dims', label: 'searched factors (non-uniform dims), nHat = 0', spec: dims.bestSpec, fitness: dims.bestFitness },
        { id: 'dims-nhat', label: 'searched factors + searched nHat (the paper\'s LongRoPE)', spec: both.bestSpec, fitness: both.bestFitness },
      ];
      const measured = [];
      for (const x of specs) measured.push({ ...x, heldOut: (await cells.cell(`t11|${x.id}|${n}`, () => pplCell(base, windowsAt(n), n, x.spec))) as PplCell });
      seconds += cells.seconds((k) => k.startsWith('t11|') && k.endsWith(`|${n}`));
      rows.push({ length: n, nHatGrid: grid, searches: { dims: { ...dims, history: [] }, dimsNHat: { ...both, history: [] } }, rows: measured });
    }
    return { value: rows, seconds };
  });

  // 4. The progressive path: fine-tune, secondary search(es), recovery, export.
  const prog = await runner.stage('progressive', `progressive extension: fine-tune at ${ft}, search for ${settings.secondary.join(', ')}, recovery at ${L}, export`, async () => {
    const r = await extend(ext);
    const tuned = path.join(progressive, '2-finetune');
    const more: SearchSummary[] = [];
    for (const target of settings.secondary.slice(1)) {
      console.log(`   [secondary-search] ${target}`);
      more.push(summary(await extensionSearch(ext, 'secondary-search', tuned, { targetLength: target }, path.join(progressive, `3-search-${target}`))));
    }
    const { losses, seconds: ftSeconds } = readFinetuneLog(r.finetune.metricsFile);
    const secondary = [summary(r.secondary), ...more];
    const searchSeconds = secondary.reduce((a, x) => a + x.seconds, 0) + (r.recovery?.seconds ?? 0);
    return {
      value: {
        finetune: { steps: r.finetune.steps, finalLoss: r.finetune.finalLoss, seconds: ftSeconds, losses },
        secondary: secondary.map((x, i) => ({ target: settings.secondary[i], ...x })),
        recovery: r.recovery && summary(r.recovery), finalSpec: r.finalSpec, modelDir: path.relative(ROOT, r.modelDir),
      },
      // Searches and training report their own time over every attempt; the export its wall time.
      seconds: ftSeconds + searchSeconds + (wall.get('export') ?? 0),
    };
  });

  // 5. The fine-tuned model at every length: its own factors, each secondary search, PI/YaRN as secondary extensions.
  let tunedModel: Model | undefined;
  const tuned = async () => (tunedModel ??= await Model.load(path.join(progressive, '2-finetune')));
  const tunedMethods: Method[] = [{ id: 'ft', label: `LongRoPE ${r8}, fine-tuned at ${ft}`, model: 'tuned', spec: search.bestSpec }];
  for (const s of prog.secondary) {
    const rs = ratioLabel(s.target, L);
    tunedMethods.push({ id: `ft-search-${s.target}`, label: `LongRoPE ${rs} (fine-tuned at ${ft} + secondary search)`, model: 'tuned', spec: s.bestSpec });
    for (const b of secondaryBaselineSpecs(search.bestSpec, s.target)) tunedMethods.push({ id: `ft-${b.id}-${s.target}`, label: `${b.name} ${rs} (fine-tuned at ${ft} + ${b.name} as secondary extension)`, model: 'tuned', spec: b.spec });
  }
  await runner.stage('tuned', 'held-out perplexity and passkey vs length, fine-tuned model', async () => ({ value: null, seconds: await evaluate(tunedMethods, tuned) }));

  // 6. Table 10 at L: base; fine-tuned with plain RoPE; with the long factors; with the recovered short factors.
  const longSpec = prog.secondary[0].bestSpec;
  const t10 = [
    { id: 'base', label: 'base model, no scaling', model: 'base' as const, spec: rope },
    { id: 'ft-plain', label: 'fine-tuned, no scaling', model: 'tuned' as const, spec: rope },
    // Short factors 1 but the long spec's attention factor, which a longrope config applies at every length.
    { id: 'ft-ones', label: `fine-tuned, short factors 1 with the ${ratioLabel(longSpec.length, L)} attention factor`, model: 'tuned' as const, spec: { ...longSpec, shortFactors: undefined } as RopeSpec },
    { id: 'ft-long', label: `fine-tuned, the ${ratioLabel(longSpec.length, L)} long factors at ${L}`, model: 'tuned' as const, spec: longFactorsEverywhere(longSpec) },
    ...(prog.recovery ? [{ id: 'ft-recovered', label: `fine-tuned, recovered short factors (max ${settings.recoveryMaxFactor})`, model: 'tuned' as const, spec: prog.recovery.bestSpec }] : []),
  ];
  const table10 = await runner.stage('recovery', `Table 10: short-context recovery at ${L}`, async () => {
    const rows = [];
    for (const m of t10) {
      const mm = m.model === 'base' ? base : await tuned();
      const ppl = (await cells.cell(`t10|${m.id}|ppl`, () => pplCell(mm, windowsAt(L), L, m.spec))) as PplCell;
      const pk = (await cells.cell(`t10|${m.id}|passkey`, () => passkeyCell(mm, tok, L, m.spec, settings.passkeyTrials, settings.seed))) as PasskeyCell;
      console.log(`   ${m.label}: ppl ${ppl.ppl.toFixed(4)}, passkey ${Math.round(pk.accuracy * 100)}%`);
      rows.push({ id: m.id, label: m.label, spec: m.spec, ppl, passkey: { accuracy: pk.accuracy, trials: pk.trials } });
    }
    return { value: rows, seconds: cells.seconds((k) => k.startsWith('t10|')) };
  });
  base.dispose();
  tunedModel?.dispose();

  const methods = [...baseMethods, ...tunedMethods];
  const results: ReproduceResults = {
    command, commands, settings, originalLength: L, model: path.relative(ROOT, MODEL), runtime: info,
    data: { searchDocuments: pool.length, heldOutDocuments: heldOut.length, windows: Object.fromEntries(lengths.map((n) => [n, windowsAt(n).length])),
      longDocuments: Object.fromEntries(settings.lengths.map((n) => [n, { search: longEnough(pool, n), heldOut: longEnough(heldOut, n) }])) },
    lengths,
    stages: Object.fromEntries([...runner.records].map(([k, v]) => [k, v.seconds])),
    search: { ...search },
    methods: methods.map((m) => ({
      id: m.id, label: m.label, model: m.model, spec: m.spec,
      ppl: Object.fromEntries(lengths.map((n) => [n, cells.get(`ppl|${m.id}|${n}`) as PplCell])),
      passkey: Object.fromEntries(lengths.map((n) => [n, cells.get(`passkey|${m.id}|${n}`) as PasskeyCell])),
    })),
    ablation, progressive: prog, recovery: table10,
  };
  const written = await writeReproduceReport(results, resultsDir);
  console.log('\nTime per stage:');
  for (const [k, v] of runner.records) console.log(`  ${formatSeconds(v.seconds).padStart(12)}  ${k}`);
  console.log(`\nResults: ${written.join(', ')}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
