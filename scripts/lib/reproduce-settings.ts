/**
 * The settings of `npm run reproduce`: three budgets (the paper's search settings, a medium one
 * that fits a working day on 2 cores, and a smoke run of a few minutes that walks every stage at
 * short lengths), each field overridable by a flag. A run folder remembers the settings it was
 * started with; a rerun with other settings is refused rather than mixing results.
 */
import type { Command } from 'commander';

import { parseLengths, parsePositiveInt, parsePositiveNumber, parseNonNegativeInt, parseChoice } from '../../src/cli/rope-arg';

/** Loop sizes of one kind of search (see EvolveSettings) and its fitness samples. */
export interface SearchBudget {
  population: number;
  parents: number;
  mutations: number;
  crossovers: number;
  iterations: number;
  /** Documents in the perplexity fitness (the paper: 5). */
  samples: number;
}

/** Everything a reproduction run depends on (saved as settings.json in the run folder). */
export interface ReproduceSettings {
  budget: Budget;
  /** Stage (b)'s first search and fine-tuning length (8x = 2048 for tiny-base). */
  finetuneLength: number;
  /** Secondary search targets on the fine-tuned model (64x = 16384, 128x = 32768). */
  secondary: number[];
  /** Evaluation lengths of perplexity and passkey (those the held-out data allows are kept). */
  lengths: number[];
  /** Table 11's target lengths (the paper: 4x and 8x its window, 16k and 32k for LLaMA2's 4k). */
  ablationLengths: number[];
  search: SearchBudget;
  /** The secondary searches' budget (each evaluation costs ~(target / finetune length)^2 more). */
  secondarySearch: SearchBudget;
  finetune: {
    steps: number;
    globalBatch: number;
    lr: number;
    warmupSteps: number;
    /** Share of synthetic segments (half passkey sequences, half copy drills) at the fine-tuning length. */
    syntheticShare: number;
    /** Every N-th step trains on the first L tokens only (LongRoPE2's mixed window); 0: off (the paper). */
    mixedShortEvery: number;
  };
  /** Short-context recovery: the largest short factor searched at the original window. */
  recoveryMaxFactor: number;
  passkeyTrials: number;
  /** Held-out perplexity: non-overlapping windows per document and per length at most. */
  windowsPerDocument: number;
  maxWindows: number;
  seed: number;
}

export const BUDGETS = ['paper', 'medium', 'smoke'] as const;
export type Budget = (typeof BUDGETS)[number];

const paperSearch: SearchBudget = { population: 64, parents: 32, mutations: 16, crossovers: 16, iterations: 40, samples: 5 };

/** The budgets before flags; tiny-base's window is 256 (the lengths assume it). */
export function budgetDefaults(budget: Budget): ReproduceSettings {
  const common: ReproduceSettings = {
    budget,
    finetuneLength: 2048,
    secondary: [16384],
    lengths: [256, 512, 1024, 2048, 4096, 8192, 16384, 32768],
    ablationLengths: [1024, 2048],
    search: paperSearch,
    secondarySearch: paperSearch,
    // The paper: 400 steps of 32 x 128k tokens at lr 2e-5 (a 7B model). Ours: 400 steps of 8 x 2048
    // at 2e-4, ten times the paper's rate because the tiny model was pretrained at 1e-3 (and ends at 1e-4).
    finetune: { steps: 400, globalBatch: 8, lr: 2e-4, warmupSteps: 20, syntheticShare: 0.3, mixedShortEvery: 0 },
    recoveryMaxFactor: 8,
    passkeyTrials: 10,
    windowsPerDocument: 3,
    maxWindows: 32,
    seed: 0,
  };
  if (budget === 'paper') return common;
  if (budget === 'medium') {
    return {
      ...common,
      search: { population: 32, parents: 16, mutations: 8, crossovers: 8, iterations: 20, samples: 5 },
      secondarySearch: { population: 32, parents: 16, mutations: 8, crossovers: 8, iterations: 10, samples: 3 },
    };
  }
  const tiny: SearchBudget = { population: 4, parents: 2, mutations: 1, crossovers: 1, iterations: 1, samples: 1 };
  return {
    ...common,
    finetuneLength: 512,
    secondary: [1024],
    lengths: [256, 512, 1024],
    ablationLengths: [512],
    search: tiny,
    secondarySearch: tiny,
    finetune: { steps: 2, globalBatch: 1, lr: 2e-4, warmupSteps: 0, syntheticShare: 0.3, mixedShortEvery: 0 },
    recoveryMaxFactor: 2,
    passkeyTrials: 1,
    windowsPerDocument: 1,
    maxWindows: 2,
  };
}

