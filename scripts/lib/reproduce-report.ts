/**
 * The report of `npm run reproduce`: reproduce.json (everything measured), reproduce.md (the
 * paper's tables at our scale, the claims checked one by one, the time of each stage, the exact
 * commands) and two figures (SVG + PNG) drawn with src/report's plotting (perplexity and passkey vs
 * length). It reads the results object only, never a model. What a person wrote after reading a
 * run (reproduce-notes.md in the same folder) is placed at the top of the page, so that a rerun
 * that rewrites the page keeps it.
 */
import fs from 'fs';
import path from 'path';

import { writeFileAtomic, writeJsonAtomic } from '../../src/common/files';
import type { RuntimeInfo } from '../../src/model/runtime';
import { formatPpl, lengthLabel, markdownTable, passkeyPlotSpec, pplPlotSpec, writeFigure, type Grid } from '../../src/report';
import type { RopeSpec } from '../../src/rope/types';
import type { PasskeyCell, PplCell } from './reproduce-eval';
import type { ReproduceSettings } from './reproduce-settings';
import { formatSeconds } from './run-stages';

/** A finished search, as the report needs it. */
export interface SearchSummary {
  bestSpec: RopeSpec;
  bestFitness: number;
  evaluations: number;
  generations: number;
  seconds: number;
  history: { generation: number; best: number; evaluations: number }[];
}

interface AblationRow { id: string; label: string; spec: RopeSpec; fitness?: number; heldOut: PplCell }

/** Everything the run measured (reproduce.json). */
export interface ReproduceResults {
  command: string;
  commands: { command: string; at: string }[];
  settings: ReproduceSettings;
  originalLength: number;
  model: string;
  runtime: RuntimeInfo;
  data: { searchDocuments: number; heldOutDocuments: number; windows: Record<number, number>; longDocuments: Record<number, { search: number; heldOut: number }> };
  lengths: number[];
  /** Seconds per stage (over every attempt of a resumed run). */
  stages: Record<string, number>;
  search: SearchSummary;
  methods: { id: string; label: string; model: 'base' | 'tuned'; spec: RopeSpec; ppl: Record<number, PplCell>; passkey: Record<number, PasskeyCell> }[];
  ablation: { length: number; nHatGrid: { nHat: number; fitness: number }[]; rows: AblationRow[] }[];
  progressive: {
    finetune: { steps: number; finalLoss: number; seconds: number; losses: [number, number][] };
    secondary: (SearchSummary & { target: number })[];
    recovery: SearchSummary | null;
    finalSpec: RopeSpec;
    modelDir: string;
  };
  recovery: { id: string; label: string; ppl: PplCell; passkey: { accuracy: number; trials: number } }[];
}

const STAGE_TITLES: Record<string, string> = {
  search: 'LongRoPE search at the fine-tuning length, base model',
  base: 'perplexity + passkey vs length, base model methods',
  ablation: 'Table 11: searches and held-out perplexity',
  progressive: 'fine-tune, secondary search(es), recovery search, export',
  tuned: 'perplexity + passkey vs length, fine-tuned model methods',
  recovery: 'Table 10: measurements at the original window',
};

