/**
 * `longrope search`: the paper's evolutionary search for LongRoPE factors at a target length, on
 * one loaded model, resumable (--resume) after a kill. Writes into --out: search.json (state),
 * generations.jsonl, best.json (the RopeSpec), factors.csv (the reference code's format) and
 * result.json; prints the result (--json) or a summary.
 */
import type { Command } from 'commander';

import { encodeDocument } from '../data/chunking';
import { readDistEnv } from '../dist/env';
import { readDocuments } from '../data/readers';
import { buildNeedleRows } from '../eval/needle';
import { checkSearchConstraints } from '../rope/factor-checks';
import { groupedSearchGroup, needleFitness, perplexityFitness, runSearch, theoreticalCriticalDim, type FitnessKind } from '../search';
import { progressBar } from '../train/progress';
import { registerEvalCommand, type EvalFlags } from './eval-command';
import { parseChoice, parsePositiveInt, parsePositiveNumber, parseRopeArg } from './rope-arg';
import { parseSearchSizes, withSearchSizeOptions, type SearchSizeFlags } from './search-options';

interface SearchFlags extends EvalFlags, SearchSizeFlags {
  data: string[];
  textField: string;
  targetLength: string;
  out: string;
  resume?: boolean;
  fitness: string;
  needleDepths: string;
  maxFactor?: string;
  criticalDim?: string;
  nHat: boolean;
  searchAttention?: boolean;
  short?: string;
  sequenceParallel: string;
}

/**
 * For the kill-and-resume test: with LONGROPE_TEST_HALT_AFTER_EVALUATION=N the process stops
 * (alive, doing nothing) once evaluation N is saved, so the test kills it where it chose.
 */
function haltForTests(evaluations: number): void {
  if (Number(process.env.LONGROPE_TEST_HALT_AFTER_EVALUATION) !== evaluations) return;
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}