/** Adds the flags that override a budget's fields. */
export function withSettingsFlags(c: Command): Command {
  return c
    .option('--budget <name>', `search and fine-tuning budget: ${BUDGETS.join(', ')} (default paper: the paper's search settings)`, 'paper')
    .option('--smoke', 'every stage at tiny budgets and short lengths in a few minutes (= --budget smoke)')
    .option('--finetune-length <n>', 'first search and fine-tuning length (default 2048 = 8x)')
    .option('--secondary <lengths>', 'secondary search targets on the fine-tuned model, e.g. 16384,32768 (default 16384 = 64x)')
    .option('--lengths <list>', 'perplexity and passkey lengths (default 256..32768, capped by the held-out data)')
    .option('--ablation-lengths <list>', 'Table 11 target lengths (default 1024,2048)')
    .option('--population <n>').option('--parents <n>').option('--mutations <n>').option('--crossovers <n>')
    .option('--iterations <n>', 'search iterations of every search but the secondary ones')
    .option('--samples <n>', 'fitness documents of every search but the secondary ones')
    .option('--secondary-population <n>').option('--secondary-parents <n>').option('--secondary-mutations <n>')
    .option('--secondary-crossovers <n>').option('--secondary-iterations <n>').option('--secondary-samples <n>')
    .option('--steps <n>', 'fine-tuning steps').option('--global-batch <n>', 'fine-tuning segments per step')
    .option('--lr <x>', 'fine-tuning peak learning rate (linear decay)').option('--warmup <n>', 'fine-tuning warmup steps')
    .option('--synthetic-share <x>', 'share of passkey sequences and copy drills in the fine-tuning data (0..1)')
    .option('--mixed-short-every <n>', 'every N-th fine-tuning step at the original window (0: off)')
    .option('--recovery-max-factor <x>', 'largest short factor of the recovery search')
    .option('--trials <n>', 'passkey trials per method and length')
    .option('--windows-per-document <n>').option('--max-windows <n>', 'held-out perplexity windows per length at most')
    .option('--seed <n>');
}

type Flags = Record<string, string | boolean | undefined>;

function budgetFrom(f: Flags, prefix: '' | 'secondary', base: SearchBudget): SearchBudget {
  const out = { ...base };
  for (const k of Object.keys(base) as (keyof SearchBudget)[]) {
    const key = prefix ? `${prefix}${k[0].toUpperCase()}${k.slice(1)}` : k;
    const v = f[key];
    if (typeof v === 'string') out[k] = parsePositiveInt(v, `--${prefix ? `${prefix}-` : ''}${k}`);
  }
  if (out.parents > out.population) throw new Error(`Expected --${prefix ? `${prefix}-` : ''}parents at most the population (${out.population}) but received ${out.parents}`);
  return out;
}

/** The settings for parsed flags: the budget's defaults, then each given flag. */
export function settingsFromFlags(f: Flags): ReproduceSettings {
  const budget = f.smoke ? 'smoke' : parseChoice(String(f.budget ?? 'paper'), '--budget', BUDGETS);
  const s = budgetDefaults(budget);
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const int = (k: string, flag: string, fallback: number) => (str(k) === undefined ? fallback : parsePositiveInt(str(k)!, flag));
  const share = str('syntheticShare') === undefined ? s.finetune.syntheticShare : Number(str('syntheticShare'));
  if (!(share >= 0 && share < 1)) throw new Error(`Expected a number in [0, 1) for --synthetic-share but received ${JSON.stringify(str('syntheticShare'))}`);
  const out: ReproduceSettings = {
    ...s,
    finetuneLength: int('finetuneLength', '--finetune-length', s.finetuneLength),
    secondary: str('secondary') === undefined ? s.secondary : parseLengths(str('secondary')!, '--secondary'),
    lengths: str('lengths') === undefined ? s.lengths : parseLengths(str('lengths')!, '--lengths'),
    ablationLengths: str('ablationLengths') === undefined ? s.ablationLengths : parseLengths(str('ablationLengths')!, '--ablation-lengths'),
    search: budgetFrom(f, '', s.search),
    secondarySearch: budgetFrom(f, 'secondary', s.secondarySearch),
    finetune: {
      steps: int('steps', '--steps', s.finetune.steps),
      globalBatch: int('globalBatch', '--global-batch', s.finetune.globalBatch),
      lr: str('lr') === undefined ? s.finetune.lr : parsePositiveNumber(str('lr')!, '--lr'),
      warmupSteps: str('warmup') === undefined ? s.finetune.warmupSteps : parseNonNegativeInt(str('warmup')!, '--warmup'),
      syntheticShare: share,
      mixedShortEvery: str('mixedShortEvery') === undefined ? s.finetune.mixedShortEvery : parseNonNegativeInt(str('mixedShortEvery')!, '--mixed-short-every'),
    },
    recoveryMaxFactor: str('recoveryMaxFactor') === undefined ? s.recoveryMaxFactor : parsePositiveNumber(str('recoveryMaxFactor')!, '--recovery-max-factor'),
    passkeyTrials: int('trials', '--trials', s.passkeyTrials),
    windowsPerDocument: int('windowsPerDocument', '--windows-per-document', s.windowsPerDocument),
    maxWindows: int('maxWindows', '--max-windows', s.maxWindows),
    seed: str('seed') === undefined ? s.seed : parseNonNegativeInt(str('seed')!, '--seed'),
  };
  if (out.finetune.warmupSteps > out.finetune.steps) out.finetune.warmupSteps = out.finetune.steps;
  if (out.recoveryMaxFactor < 1) throw new Error(`Expected a number >= 1 for --recovery-max-factor but received ${out.recoveryMaxFactor}`);
  for (const t of out.secondary) {
    if (t <= out.finetuneLength) throw new Error(`Expected --secondary lengths above the fine-tuning length ${out.finetuneLength} but received ${t}`);
  }
  out.secondary = [...new Set(out.secondary)].sort((a, b) => a - b);
  out.lengths = [...new Set(out.lengths)].sort((a, b) => a - b);
  out.ablationLengths = [...new Set(out.ablationLengths)].sort((a, b) => a - b);
  return out;
}