/** Perplexity with 3 decimals below 1e4 (the claims compare values that differ in the third). */
const ppl3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v >= 1e4 ? v.toExponential(2) : v.toFixed(3));
const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${Math.round(v * 100)}%`);

function grid(results: ReproduceResults, value: (m: ReproduceResults['methods'][number], n: number) => number | undefined): Grid<number> {
  const cells = new Map<string, Map<number, number>>();
  for (const m of results.methods) {
    const row = new Map<number, number>();
    for (const n of results.lengths) {
      const v = value(m, n);
      if (v !== undefined) row.set(n, v);
    }
    cells.set(m.label, row);
  }
  return { methods: results.methods.map((m) => m.label), columns: results.lengths, cells };
}

/** The claims of the paper that this run can check, each with our numbers and a verdict. */
function claims(r: ReproduceResults): string[][] {
  const L = r.originalLength;
  const ft = r.settings.finetuneLength;
  const method = (id: string) => r.methods.find((m) => m.id === id);
  const ppl = (id: string, n: number) => method(id)?.ppl[n]?.ppl;
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'yes' : '**no**');
  const rows: string[][] = [];
  const lr = ppl('longrope', ft);
  const bestBase = ['pi', 'ntk', 'yarn'].map((id) => ({ id, v: ppl(id, ft) })).filter((x) => x.v !== undefined).sort((a, b) => a.v! - b.v!)[0];
  rows.push([`Searched factors beat PI, NTK and YaRN without fine-tuning at the target length (Tables 9/11)`,
    `held-out ppl at ${ft}: LongRoPE ${ppl3(lr ?? NaN)} vs best baseline ${bestBase ? `${bestBase.id.toUpperCase()} ${ppl3(bestBase.v!)}` : '-'}`,
    verdict(lr !== undefined && bestBase ? lr < bestBase.v! : undefined)]);
  for (const s of r.progressive.secondary) {
    const id = `ft-search-${s.target}`;
    const others = [`ft-pi-${s.target}`, `ft-yarn-${s.target}`].map((x) => ppl(x, s.target)).filter((v): v is number => v !== undefined);
    const own = ppl(id, s.target);
    rows.push([`The secondary search beats PI and YaRN as secondary extension at ${s.target} (Table 6)`,
      `held-out ppl at ${s.target}: search ${ppl3(own ?? NaN)} vs PI/YaRN ${others.map(ppl3).join(' / ') || '-'}`,
      verdict(own !== undefined && others.length ? own < Math.min(...others) : undefined)]);
    const pk = method(id)?.passkey[s.target];
    rows.push([`Passkey >= 90% at ${s.target / L}x after progressive extension (Figure 4; the issue's target at 64x)`,
      `passkey at ${s.target}: ${pk ? `${Math.round(pk.accuracy * pk.trials)}/${pk.trials}` : '-'}`, verdict(pk ? pk.accuracy >= 0.9 : undefined)]);
  }
  const rec = (id: string) => r.recovery.find((x) => x.id === id)?.ppl.ppl;
  rows.push([`Recovered short factors restore quality at the original window (Table 10)`,
    `ppl at ${L}: long factors ${ppl3(rec('ft-long') ?? NaN)} -> recovered ${ppl3(rec('ft-recovered') ?? NaN)}`,
    verdict(rec('ft-long') !== undefined && rec('ft-recovered') !== undefined ? rec('ft-recovered')! < rec('ft-long')! : undefined)]);
  for (const a of r.ablation) {
    const v = (id: string) => a.rows.find((x) => x.id === id)?.heldOut.ppl;
    rows.push([`Non-uniform dims beat uniform (PI) at ${a.length} (Table 11)`, `${ppl3(v('pi') ?? NaN)} -> ${ppl3(v('dims') ?? NaN)}`, verdict(v('dims')! < v('pi')!)]);
    rows.push([`Start tokens (nHat) add to the searched dims at ${a.length} (Table 11)`, `${ppl3(v('dims') ?? NaN)} -> ${ppl3(v('dims-nhat') ?? NaN)}`, verdict(v('dims-nhat')! < v('dims')!)]);
  }
  return rows;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const factorsText = (spec: RopeSpec) => `nHat ${spec.nHat ?? 0}; factors ${(spec.longFactors ?? []).map((f) => Number(f.toFixed(2))).join(', ')}`;

