/**
 * The evolutionary search (paper section 3.2, Algorithm 1): an initial population seeded from
 * PI, NTK and YaRN, then each iteration keeps the top `parents`, adds `mutations` mutated and
 * `crossovers` crossed children of them, and evaluates the children. Duplicates are never
 * evaluated twice (a cache by the searched genes). The whole state (population, cache, history,
 * the generator) is handed to `persist` after every evaluation, so a kill loses at most the
 * evaluation in flight and a resume repeats none.
 */
import { Prng } from '../common/prng';
import { methodToLongropeFactors } from '../rope/longrope-factors';
import { ropeAttentionFactor } from '../rope/methods';
import type { RopeSpec } from '../rope/types';
import type { Fitness } from './fitness';
import { crossover, mutate } from './operators';
import { onGrid, type Individual, type SearchSpace } from './space';

/** The loop's sizes (the paper's defaults: see {@link paperSettings}). */
export interface EvolveSettings {
  population: number;
  mutations: number;
  crossovers: number;
  iterations: number;
  parents: number;
  /** Mutation / crossover probability p. */
  probability: number;
  seed: number;
  /** Stop when the best improved by less than `minImprovement` over `patience` iterations (0: never). */
  patience: number;
  minImprovement: number;
}

/** P=64, N1=N2=16, T=40, top-32, p=0.3; sizes halved above 512k (the paper). */
export function paperSettings(targetLength: number): EvolveSettings {
  const half = targetLength > 512 * 1024;
  return {
    population: half ? 32 : 64, mutations: half ? 8 : 16, crossovers: half ? 8 : 16, iterations: 40, parents: half ? 16 : 32,
    probability: 0.3, seed: 0, patience: 0, minImprovement: 0.001,
  };
}

/** A candidate with its fitness. */
export interface Evaluated {
  ind: Individual;
  fitness: number;
}

/** One line of the per-generation log. */
export interface GenerationLog {
  generation: number;
  best: number;
  mean: number;
  /** Model evaluations run so far (cache hits excluded). */
  evaluations: number;
  /** What the search has cost so far, in full fitness evaluations (screenings count their share). */
  cost: number;
  /** Screening evaluations so far (multi-fidelity only). */
  screenEvaluations: number;
  /** The best individual's spec. */
  bestSpec: RopeSpec;
  seconds: number;
}

/** Everything a resume needs (JSON). */
export interface SearchState {
  version: 1;
  generation: number;
  /** The generator's state after the current generation's candidates were drawn. */
  rng: number;
  /** Candidates of the current generation, in evaluation order. */
  pending: Individual[];
  /** Full fitness of pending[0 .. done.length) (with screening: of pending[promoted[0 .. done.length)]). */
  done: number[];
  /** Screening only: screened fitness of pending[0 ..), by key, the promoted indices, the count and cost so far. */
  screenDone?: number[];
  screenCache?: Record<string, number>;
  promoted?: number[];
  screenEvaluations?: number;
  cost?: number;
  /** The parents this generation's children came from (empty for the initial population). */
  parents: Evaluated[];
  /** Fitness of every candidate ever evaluated, by key. */
  cache: Record<string, number>;
  evaluations: number;
  history: GenerationLog[];
  finished: boolean;
  /** Wall time so far, and the part spent in fitness evaluations. */
  seconds: number;
  fitnessSeconds: number;
}

/** Per-evaluation event. */
export interface EvaluationEvent {
  generation: number;
  /** Index in the generation and the generation's size. */
  index: number;
  size: number;
  fitness: number;
  /** True when the fitness came from the cache (no model call). */
  cached: boolean;
  /** 'screen': a multi-fidelity screening (fitness on a subset); 'full': the fitness. */
  fidelity: 'screen' | 'full';
  best: number;
  evaluations: number;
  /** Cost so far in full evaluations. */
  cost: number;
}

/**
 * What a data-parallel search needs of a process group (src/dist's ProcessGroup has it): every
 * rank runs the same loop; each evaluates its share of a generation's candidates and the results
 * are gathered, so every rank holds the same state and the search equals the one-process one.
 */
export interface SearchGroup {
  rank: number;
  worldSize: number;
  allGather(data: Float32Array): Promise<Float32Array[]>;
  /** Whether this process writes the run's files (default: rank 0; see src/search/grouped.ts). */
  writer?: boolean;
}

/** Options of {@link evolve}. */
export interface EvolveOptions {
  space: SearchSpace;
  fitness: Fitness;
  settings: EvolveSettings;
  /** Multi-fidelity screening (off by default: the paper's search). */
  screening?: ScreeningSettings;
  /** Extra starting points (e.g. a previous stage's factors), evaluated with the seeds. */
  initial?: Individual[];
  /** A saved state to continue from. */
  state?: SearchState;
  /** Called after every evaluation and generation with the state to save (atomically). */
  persist?: (state: SearchState) => void;
  onEvaluation?: (e: EvaluationEvent) => void;
  onGeneration?: (g: GenerationLog) => void;
  signal?: AbortSignal;
  /** Spread each generation's evaluations over the ranks of a group (data parallel). */
  group?: SearchGroup;
}

