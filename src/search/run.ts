/**
 * A search run in a directory: the state after every evaluation (search.json, atomically), the
 * per-generation log (generations.jsonl), and at the end the best spec (best.json), the factor
 * CSV of the reference code (factors.csv) and a summary (result.json). A directory holding a
 * search is resumed only with --resume and the same settings; nothing is ever overwritten.
 */
import fs from 'fs';
import path from 'path';

import { checkResumeSignature, inputError } from '../common/errors';
import { checkOutputPath, readJsonFile, writeFileAtomic, writeJsonAtomic } from '../common/files';
import { isObject } from '../common/objects';
import { RunLock } from '../common/run-lock';
import { formatFactorCsv } from '../rope/factor-csv';
import type { RopeSpec } from '../rope/types';
import { evolve, paperSettings, type EvaluationEvent, type ScreeningSettings, type EvolveSettings, type GenerationLog, type SearchGroup, type SearchState } from './evolve';
import type { Fitness } from './fitness';
import { SearchSpace, type Individual, type SpaceOptions } from './space';

const STATE_FILE = 'search.json';

/** Options of {@link runSearch}. */
export interface SearchRunOptions {
  fitness: Fitness;
  space: SpaceOptions;
  /** Loop sizes; unset ones take the paper's values ({@link paperSettings}). */
  settings?: Partial<EvolveSettings>;
  /** Run directory; without it nothing is written (the search cannot be resumed). */
  out?: string;
  resume?: boolean;
  /** What identifies the inputs besides the settings (model, data, fitness); compared on resume. */
  signature?: Record<string, unknown>;
  /** Extra starting individuals (e.g. a previous stage's factors). */
  initial?: Individual[];
  /** Multi-fidelity screening (off by default: the paper's search; see {@link ScreeningSettings}). */
  screening?: ScreeningSettings;
  signal?: AbortSignal;
  onEvaluation?: (e: EvaluationEvent) => void;
  onGeneration?: (g: GenerationLog) => void;
  /**
   * Data parallel over a process group (e.g. `dist.ProcessGroup.init()` under `longrope launch`,
   * or groups of ranks: `groupedSearchGroup` in ./grouped.ts): every rank evaluates its share of
   * each generation; one process (`group.writer`, default rank 0) writes `out` (all read it on
   * --resume, so it must be a shared folder).
   */
  group?: SearchGroup;
}

/** What a search returns. */
export interface SearchResult {
  bestSpec: RopeSpec;
  bestFitness: number;
  /** Model evaluations run (cache hits excluded) and generations completed. */
  evaluations: number;
  /** Screening evaluations (multi-fidelity) and the whole cost in full evaluations. */
  screenEvaluations: number;
  cost: number;
  generations: number;
  history: GenerationLog[];
  seconds: number;
  /** Share of the wall time spent outside the fitness evaluations (bookkeeping, I/O). */
  outsideFitnessShare: number;
  /** True when `resume` found the search already finished. */
  resumedFinished?: boolean;
  /** The resolved settings and search space (critical dim, bounds). */
  settings: EvolveSettings;
  criticalDim: number | null;
  maxFactor: number;
}

interface SavedSearch {
  signature: Record<string, unknown>;
  state: SearchState;
}

function signatureOf(o: SearchRunOptions, settings: EvolveSettings, space: SearchSpace): Record<string, unknown> {
  const { base, longSpec, ...spaceRest } = o.space;
  return {
    fitness: o.fitness.kind, base, longSpec: longSpec ?? null, ...spaceRest, maxFactor: space.maxFactor,
    criticalDim: space.criticalDim, settings, initial: o.initial ?? [], ...(o.screening ? { screening: o.screening } : {}), ...(o.signature ?? {}),
  };
}

/** Refuses a directory that holds something else, or a search of other settings. */
function openRun(out: string, signature: Record<string, unknown>, resume: boolean): SearchState | undefined {
  checkOutputPath(out, '--out', 'dir');
  const file = path.join(out, STATE_FILE);
  const saved = readJsonFile(file) as SavedSearch | undefined;
  if (saved === undefined) {
    const entries = fs.existsSync(out) ? fs.readdirSync(out).filter((e) => e !== 'lock.json') : [];
    if (entries.length > 0) {
      throw inputError(undefined, '--out', 'an empty or new folder, or an earlier search (--resume)', `${JSON.stringify(out)}, which holds ${entries.slice(0, 3).join(', ')} (nothing was overwritten)`);
    }
    return undefined;
  }
  if (!resume) throw new Error(`${out} already holds a search; pass --resume to continue it or choose another --out (nothing was overwritten)`);
  if (!isObject(saved) || !isObject(saved.signature) || !isObject(saved.state)) throw new Error(`${file}: not a search state file`);
  checkResumeSignature(file, 'search', saved.signature, signature);
  return saved.state;
}

