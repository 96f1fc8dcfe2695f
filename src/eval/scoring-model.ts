/**
 * The narrow view of a model that evaluation needs. Evaluation code depends on this interface,
 * never on the concrete native `Model`, so tests can hand it fakes whose log-likelihoods are
 * known and the search (part 5) can hand it one loaded model called thousands of times.
 * `Model` from src/model satisfies it structurally.
 */
import type { NativeGroupRunner } from '../native';
import type { RopeChoice, RopeSpec } from '../rope/types';

export type { RopeChoice };

/** A process group a model call can run sequence-parallel over (src/dist's ProcessGroup). */
export type SequenceParallelGroup = NativeGroupRunner;

/** What perplexity, passkey and the benchmarks call on a model. */
export interface ScoringModel {
  config: { vocabSize: number; rope: RopeSpec; bosTokenId: number | null; eosTokenId: number | null };
  /**
   * Per-token NLL (natural log): entry t - scoreFrom is -log p(tokens[t] | tokens[<t]) for
   * t = scoreFrom .. n-1 (scoreFrom >= 1, default 1). `ropeLength` is the highest position + 1
   * that a RopeSpec's tables are built for (default positionOffset + n). `sequenceParallel`
   * spreads the sequence over a group's ranks (all calling together, all getting the result).
   */
  nll(
    tokens: ArrayLike<number>,
    options?: { rope?: RopeChoice; positionOffset?: number; ropeLength?: number; scoreFrom?: number; signal?: AbortSignal; sequenceParallel?: SequenceParallelGroup },
  ): Promise<Float32Array>;
  /** Greedy decoding; `tokens` are the new tokens only. */
  generate(
    prompt: ArrayLike<number>,
    options: { rope?: RopeChoice; maxNewTokens: number; stopTokens?: number[]; signal?: AbortSignal },
  ): Promise<{ tokens: number[] }>;
}

/** Units done of total (windows, trials, requests: each evaluator says which). */
export type EvalProgress = (done: number, total: number) => void;

/** Options every evaluator accepts. */
export interface EvalJobOptions {
  /** Cancels between and during model calls (the promise rejects with an AbortError). */
  signal?: AbortSignal;
  onProgress?: EvalProgress;
}

/** Throws an AbortError if `signal` has fired (checked between model calls). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const e = new Error('The operation was aborted');
    e.name = 'AbortError';
    throw e;
  }
}