/** What {@link evolve} returns. */
export interface EvolveResult {
  best: Evaluated;
  bestSpec: RopeSpec;
  state: SearchState;
}

/** The PI, NTK and YaRN factor vectors at the target length, made valid for the space. */
export function seedIndividuals(space: SearchSpace): Individual[] {
  const { base, targetLength } = space.options;
  // Factors are relative to the base frequencies and the original window, whatever scaling the
  // model's own config carries (a fine-tuned model's secondary search starts from the same seeds).
  const plain = { headDim: base.headDim, base: base.base, originalLength: base.originalLength, length: targetLength };
  const s = Math.max(1, targetLength / base.originalLength);
  const methods: RopeSpec[] = [
    { ...plain, method: 'linear', factor: s },
    { ...plain, method: 'ntk', factor: s },
    { ...plain, method: 'yarn', factor: s },
  ];
  const seeds: Individual[] = [];
  for (const m of methods) {
    const lambda = Array.from(methodToLongropeFactors(m));
    let prev = space.minFactor;
    const factors = lambda.map((v) => (prev = Math.max(prev, Math.min(space.maxFactor, Math.max(space.minFactor, onGrid(v))))));
    const attention = space.attentionRange ? Math.min(space.attentionRange[1], Math.max(space.attentionRange[0], ropeAttentionFactor(m))) : null;
    seeds.push(space.complete({ nHat: 0, factors, attention }));
  }
  return seeds;
}

/** The fitness of a spec whose fitness is not finite (the largest float32). */
const WORST = 3.4028234663852886e38;

function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** The initial state: seeds (and `initial`), then mutations of them up to the population size. */
export function initialState(space: SearchSpace, settings: EvolveSettings, initial: Individual[] = []): SearchState {
  const rng = new Prng(settings.seed);
  const seen = new Set<string>();
  const pending: Individual[] = [];
  for (const ind of [...initial.map((i) => space.complete(i)), ...seedIndividuals(space)]) {
    const key = space.key(ind);
    if (space.valid(ind) && !seen.has(key) && pending.length < settings.population) {
      seen.add(key);
      pending.push(ind);
    }
  }
  if (pending.length === 0) throw new Error('No valid seed individual for this search space (check maxFactor against the target scale)');
  for (let i = 0; pending.length < settings.population && i < settings.population * 10; i++) {
    const child = mutate(space, pending[i % Math.min(pending.length, 3 + initial.length)], rng, settings.probability, seen);
    if (!child) continue;
    seen.add(space.key(child));
    pending.push(child);
  }
  return {
    version: 1, generation: 0, rng: rng.savedState, pending, done: [], parents: [], cache: {}, evaluations: 0, history: [],
    finished: false, seconds: 0, fitnessSeconds: 0,
  };
}

/**
 * Multi-fidelity screening (successive halving with two rungs): every candidate of a generation
 * is first scored on the fitness's first `samples` inputs; only the best `promote` share of
 * them (at least one) gets the full fitness, and only fully evaluated candidates can become
 * parents. The cost of a screening evaluation is samples / (the fitness's inputs) of a full one.
 */
export interface ScreeningSettings {
  samples: number;
  promote: number;
}