/** The finished search's files: best.json, factors.csv, result.json. */
function writeOutputs(out: string, space: SearchSpace, state: SearchState, result: SearchResult): void {
  if (!state.finished) return;
  writeJsonAtomic(path.join(out, 'best.json'), result.bestSpec);
  const factors = space.role === 'short' ? result.bestSpec.shortFactors : result.bestSpec.longFactors;
  writeFileAtomic(path.join(out, 'factors.csv'), formatFactorCsv(factors ?? []));
  writeJsonAtomic(path.join(out, 'result.json'), { ...result, history: undefined });
}

/** Runs or resumes a search (see the module comment). */
export async function runSearch(o: SearchRunOptions): Promise<SearchResult> {
  const space = new SearchSpace(o.space);
  const settings: EvolveSettings = { ...paperSettings(o.space.targetLength), ...(o.settings ?? {}) };
  checkSettings(settings);
  const signature = signatureOf(o, settings, space);
  let saved: SearchState | undefined;
  let lock: RunLock | null = null;
  const writer = o.group ? o.group.writer ?? o.group.rank === 0 : true;
  if (o.out) {
    // Other ranks only read: rank 0 writes nothing before the first gather, which they join
    // after reading, so every rank starts from the same state.
    saved = openRun(o.out, signature, o.resume ?? false);
    if (writer) {
      fs.mkdirSync(o.out, { recursive: true });
      lock = RunLock.acquire(o.out);
    }
  }
  try {
    const out = writer ? o.out : undefined;
    const alreadyFinished = saved?.finished ?? false;
    const persist = out ? (state: SearchState) => writeJsonAtomic(path.join(out, STATE_FILE), { signature, state } satisfies SavedSearch) : undefined;
    let lastGenerations = saved?.history.length ?? 0;
    const r = await evolve({
      space, fitness: o.fitness, settings, screening: o.screening, initial: o.initial, state: saved, signal: o.signal, onEvaluation: o.onEvaluation, group: o.group,
      persist: (state) => {
        persist?.(state);
        // The log is rewritten from the state whenever a generation completes (never appended twice).
        if (out && state.history.length !== lastGenerations) {
          lastGenerations = state.history.length;
          writeFileAtomic(path.join(out, 'generations.jsonl'), state.history.map((g) => JSON.stringify(g) + '\n').join(''));
        }
      },
      onGeneration: o.onGeneration,
    });
    const s = r.state;
    const result: SearchResult = {
      bestSpec: r.bestSpec, bestFitness: r.best.fitness, evaluations: s.evaluations,
      screenEvaluations: s.screenEvaluations ?? 0, cost: s.cost ?? s.evaluations, generations: s.history.length,
      history: s.history, seconds: s.seconds, outsideFitnessShare: s.seconds > 0 ? Math.max(0, 1 - s.fitnessSeconds / s.seconds) : 0,
      settings, criticalDim: space.criticalDim, maxFactor: space.maxFactor,
      ...(alreadyFinished ? { resumedFinished: true } : {}),
    };
    if (out) writeOutputs(out, space, s, result);
    return result;
  } finally {
    lock?.release();
  }
}

function checkSettings(s: EvolveSettings): void {
  for (const k of ['population', 'parents', 'iterations'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw inputError(undefined, k, 'a positive integer', String(s[k]));
  }
  for (const k of ['mutations', 'crossovers', 'seed', 'patience'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 0) throw inputError(undefined, k, 'a non-negative integer', String(s[k]));
  }
  if (!(s.probability > 0 && s.probability <= 1)) throw inputError(undefined, 'probability', 'a number in (0, 1]', String(s.probability));
  if (s.parents > s.population) throw inputError(undefined, 'parents', `at most the population (${s.population})`, String(s.parents));
}
