/**
 * What `npm run reproduce` evaluates: the methods being compared (RoPE specs on the base or the
 * fine-tuned model) and the held-out measurements, one cell (method x length) at a time.
 *
 * Held-out perplexity here is not the paper's stride-256 sliding window (at 16k-32k tokens on a
 * 2-core CPU it would take days): each length scores non-overlapping windows of BOS + length-1
 * tokens, up to `perDocument` per held-out document and `max` in all, taken round-robin over the
 * documents (first window of each, then the second, ...), so long books do not crowd out the rest.
 */
import { evaluatePasskey, evaluatePerplexity } from '../../src/eval';
import type { ScoringModel } from '../../src/eval/scoring-model';
import type { ByteTokenizer } from '../../src/data/tokenizer';
import { methodToLongropeFactors } from '../../src/rope/longrope-factors';
import type { RopeSpec } from '../../src/rope/types';

/** A compared method: a stable id (cache keys), a label (tables), the model it runs on, its RoPE. */
export interface Method {
  id: string;
  label: string;
  model: 'base' | 'tuned';
  spec: RopeSpec;
}

/** Held-out perplexity at one length. */
export interface PplCell {
  ppl: number;
  windows: number;
  tokens: number;
  documents: number;
}

/** Passkey accuracy at one length, with every trial. */
export interface PasskeyCell {
  accuracy: number;
  trials: number;
  details: { key: number; depth: number; answer: string; correct: boolean }[];
}

/** Documents long enough for one window of `length` (BOS + length-1 tokens). */
export function longEnough(docs: Int32Array[], length: number): number {
  return docs.filter((d) => d.length >= length - 1).length;
}

/** The held-out windows at `length` (see the module comment): token arrays of length-1, no BOS. */
export function evaluationWindows(docs: Int32Array[], length: number, perDocument: number, max: number): Int32Array[] {
  const span = length - 1;
  const perDoc = docs.map((d) => Math.min(perDocument, Math.floor(d.length / span)));
  const out: Int32Array[] = [];
  for (let round = 0; out.length < max && round < perDocument; round++) {
    for (let i = 0; i < docs.length && out.length < max; i++) {
      if (round < perDoc[i]) out.push(docs[i].subarray(round * span, (round + 1) * span));
    }
  }
  return out;
}

/** Perplexity of `model` with `spec` over `windows` at `length`. */
export async function pplCell(model: ScoringModel, windows: Int32Array[], length: number, spec: RopeSpec): Promise<PplCell> {
  const [r] = await evaluatePerplexity(model, windows, { lengths: [length], truncate: true, rope: spec });
  return { ppl: r.ppl, windows: r.windows, tokens: r.tokens, documents: r.documents };
}

/** Passkey retrieval of `model` with `spec` at `length` (the paper's prompt; seeded keys and depths). */
export async function passkeyCell(model: ScoringModel, tok: ByteTokenizer, length: number, spec: RopeSpec, trials: number, seed: number): Promise<PasskeyCell> {
  const [r] = await evaluatePasskey(model, tok, { lengths: [length], trials, seed, rope: spec });
  return { accuracy: r.accuracy, trials: r.trials, details: r.details.map((d) => ({ key: d.key, depth: d.depth, answer: d.answer, correct: d.correct })) };
}

/** PI, NTK and YaRN at `length` for a model whose RoPE is `base`. */
export function baselineSpecs(base: RopeSpec, length: number): { id: string; name: string; spec: RopeSpec }[] {
  const plain = { headDim: base.headDim, base: base.base, originalLength: base.originalLength, length };
  const s = length / base.originalLength;
  return [
    { id: 'pi', name: 'PI', spec: { ...plain, method: 'linear', factor: s } },
    { id: 'ntk', name: 'NTK', spec: { ...plain, method: 'ntk', factor: s } },
    { id: 'yarn', name: 'YaRN', spec: { ...plain, method: 'yarn', factor: s } },
  ];
}

/**
 * Secondary extension by a baseline instead of a search (the paper's Table 6 compares PI and YaRN
 * so applied): the fine-tuned factors `tuned` (for `tuned.length`) rescaled for `target`, either
 * uniformly by r = target / tuned.length (PI) or by YaRN's ramp for a window of tuned.length
 * (YaRN: high frequencies kept, low ones divided by r). nHat is kept; the attention factor is
 * LongRoPE's default for the new scale.
 */
export function secondaryBaselineSpecs(tuned: RopeSpec, target: number): { id: string; name: string; spec: RopeSpec }[] {
  const long = tuned.longFactors;
  if (tuned.method !== 'longrope' || !long) throw new Error(`Expected a longrope spec with long factors for the fine-tuned RoPE but received method ${tuned.method}`);
  const r = target / tuned.length;
  const yarn = methodToLongropeFactors({ method: 'yarn', headDim: tuned.headDim, base: tuned.base, originalLength: tuned.length, length: target, factor: r });
  const spec = (factors: number[]): RopeSpec => ({
    method: 'longrope', headDim: tuned.headDim, base: tuned.base, originalLength: tuned.originalLength, length: target, longFactors: factors, nHat: tuned.nHat ?? 0,
  });
  return [
    { id: 'pi', name: 'PI', spec: spec(long.map((f) => f * r)) },
    { id: 'yarn', name: 'YaRN', spec: spec(long.map((f, i) => f * yarn[i])) },
  ];
}

/** A longrope spec whose long factors also serve at the original window (Table 10's "long factors at L"). */
export function longFactorsEverywhere(spec: RopeSpec): RopeSpec {
  return { ...spec, shortFactors: spec.longFactors };
}

/** `x` as a ratio of the original window: `8x`. */
export function ratioLabel(length: number, original: number): string {
  return `${Number((length / original).toFixed(2))}x`;
}