/** Runs (or continues) the search; see the module comment. */
export async function evolve(o: EvolveOptions): Promise<EvolveResult> {
  const { space, fitness, settings, screening } = o;
  const screen = screening ? screeningFitness(fitness, screening) : null;
  const state: SearchState = o.state ?? initialState(space, settings, o.initial);
  // States saved before costs were recorded: every evaluation was a full one.
  state.cost ??= state.evaluations;
  const started = Date.now() - state.seconds * 1000;
  const save = () => {
    state.seconds = (Date.now() - started) / 1000;
    o.persist?.(state);
  };
  const bestSoFar = () => Math.min(Infinity, ...Object.values(state.cache));
  const ranks = o.group?.worldSize ?? 1;
  const mine = o.group ? o.group.rank : 0;

  /**
   * Evaluates `list[done.length ..]` into `done`, `ranks` candidates at a time (one per rank),
   * through `cache` (a key evaluated once is never evaluated again).
   */
  const evaluateAll = async (list: Individual[], done: number[], f: Fitness, cache: Record<string, number>, fidelity: 'screen' | 'full') => {
    const cost = fidelity === 'full' ? 1 : f.callsPerEvaluation / fitness.callsPerEvaluation;
    while (done.length < list.length) {
      if (o.signal?.aborted) throw abortError();
      const first = done.length;
      const round = list.slice(first, first + ranks);
      const keys = round.map((ind) => space.key(ind));
      // Fitness values are float32 on the wire: compute, round and cache them as such on every
      // rank, so one process and N processes hold bit-identical states.
      let value = NaN;
      if (mine < round.length && cache[keys[mine]] === undefined) {
        const t0 = Date.now();
        value = Math.fround(await f.evaluate(space.spec(round[mine]), o.signal));
        state.fitnessSeconds += (Date.now() - t0) / 1000;
        // A spec whose fitness overflows is simply the worst.
        if (!Number.isFinite(value)) value = WORST;
      }
      const values = o.group ? (await o.group.allGather(Float32Array.of(value))).map((a) => a[0]) : [value];
      round.forEach((_, j) => {
        const cached = cache[keys[j]] !== undefined;
        if (!cached) {
          cache[keys[j]] = values[j];
          if (fidelity === 'full') state.evaluations++;
          else state.screenEvaluations = (state.screenEvaluations ?? 0) + 1;
          state.cost = (state.cost ?? 0) + cost;
        }
        done.push(cache[keys[j]]);
        save();
        o.onEvaluation?.({
          generation: state.generation, index: first + j, size: list.length, fitness: cache[keys[j]], cached, fidelity,
          best: bestSoFar(), evaluations: state.evaluations, cost: state.cost ?? state.evaluations,
        });
      });
    }
  };

  while (!state.finished) {
    let members: Individual[] = state.pending;
    if (screen && screening) {
      state.screenCache ??= {};
      state.screenDone ??= [];
      await evaluateAll(state.pending, state.screenDone, screen, state.screenCache, 'screen');
      if (!state.promoted) {
        state.promoted = promote(state.screenDone, screening.promote);
        save();
      }
      members = state.promoted.map((i) => state.pending[i]);
    }
    await evaluateAll(members, state.done, fitness, state.cache, 'full');
    // Rank parents + this generation's candidates; the best `parents` go on.
    const pool = new Map<string, Evaluated>();
    for (const e of [...state.parents, ...members.map((ind, i) => ({ ind, fitness: state.done[i] }))]) pool.set(space.key(e.ind), e);
    const ranked = [...pool.values()].sort((a, b) => a.fitness - b.fitness);
    const mean = ranked.reduce((s, e) => s + e.fitness, 0) / ranked.length;
    const log: GenerationLog = {
      generation: state.generation, best: ranked[0].fitness, mean, evaluations: state.evaluations,
      cost: state.cost ?? state.evaluations, screenEvaluations: state.screenEvaluations ?? 0, bestSpec: space.spec(ranked[0].ind), seconds: (Date.now() - started) / 1000,
    };
    state.history.push(log);
    o.onGeneration?.(log);
    const stalled = settings.patience > 0 && state.history.length > settings.patience &&
      state.history[state.history.length - 1 - settings.patience].best - log.best < settings.minImprovement;
    if (state.generation >= settings.iterations || stalled) {
      state.finished = true;
      state.parents = ranked.slice(0, settings.parents);
      state.pending = [];
      state.done = [];
      resetScreening(state);
      save();
      break;
    }
    // The next generation's children, drawn now and saved before any is evaluated.
    const parents = ranked.slice(0, settings.parents);
    const rng = new Prng(state.rng);
    const seen = new Set<string>([...Object.keys(state.cache), ...Object.keys(state.screenCache ?? {})]);
    const children: Individual[] = [];
    const add = (c: Individual | null) => {
      if (!c) return;
      seen.add(space.key(c));
      children.push(c);
    };
    for (let i = 0; i < settings.mutations; i++) add(mutate(space, rng.pick(parents).ind, rng, settings.probability, seen));
    for (let i = 0; i < settings.crossovers; i++) {
      const a = rng.pick(parents);
      const b = parents.length > 1 ? rng.pick(parents.filter((p) => p !== a)) : a;
      add(crossover(space, a.ind, b.ind, rng, settings.probability, seen));
    }
    state.generation++;
    state.rng = rng.savedState;
    state.parents = parents;
    state.pending = children;
    state.done = [];
    resetScreening(state);
    save();
  }
  const best = state.parents[0];
  return { best, bestSpec: space.spec(best.ind), state };
}

/** The screening fitness of {@link ScreeningSettings}, checked against the full one. */
function screeningFitness(fitness: Fitness, s: ScreeningSettings): Fitness {
  if (!fitness.subset) throw new Error(`The ${fitness.kind} fitness cannot be screened on a subset of its inputs`);
  if (!(s.promote > 0 && s.promote <= 1)) throw new RangeError(`Expected a promoted share in (0, 1] for screening but received ${s.promote}`);
  if (s.samples >= fitness.callsPerEvaluation) {
    throw new RangeError(`Expected fewer screening samples than the fitness's ${fitness.callsPerEvaluation} but received ${s.samples}`);
  }
  return fitness.subset(s.samples);
}

/** Indices (ascending) of the best `share` of the screened values, at least one. */
function promote(values: number[], share: number): number[] {
  const count = Math.max(1, Math.ceil(share * values.length));
  return values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, count).map(([, i]) => i).sort((a, b) => a - b);
}

function resetScreening(state: SearchState): void {
  if (state.screenDone) state.screenDone = [];
  delete state.promoted;
}
