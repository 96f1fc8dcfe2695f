/**
 * `npm run reproduce:passkey`: the follow-up to `npm run reproduce` aimed at its one missed target,
 * passkey retrieval >= 90% at 64x (16k tokens for tiny-base's 256-token window). The medium run's
 * fine-tune (15% passkey segments, with copy drills) taught retrieval only to 1/10 at 2048, and one
 * 8x secondary extension of a model that did retrieve at 2048 kept it at 4k but lost it at 8k-16k
 * (docs/results/reproduce-notes.md). So this path trains retrieval at each step of the way, as
 * the paper's progressive path fine-tunes twice (128k, then 256k) before its last search:
 *   1. fine-tune tiny-base at 2048 with the reproduction's searched 8x factors, 60% passkey
 *      segments, no copy drills;
 *   2. fine-tune that model at 8192 (32x) with YaRN as the secondary extension of those factors
 *      (no search: a search at 8k is ~1 h here), the same data mix at 8192;
 *   3. passkey accuracy (and held-out perplexity) at 2k-16k: the 32x model as is, and with PI or
 *      YaRN as a further 2x extension to 16k (64x).
 * The 8x factors come from the committed docs/results/reproduce.json, so a fresh clone runs this
 * without the 4 h reproduction. Stages are resumable as in `npm run reproduce` (run folder
 * .runs/passkey-path); results go to docs/results/passkey-path.{md,json}.
 *
 * Durations on 2 cores, measured before the addon's kernels ran on both cores (faster now): stage 1
 * 21 min (300 steps of 8 x 2048 tokens), stage 2 48 min (80 steps of 8 x 8192), evaluation 7 min.
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../src/common/files';
import { pretrainingStream, type PretrainingPosition } from '../src/data';
import { ByteTokenizer } from '../src/data/tokenizer';
import { Model } from '../src/model/model';
import { runtimeInfo } from '../src/model/runtime';
import type { RopeSpec } from '../src/rope/types';
import { finetune } from '../src/train/finetune';
import { evaluationWindows, longEnough, passkeyCell, pplCell, ratioLabel, secondaryBaselineSpecs, type PasskeyCell, type PplCell } from './lib/reproduce-eval';
import { CellCache, checkRunFolder, formatSeconds, progress, readFinetuneLog, StageRunner } from './lib/run-stages';
import { searchSplit } from './lib/search-split';

const ROOT = path.resolve(__dirname, '..');
const MODEL = path.join(ROOT, 'models', 'tiny-base');

interface Settings {
  share: number;
  stage1Steps: number;
  stage2Length: number;
  stage2Steps: number;
  stage2Lr: number;
  lengths: number[];
  trials: number;
  /** Held-out perplexity windows per length (one per document). */
  windows: number;
  seed: number;
}

const DEFAULTS: Settings = { share: 0.6, stage1Steps: 300, stage2Length: 8192, stage2Steps: 80, stage2Lr: 1e-4, lengths: [2048, 4096, 8192, 16384], trials: 10, windows: 4, seed: 0 };
const SMOKE: Settings = { ...DEFAULTS, stage1Steps: 1, stage2Length: 4096, stage2Steps: 1, lengths: [1024, 8192], trials: 1, windows: 1 };

function number(name: string, v: string | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min) throw new Error(`Expected ${name} to be a number >= ${min} but received ${JSON.stringify(v)}`);
  return x;
}

/** One fine-tuning stage: `steps` x 8 segments of `length` tokens, 60% passkey sequences. */
async function finetuneStage(opts: { from: string; out: string; length: number; rope: RopeSpec; steps: number; lr: number; warmup: number; settings: Settings; tok: ByteTokenizer }) {
  const { settings, tok } = opts;
  const bar = progress(`fine-tune at ${opts.length}`, opts.steps);
  const r = await finetune({
    modelDir: opts.from, out: opts.out, length: opts.length, rope: opts.rope, resume: fs.existsSync(opts.out), steps: opts.steps,
    globalBatch: 8, microBatch: 1, checkpointEvery: Math.max(1, Math.min(10, opts.steps)),
    schedule: { kind: 'linear', lr: opts.lr, warmupSteps: opts.warmup, totalSteps: opts.steps },
    // The training split cut anywhere (as the reproduction's fine-tune), with passkey sequences at
    // this length (keys at uniform depths in prompts up to `length`) instead of half copy drills.
    data: (position) => pretrainingStream({ tokenizer: tok, length: opts.length, seed: settings.seed, syntheticShare: settings.share, copyDrills: false, closeWithEos: false, position: position as PretrainingPosition | undefined }),
    onStep: (m) => bar.update(m.step, `loss ${m.loss.toFixed(3)}, ${Math.round(m.tokensPerSecond)} tok/s`),
  });
  bar.stop();
  const { losses, seconds } = readFinetuneLog(r.metricsFile);
  return { value: { steps: r.steps, finalLoss: r.finalLoss, losses }, seconds };
}

