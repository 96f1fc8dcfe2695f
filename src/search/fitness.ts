/**
 * The search's fitness: a number to minimise for a RopeSpec, computed on one loaded model with
 * inputs tokenized once. The paper's perplexity (truncate mode: one window of BOS + the first
 * N-1 tokens of each sample) is the default; LongRoPE2's needle-driven perplexity is the option.
 */
import { evaluateNeedle, type NeedleRow } from '../eval/needle';
import { evaluatePerplexity, sampleDocuments } from '../eval/perplexity';
import type { ScoringModel, SequenceParallelGroup } from '../eval/scoring-model';
import type { RopeSpec } from '../rope/types';

/** Which fitness the search minimises. */
export type FitnessKind = 'ppl' | 'needle';

/** A fitness bound to its model and inputs. */
export interface Fitness {
  kind: FitnessKind;
  /** Model calls per evaluation. */
  callsPerEvaluation: number;
  evaluate(spec: RopeSpec, signal?: AbortSignal): Promise<number>;
  /**
   * The same fitness on its first `count` inputs only: the cheap, noisier estimate a
   * multi-fidelity search screens candidates with. Absent where inputs cannot be subset.
   */
  subset?(count: number): Fitness;
}

/**
 * The paper's fitness: perplexity at `length` of `samples` documents (drawn with `seed` from
 * those long enough: at least length - 1 tokens beyond BOS), one truncated window each. With
 * `sequenceParallel` every window runs spread over that group (its ranks evaluate together).
 * @throws RangeError naming the longest document when fewer than `samples` are long enough.
 */
export function perplexityFitness(model: ScoringModel, documents: Int32Array[], opts: { length: number; samples: number; seed: number; sequenceParallel?: SequenceParallelGroup }): Fitness {
  const need = model.config.bosTokenId === null ? opts.length : opts.length - 1;
  const long = documents.filter((d) => d.length >= need);
  if (long.length < opts.samples) {
    const longest = documents.reduce((m, d) => Math.max(m, d.length), 0);
    throw new RangeError(`Expected ${opts.samples} documents of at least ${need} tokens for the target length ${opts.length} ` +
      `but received ${long.length} (the longest has ${longest} tokens)`);
  }
  const picked = sampleDocuments(long.length, opts.samples, opts.seed).map((i) => long[i].subarray(0, need));
  return windowPerplexity(model, picked, opts.length, opts.sequenceParallel);
}

function windowPerplexity(model: ScoringModel, picked: Int32Array[], length: number, sequenceParallel: SequenceParallelGroup | undefined): Fitness {
  return {
    kind: 'ppl',
    callsPerEvaluation: picked.length,
    async evaluate(spec, signal) {
      const [r] = await evaluatePerplexity(model, picked, { lengths: [length], truncate: true, rope: spec, signal, sequenceParallel });
      return r.ppl;
    },
    subset: (count) => windowPerplexity(model, picked.slice(0, checkSubset(count, picked.length)), length, sequenceParallel),
  };
}

function checkSubset(count: number, available: number): number {
  if (!Number.isInteger(count) || count < 1 || count > available) {
    throw new RangeError(`Expected a screening sample count from 1 to ${available} (the fitness's samples) but received ${count}`);
  }
  return count;
}

/**
 * LongRoPE2's needle-driven fitness over prepared rows (see src/eval/needle.ts); with
 * `sequenceParallel` every row runs spread over that group.
 */
export function needleFitness(model: ScoringModel, rows: NeedleRow[], opts: { sequenceParallel?: SequenceParallelGroup } = {}): Fitness {
  return {
    kind: 'needle',
    callsPerEvaluation: rows.length,
    async evaluate(spec, signal) {
      return (await evaluateNeedle(model, rows, { rope: spec, signal, sequenceParallel: opts.sequenceParallel })).ppl;
    },
    subset: (count) => needleFitness(model, rows.slice(0, checkSubset(count, rows.length)), opts),
  };
}