/** Registers `search` on the CLI program. */
export function registerSearchCommand(program: Command): void {
  registerEvalCommand(program, {
    name: 'search',
    kind: 'search',
    distributed: 'data parallel',
    ropeFlags: false,
    description: 'evolutionary search of LongRoPE factors at a target length (the paper\'s algorithm and settings by default)',
    options: (c) => withSearchSizeOptions(c)
      .requiredOption('--data <files...>', 'documents for the fitness (text, JSONL, Parquet, folders); samples are drawn from those long enough')
      .option('--text-field <key>', 'JSONL key / Parquet column of the text', 'text')
      .requiredOption('--target-length <n>', 'the extended length N (4k = 4096); for --short, the original window')
      .requiredOption('--out <dir>', 'run directory (state after every evaluation; resumable)')
      .option('--resume', 'continue the search in --out')
      .option('--fitness <kind>', 'ppl (the paper) or needle (LongRoPE2: NLL of a planted number\'s answer)', 'ppl')
      .option('--needle-depths <n>', 'needle depths per document (--fitness needle)', '5')
      .option('--max-factor <x>', 'upper bound of every factor (default 1 + s, the reference code\'s bound)')
      .option('--critical-dim <cd>', 'search only pairs >= cd (LongRoPE2); "theory" = ceil((d/2) log_base(L/2pi)) - 1')
      .option('--no-n-hat', 'keep nHat at 0 (do not search start tokens)')
      .option('--search-attention', 'search the attention factor too (in [1, 1.5])')
      .option('--short <spec>', 'short-context recovery: search short factors at the original window for this long spec (JSON)')
      .option('--sequence-parallel <g>', 'under launch: ranks form groups of g, each evaluating one candidate at a time sequence-parallel', '1'),
    parse(f: SearchFlags, { config }) {
      const targetLength = parsePositiveInt(f.targetLength, '--target-length');
      const fitness = parseChoice(f.fitness, '--fitness', ['ppl', 'needle'] as const) as FitnessKind;
      const L = config.rope.originalLength;
      const longSpec = f.short === undefined ? undefined : parseRopeArg(f.short, undefined, config.rope);
      if (longSpec === undefined && targetLength <= L) {
        throw new Error(`Expected a --target-length above the model's original window ${L} but received ${targetLength} (for short factors at the original window use --short)`);
      }
      if (longSpec !== undefined && targetLength > L) {
        throw new Error(`Expected a --target-length up to the original window ${L} with --short but received ${targetLength}`);
      }
      if (longSpec !== undefined && longSpec.method !== 'longrope') throw new Error(`Expected a longrope spec for --short but received method ${longSpec.method}`);
      // The long factors a short search keeps must themselves satisfy the search's constraints.
      if (longSpec !== undefined) checkSearchConstraints(longSpec.longFactors ?? [], 'longFactors', `--short ${f.short}`);
      let criticalDim: number | null = null;
      if (f.criticalDim !== undefined) {
        criticalDim = f.criticalDim === 'theory' ? theoreticalCriticalDim(config.rope) : parsePositiveInt(f.criticalDim, '--critical-dim');
        if (criticalDim >= config.rope.headDim / 2) {
          throw new Error(`Expected a --critical-dim below d/2 = ${config.rope.headDim / 2} but received ${criticalDim}`);
        }
      }
      // Checked before any data is read: the groups must tile the job's ranks.
      const sequenceParallel = parsePositiveInt(f.sequenceParallel, '--sequence-parallel');
      const worldSize = readDistEnv()?.worldSize ?? 1;
      if (worldSize % sequenceParallel !== 0) {
        throw new Error(`Expected a --sequence-parallel that divides the job's ${worldSize} process${worldSize === 1 ? '' : 'es'} (WORLD_SIZE) ` +
          `but received ${sequenceParallel}${worldSize === 1 ? ': run it under longrope launch --nproc N with N a multiple of it' : ''}`);
      }
      return {
        data: f.data, textField: f.textField, targetLength, fitness, out: f.out, resume: Boolean(f.resume), longSpec,
        sequenceParallel, nccl: Boolean(f.device?.startsWith('cuda')),
        ...parseSearchSizes(f),
        needleDepths: parsePositiveInt(f.needleDepths, '--needle-depths'),
        maxFactor: f.maxFactor === undefined ? undefined : parsePositiveNumber(f.maxFactor, '--max-factor'), criticalDim,
        searchNHat: f.nHat !== false, searchAttention: Boolean(f.searchAttention),
        docs: [] as Int32Array[],
      };
    },
    // Samples are tokenized once, before the weights are loaded.
    async prepare(plan, context) {
      const tokenizer = await context.tokenizer();
      const docs: Int32Array[] = [];
      for await (const d of readDocuments(plan.data, { textField: plan.textField })) docs.push(encodeDocument(tokenizer, d));
      if (docs.length === 0) throw new Error(`Expected at least one document in --data but received none (${plan.data.join(', ')})`);
      return { ...plan, docs };
    },
    async run(model, plan, context) {
      // Under `longrope launch` (or torchrun) the ranks share each generation's evaluations: alone,
      // or in groups of --sequence-parallel ranks that run each fitness window together (the
      // world's gathers are a few floats over Gloo; a group's ring attention runs where the model is).
      const world = context.group;
      const sub = world && plan.sequenceParallel > 1 ? await world.split(plan.sequenceParallel, { backend: plan.nccl ? 'nccl' : 'gloo' }) : undefined;
      try {
        let fitness;
        if (plan.fitness === 'needle') {
          const tokenizer = await context.tokenizer();
          const long = plan.docs.filter((d) => d.length >= plan.targetLength).slice(0, plan.samples);
          if (long.length < plan.samples) {
            throw new Error(`Expected ${plan.samples} documents of at least ${plan.targetLength} tokens in --data for --fitness needle but received ${long.length}`);
          }
          fitness = needleFitness(model, buildNeedleRows(tokenizer, long, {
            length: plan.targetLength, depths: plan.needleDepths, seed: plan.seed, bosTokenId: model.config.bosTokenId,
          }), { sequenceParallel: sub });
        } else {
          fitness = perplexityFitness(model, plan.docs, { length: plan.targetLength, samples: plan.samples, seed: plan.seed, sequenceParallel: sub });
        }
        const settings = plan.settings;
        const sizes = { population: 64, mutations: 16, crossovers: 16, iterations: 40, ...settings };
        // Progress counts evaluation events: with screening, every candidate's plus the promoted share's.
        const total = Math.ceil((sizes.population + sizes.iterations * (sizes.mutations + sizes.crossovers)) * (1 + (plan.screening?.promote ?? 0)));
        const group = sub && world ? groupedSearchGroup(world, plan.sequenceParallel) : world;
        const bar = progressBar('search', total, { best: '-', gen: 0 }, { enabled: (world?.rank ?? 0) === 0 });
        let done = 0;
        try {
          const result = await runSearch({
            fitness, out: plan.out, resume: plan.resume, settings, screening: plan.screening, group,
            space: {
              base: model.config.rope, targetLength: plan.targetLength, maxFactor: plan.maxFactor, criticalDim: plan.criticalDim,
              searchNHat: plan.searchNHat, searchAttention: plan.searchAttention,
              ...(plan.longSpec ? { role: 'short' as const, longSpec: plan.longSpec } : {}),
            },
            signature: { model: model.config.raw, data: plan.data, samples: plan.samples, needleDepths: plan.fitness === 'needle' ? plan.needleDepths : null },
            onEvaluation: (e) => {
              bar.update(++done, { best: e.best.toFixed(4), gen: e.generation });
              haltForTests(e.evaluations);
            },
            onGeneration: (g) => {
              if (!process.stderr.isTTY && !context.quiet && (world?.rank ?? 0) === 0) console.error(`generation ${g.generation}: best ${g.best.toFixed(4)}, mean ${g.mean.toFixed(4)}, ${g.evaluations} evaluations`);
            },
          });
          return {
            targetLength: plan.targetLength, fitness: plan.fitness, out: plan.out, ...result, history: undefined,
            ranks: world?.worldSize ?? 1, sequenceParallel: plan.sequenceParallel,
          };
        } finally {
          bar.stop();
        }
      } finally {
        sub?.dispose();
      }
    },
    table: (r) => ({
      title: r.resumedFinished ? `the search in ${r.out} had already finished` : `search at ${r.targetLength} tokens: best ${r.fitness} ${r.bestFitness.toFixed(4)}`,
      rows: [['evaluations', 'cost (full evaluations)', 'generations', 'seconds', 'outside fitness', 'files'],
        [r.screenEvaluations > 0 ? `${r.evaluations} + ${r.screenEvaluations} screened` : String(r.evaluations), r.cost.toFixed(1), String(r.generations), r.seconds.toFixed(1), `${(100 * r.outsideFitnessShare).toFixed(1)}%`, `${r.out}/best.json, factors.csv`]],
    }),
  });
}