async function main(): Promise<void> {
  const o = new Command('reproduce:passkey')
    .option('--out <dir>', 'run folder', path.join(ROOT, '.runs', 'passkey-path'))
    .option('--results <dir>', 'where passkey-path.{md,json} go (default docs/results; with --smoke OUT/results)')
    .option('--stage2-steps <n>', `fine-tuning steps at the second length (default ${DEFAULTS.stage2Steps})`)
    .option('--trials <n>', `passkey trials per cell (default ${DEFAULTS.trials})`)
    .option('--smoke', 'one step per fine-tune, one trial, two lengths (minutes; checks the pipeline)')
    .option('--fresh', 'discard the run folder and start over')
    .parse().opts();
  const preset = o.smoke ? SMOKE : DEFAULTS;
  const settings: Settings = { ...preset, stage2Steps: number('--stage2-steps', o.stage2Steps, preset.stage2Steps, 1), trials: number('--trials', o.trials, preset.trials, 1) };
  const out = path.resolve(o.out);
  if (o.fresh) fs.rmSync(out, { recursive: true, force: true });
  const settingsFile = checkRunFolder(out, settings);
  const resultsDir = path.resolve(o.results ?? (o.smoke ? path.join(out, 'results') : path.join(ROOT, 'docs', 'results')));
  const reproduceJson = path.join(ROOT, 'docs', 'results', 'reproduce.json');
  const reproduced = readJsonFile(reproduceJson) as { search?: { bestSpec?: RopeSpec } } | undefined;
  const spec8 = reproduced?.search?.bestSpec;
  if (!spec8 || spec8.method !== 'longrope') throw new Error(`Expected the searched 8x factors at search.bestSpec in ${reproduceJson} (written by npm run reproduce) but found none`);
  const L = spec8.originalLength;
  const ft1 = spec8.length;
  const ft2 = settings.stage2Length;
  const spec32 = secondaryBaselineSpecs(spec8, ft2).find((b) => b.id === 'yarn')!.spec;

  fs.mkdirSync(out, { recursive: true });
  writeJsonAtomic(settingsFile, settings);
  const info = runtimeInfo();
  console.log(`longrope reproduce:passkey: tiny-base, libtorch ${info.torchVersion}, ${info.threads} threads; run folder ${out}`);
  const tok = new ByteTokenizer();
  const runner = new StageRunner(out);
  const stage1Dir = path.join(out, `1-finetune-${ft1}`);
  const stage2Dir = path.join(out, `2-finetune-${ft2}`);
  const stage1 = await runner.stage('finetune-1', `fine-tune at ${ft1} (${ratioLabel(ft1, L)}, searched factors), ${Math.round(settings.share * 100)}% passkey segments`, () =>
    finetuneStage({ from: MODEL, out: stage1Dir, length: ft1, rope: spec8, steps: settings.stage1Steps, lr: 2e-4, warmup: Math.min(20, settings.stage1Steps), settings, tok }));
  const stage2 = await runner.stage('finetune-2', `fine-tune at ${ft2} (${ratioLabel(ft2, L)}, YaRN as secondary extension)`, () =>
    finetuneStage({ from: stage1Dir, out: stage2Dir, length: ft2, rope: spec32, steps: settings.stage2Steps, lr: settings.stage2Lr, warmup: Math.min(10, settings.stage2Steps), settings, tok }));

  // The specs compared: each stage's own factors at every length; above the second stage's length,
  // PI and YaRN as a further extension of the second stage's factors.
  const { heldOut } = await searchSplit();
  const top = Math.max(...settings.lengths);
  const methods = [
    { id: 'stage1', label: `fine-tuned at ${ft1} (${ratioLabel(ft1, L)} factors)`, model: stage1Dir, spec: spec8 },
    { id: 'stage2', label: `fine-tuned at ${ft1}, then ${ft2} (${ratioLabel(ft2, L)} factors)`, model: stage2Dir, spec: spec32 },
    ...(top > ft2 ? secondaryBaselineSpecs(spec32, top).map((b) => ({ id: `stage2-${b.id}`, label: `fine-tuned at ${ft1}, then ${ft2}, + ${b.name} to ${top} (${ratioLabel(top, L)})`, model: stage2Dir, spec: b.spec })) : []),
  ];
  const cells = new CellCache<PplCell | PasskeyCell>(path.join(out, 'cells.json'));
  await runner.stage('evaluate', 'passkey and held-out perplexity vs length', async () => {
    const p = progress('cells', methods.length * settings.lengths.length * 2);
    let done = 0;
    for (const m of methods) {
      const model = await Model.load(m.model);
      for (const n of settings.lengths) {
        // One held-out window per document (a few): a check that retrieval training kept the
        // language model, not the reproduction's perplexity measurement.
        const windows = evaluationWindows(heldOut, n, 1, settings.windows);
        const ppl = windows.length ? ((await cells.cell(`ppl|${m.id}|${n}`, () => pplCell(model, windows, n, m.spec))) as PplCell) : undefined;
        p.update(++done, `${m.id} at ${n}: ppl ${ppl?.ppl.toFixed(3) ?? '-'} (${longEnough(heldOut, n)} documents)`);
        const pk = (await cells.cell(`passkey|${m.id}|${n}`, () => passkeyCell(model, tok, n, m.spec, settings.trials, settings.seed))) as PasskeyCell;
        p.update(++done, `${m.id} at ${n}: passkey ${Math.round(pk.accuracy * 100)}%`);
      }
      model.dispose();
    }
    p.stop();
    return { value: null, seconds: cells.seconds() };
  });

  const rows = methods.map((m) => ({
    id: m.id, label: m.label, spec: m.spec,
    passkey: Object.fromEntries(settings.lengths.map((n) => [n, cells.get(`passkey|${m.id}|${n}`) as PasskeyCell])),
    ppl: Object.fromEntries(settings.lengths.map((n) => [n, (cells.get(`ppl|${m.id}|${n}`) as PplCell | undefined) ?? null])),
  }));
  const stages = Object.fromEntries([...runner.records].map(([k, v]) => [k, v.seconds]));
  const argv = process.argv.slice(2);
  const command = `npm run reproduce:passkey${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const json = { command, settings, originalLength: L, runtime: info, stages, finetune: { stage1: { length: ft1, ...stage1 }, stage2: { length: ft2, ...stage2 } }, methods: rows };
  fs.mkdirSync(resultsDir, { recursive: true });
  writeJsonAtomic(path.join(resultsDir, 'passkey-path.json'), json);
  const md = passkeyPathMarkdown(json);
  const mdFile = path.join(resultsDir, 'passkey-path.md');
  writeFileAtomic(mdFile, md);
  console.log('\nTime per stage:');
  for (const [k, v] of runner.records) console.log(`  ${formatSeconds(v.seconds).padStart(12)}  ${k}`);
  console.log(`\n${md}`);
  console.log(`Results: ${mdFile}, ${path.join(resultsDir, 'passkey-path.json')}`);
}

type PathResults = {
  command: string; settings: Settings; originalLength: number; stages: Record<string, number>;
  finetune: Record<'stage1' | 'stage2', { length: number; steps: number; finalLoss: number }>;
  methods: { id: string; label: string; passkey: Record<string, PasskeyCell>; ppl: Record<string, PplCell | null> }[];
};

/** The results page: passkey and perplexity tables, the settings, the time per stage. */
export function passkeyPathMarkdown(r: PathResults): string {
  const L = r.originalLength;
  const head = `| | ${r.settings.lengths.map((n) => `${n} (${ratioLabel(n, L)})`).join(' | ')} |\n|---|${r.settings.lengths.map(() => '---:').join('|')}|`;
  const table = (cell: (m: PathResults['methods'][number], n: number) => string) =>
    [head, ...r.methods.map((m) => `| ${m.label} | ${r.settings.lengths.map((n) => cell(m, n)).join(' | ')} |`)].join('\n');
  const s = r.settings;
  return `# Passkey retrieval along a two-stage progressive path (tiny-base, window ${L})

Command: \`${r.command}\`. The follow-up to [the reproduction](reproduce.md) for its missed target,
passkey >= 90% at 64x (${64 * L} tokens); see scripts/passkey-path.ts for the recipe and why, and
[reproduce-notes.md](reproduce-notes.md) (the top of [reproduce.md](reproduce.md)) for what it shows.

- Stage 1: ${r.finetune.stage1.steps} steps at ${r.finetune.stage1.length} tokens x 8, ${Math.round(s.share * 100)}% passkey segments, lr 2e-4; final loss ${r.finetune.stage1.finalLoss.toFixed(3)}.
- Stage 2: ${r.finetune.stage2.steps} steps at ${r.finetune.stage2.length} tokens x 8, the same mix, lr ${s.stage2Lr}; final loss ${r.finetune.stage2.finalLoss.toFixed(3)}.
- Passkey: ${s.trials} trials per cell (the paper's prompt, keys and depths seeded by ${s.seed}).

## Passkey accuracy

${table((m, n) => (m.passkey[n] ? `${Math.round(m.passkey[n].accuracy * 100)}%` : '-'))}

## Held-out perplexity (per byte; one window per document, at most ${s.windows})

${table((m, n) => (m.ppl[n] ? m.ppl[n]!.ppl.toFixed(3) : '-'))}

## Time per stage (2 CPU cores)

${Object.entries(r.stages).map(([k, v]) => `- ${k}: ${formatSeconds(v)}`).join('\n')}
`;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