/** The Markdown page (figures referenced by file name, beside it). */
export function reproduceMarkdown(r: ReproduceResults, figures: { ppl: string; passkey: string }, notes?: string): string {
  const s = r.settings;
  const L = r.originalLength;
  const total = Object.values(r.stages).reduce((a, b) => a + b, 0);
  const out: string[] = [
    `# LongRoPE section 4 at miniature scale (${r.model}, window ${L})`, '',
    `Written by \`npm run reproduce\` (scripts/reproduce.ts) from the run's JSON (\`reproduce.json\` beside this page). Budget: **${s.budget}**.`, '',
    'Command(s) that produced the run (each invocation; a killed run resumes when rerun with the same flags, without --fresh):', '',
    ...r.commands.map((c) => `- \`${c.command}\` (${c.at})`), '',
    ...(notes ? ['## What the run shows (written after reading it: reproduce-notes.md)', '', notes.trim(), ''] : []),
    `Machine: libtorch ${r.runtime.torchVersion}, ${r.runtime.threads} threads${r.runtime.cudaDevices > 0 ? ', CUDA' : ', CPU only'}. Total time of the stages: ${formatSeconds(total)}.`, '',
    '## Setup', '',
    `- Model: \`${r.model}\` (LLaMA architecture, 3.3M parameters, byte vocabulary, context ${L}, 32 rotary frequencies).`,
    `- Data: the evaluation split (New Testament books + 50 held-out Brown files) halved: ${r.data.searchDocuments} even-indexed documents feed every search's fitness, ` +
      `${r.data.heldOutDocuments} odd-indexed ones every measurement below (no search saw them). Fine-tuning uses the training split.`,
    `- Held-out perplexity: per-byte, non-overlapping windows of BOS + length-1 bytes, at most ${s.windowsPerDocument} per document and ${s.maxWindows} per length ` +
      `(not the paper's stride-256 sliding window, which would take days at 16k-32k on this CPU). Windows per length: ${r.lengths.map((n) => `${lengthLabel(n)}: ${r.data.windows[n]}`).join(', ')}.`,
    `- Documents long enough (search half / held-out half): ${Object.entries(r.data.longDocuments).map(([n, c]) => `${lengthLabel(Number(n))}: ${c.search}/${c.heldOut}`).join(', ')}.`,
    `- Passkey: the paper's prompt, ${s.passkeyTrials} trials per method and length (seeded keys and depths), greedy decoding.`,
    `- Searches: population ${s.search.population}, top-${s.search.parents} parents, ${s.search.mutations} mutations + ${s.search.crossovers} crossovers, ` +
      `${s.search.iterations} iterations, fitness on ${s.search.samples} documents (the paper: 64 / 32 / 16 + 16 / 40, 5 documents). ` +
      `Secondary searches: ${s.secondarySearch.population} / ${s.secondarySearch.parents} / ${s.secondarySearch.mutations} + ${s.secondarySearch.crossovers} / ${s.secondarySearch.iterations}, ${s.secondarySearch.samples} documents.`,
    `- Fine-tuning at ${s.finetuneLength} with the searched ${s.finetuneLength / L}x factors: ${s.finetune.steps} steps of ${s.finetune.globalBatch} x ${s.finetuneLength} tokens, ` +
      `AdamW, lr ${s.finetune.lr} with ${s.finetune.warmupSteps} warmup steps and linear decay (the paper: 400 steps of 32 x 128k at 2e-5 for a 7B model). ` +
      `Data: the training split packed at ${s.finetuneLength} and cut anywhere (as tiny-base's later pretraining stages), with ${Math.round(s.finetune.syntheticShare * 100)}% synthetic segments ` +
      `(half passkey sequences at that length, the key at a uniform depth, half copy drills) so retrieval is trained at positions up to ${s.finetuneLength}` +
      `${s.finetune.mixedShortEvery > 0 ? `; every ${s.finetune.mixedShortEvery}th step at the original window` : ''}. The paper fine-tunes on RedPajama only; the synthetic share is ours.`,
    `- Short-context recovery: a search at ${L} for short factors up to ${s.recoveryMaxFactor} on the fine-tuned model, the long factors kept.`, '',
    '## Time per stage', '',
    table(['stage', 'time'], Object.entries(r.stages).map(([k, v]) => [STAGE_TITLES[k] ?? k, formatSeconds(v)])), '',
    '## The paper\'s claims at this scale', '',
    table(['claim', 'ours', 'reproduced'], claims(r)), '',
    '## Perplexity vs length (Tables 5, 7, 9 at our scale)', '',
    `Held-out per-byte perplexity. Baselines and the first LongRoPE row scale the base model by ${s.finetuneLength / L}x; the other rows run the fine-tuned model.`, '',
    markdownTable(grid(r, (m, n) => m.ppl[n]?.ppl), formatPpl, lengthLabel), '',
    `![Perplexity vs length](${figures.ppl})`, '',
    '## Passkey retrieval vs length (Figure 4 at our scale)', '',
    markdownTable(grid(r, (m, n) => m.passkey[n]?.accuracy), pct, lengthLabel), '',
    `![Passkey accuracy vs length](${figures.passkey})`, '',
    '## The progressive path', '',
    `1. Search at ${s.finetuneLength} on the base model: best fitness ${r.search.bestFitness.toFixed(4)} after ${r.search.evaluations} evaluations (${formatSeconds(r.search.seconds)}); ${factorsText(r.search.bestSpec)}.`,
    `2. Fine-tuning: ${r.progressive.finetune.steps} steps, loss ${r.progressive.finetune.losses[0]?.[1]?.toFixed(3) ?? '-'} -> ${r.progressive.finetune.finalLoss.toFixed(3)} (${formatSeconds(r.progressive.finetune.seconds)}).`,
    ...r.progressive.secondary.map((x) => `3. Secondary search at ${x.target} (${x.target / L}x) on the fine-tuned model: best fitness ${x.bestFitness.toFixed(4)} after ${x.evaluations} evaluations (${formatSeconds(x.seconds)}); ${factorsText(x.bestSpec)}.`),
    r.progressive.recovery ? `4. Recovery search at ${L}: best fitness ${r.progressive.recovery.bestFitness.toFixed(4)} after ${r.progressive.recovery.evaluations} evaluations (${formatSeconds(r.progressive.recovery.seconds)}); short factors ${(r.progressive.recovery.bestSpec.shortFactors ?? []).map((f) => Number(f.toFixed(2))).join(', ')}.` : '4. No recovery search.',
    `5. Exported (Hugging Face format, rope_scaling longrope, short and long factors): \`${r.progressive.modelDir}\` (in the run folder, not committed).`, '',
    `## Table 10: short-context recovery at ${L}`, '',
    table(['model and RoPE', `ppl at ${L}`, `passkey at ${L}`], r.recovery.map((x) => [x.label, ppl3(x.ppl.ppl), `${Math.round(x.passkey.accuracy * x.passkey.trials)}/${x.passkey.trials}`])), '',
    '## Table 11: the two non-uniformities (no fine-tuning)', '',
    'Each column uses factors searched (or nHat chosen) for that length on the search half; the numbers are held-out perplexity.', '',
    table(['RoPE', ...r.ablation.map((a) => `${lengthLabel(a.length)} (${a.length / L}x)`)],
      (r.ablation[0]?.rows ?? []).map((row, i) => [row.label, ...r.ablation.map((a) => {
        const x = a.rows[i];
        return `${ppl3(x.heldOut.ppl)}${x.id.includes('nhat') ? ` (nHat ${x.spec.nHat ?? 0})` : ''}`;
      })])), '',
    'The paper (LLaMA2-7B, PG19, 16k / 32k): PI 14.88 / 136.30, non-uniform dims 7.28 / 13.00, dims + start tokens 7.22 / 11.51.', '',
  ];
  return out.join('\n');
}

