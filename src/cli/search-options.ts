/**
 * The search's size flags, shared by `longrope search` and `longrope extend`: unset ones take the
 * paper's values (P=64, N1=N2=16, T=40, top-32, p=0.3; sizes halved above 512k).
 */
import type { Command } from 'commander';

import type { EvolveSettings, ScreeningSettings } from '../search/evolve';
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from './rope-arg';

/** The flags {@link withSearchSizeOptions} adds. */
export interface SearchSizeFlags {
  population?: string;
  mutations?: string;
  crossovers?: string;
  iterations?: string;
  parents?: string;
  probability?: string;
  patience?: string;
  screenSamples?: string;
  promote?: string;
  samples: string;
  seed: string;
}

/** Adds the size flags (and --samples, --seed) to `command`. */
export function withSearchSizeOptions(command: Command): Command {
  return command
    .option('--population <n>', 'initial population P (default 64; 32 above 512k)')
    .option('--mutations <n>', 'mutated children per iteration N1 (default 16; 8 above 512k)')
    .option('--crossovers <n>', 'crossed children per iteration N2 (default 16; 8 above 512k)')
    .option('--iterations <n>', 'iterations T (default 40)')
    .option('--parents <n>', 'top-k kept as parents (default 32; 16 above 512k)')
    .option('--probability <p>', 'mutation / crossover probability (default 0.3)')
    .option('--patience <n>', 'stop early when the best improves < 0.001 over n iterations (0: never)')
    .option('--screen-samples <k>', 'multi-fidelity: screen every candidate on k of the --samples first; only the best --promote share gets the full fitness (off by default: the paper)')
    .option('--promote <share>', 'with --screen-samples: share of each generation promoted to the full fitness', '0.25')
    .option('--samples <n>', 'fitness documents', '5')
    .option('--seed <s>', 'seed of the search and the sample draw', '0');
}

const opt = (v: string | undefined, flag: string, parse: (v: string, f: string) => number) => (v === undefined ? undefined : parse(v, flag));

/** The settings the flags set (only those given), with the seed, and the sample count. */
export function parseSearchSizes(f: SearchSizeFlags): { settings: Partial<EvolveSettings>; samples: number; seed: number; screening?: ScreeningSettings } {
  const probability = opt(f.probability, '--probability', parsePositiveNumber);
  if (probability !== undefined && probability > 1) throw new Error(`Expected a number in (0, 1] for --probability but received ${probability}`);
  const seed = parseNonNegativeInt(f.seed, '--seed');
  const given = {
    population: opt(f.population, '--population', parsePositiveInt), mutations: opt(f.mutations, '--mutations', parseNonNegativeInt),
    crossovers: opt(f.crossovers, '--crossovers', parseNonNegativeInt), iterations: opt(f.iterations, '--iterations', parsePositiveInt),
    parents: opt(f.parents, '--parents', parsePositiveInt), probability, patience: opt(f.patience, '--patience', parseNonNegativeInt),
  };
  const settings = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<EvolveSettings>;
  const samples = parsePositiveInt(f.samples, '--samples');
  let screening: ScreeningSettings | undefined;
  if (f.screenSamples !== undefined) {
    const k = parsePositiveInt(f.screenSamples, '--screen-samples');
    if (k >= samples) throw new Error(`Expected a --screen-samples below --samples (${samples}) but received ${k}`);
    const promote = parsePositiveNumber(f.promote ?? '0.25', '--promote');
    if (promote > 1) throw new Error(`Expected a number in (0, 1] for --promote but received ${promote}`);
    screening = { samples: k, promote };
  }
  return { settings: { ...settings, seed }, samples, seed, ...(screening ? { screening } : {}) };
}
