/**
 * LongRoPE's factor search: the evolutionary search of the paper on one loaded model (its
 * fitness through src/eval), with LongRoPE2's options (needle fitness, critical dimension,
 * attention factor as a gene), persisted after every evaluation and resumable.
 */
export { N_HAT_CHOICES, GRID, SearchSpace, theoreticalCriticalDim, onGrid } from './space';
export type { Individual, SpaceOptions } from './space';
export { mutate, crossover } from './operators';
export { evolve, initialState, paperSettings, seedIndividuals } from './evolve';
export type { EvaluationEvent, Evaluated, EvolveOptions, EvolveResult, EvolveSettings, GenerationLog, ScreeningSettings, SearchGroup, SearchState } from './evolve';
export { perplexityFitness, needleFitness } from './fitness';
export type { Fitness, FitnessKind } from './fitness';
export { runSearch } from './run';
export { groupedSearchGroup } from './grouped';
export type { WorldGroup } from './grouped';
export { extend, extensionSearch } from './extend';
export type { ExtendOptions, ExtendResult, ExtendStage, SearchStage } from './extend';
export type { SearchResult, SearchRunOptions } from './run';