/** Writes reproduce.json, reproduce.md and the two figures (SVG, PNG) into `dir`; returns their paths. */
export async function writeReproduceReport(r: ReproduceResults, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const figures = { ppl: 'reproduce-ppl.svg', passkey: 'reproduce-passkey.svg' };
  const labels = r.methods.map((m) => m.label);
  // Full method names in the legend (vega-lite cuts labels at 160 px by default); the fine-tuned
  // model's methods dashed, so they stand apart from the base model's where lines overlap.
  const dashes = r.methods.map((m) => (m.model === 'tuned' ? [6, 3] : [1, 0]));
  const legend = (spec: ReturnType<typeof pplPlotSpec>) => {
    const s = spec as unknown as { encoding: Record<string, unknown>; config?: object };
    return {
      ...s, width: 560, config: { ...s.config, legend: { labelLimit: 520, symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300 } },
      encoding: { ...s.encoding, strokeDash: { field: 'method', type: 'nominal', scale: { domain: labels, range: dashes } } },
    } as unknown as ReturnType<typeof pplPlotSpec>;
  };
  const notesFile = path.join(dir, 'reproduce-notes.md');
  const notes = fs.existsSync(notesFile) ? fs.readFileSync(notesFile, 'utf8') : undefined;
  const files = [path.join(dir, 'reproduce.json'), path.join(dir, 'reproduce.md')];
  writeJsonAtomic(files[0], r);
  writeFileAtomic(files[1], reproduceMarkdown(r, figures, notes));
  const figure = async (file: string, spec: ReturnType<typeof pplPlotSpec>) => {
    files.push(...(await writeFigure(legend(spec), path.join(dir, file.replace(/\.svg$/, '')))));
  };
  await figure(figures.ppl, { ...pplPlotSpec(grid(r, (m, n) => m.ppl[n]?.ppl), labels), title: `Held-out perplexity vs length (${r.model})` });
  await figure(figures.passkey, { ...passkeyPlotSpec(grid(r, (m, n) => m.passkey[n]?.accuracy), labels), title: `Passkey retrieval vs length (${r.model}, ${r.settings.passkeyTrials} trials per point)` });
  return files;
}
