/**
 * Log-likelihood of a continuation given a context, as lm-evaluation-harness's HFLM computes it
 * (`_encode_pair` and `_loglikelihood_tokens` in lm_eval/models/huggingface.py), and the
 * multiple-choice metrics of lm_eval/api/task.py (`acc`, `acc_norm`) and
 * tasks/truthfulqa/utils.py (`process_results_mc2`).
 */
import type { RopeChoice } from '../../rope/types';
import type { ScoringModel } from '../scoring-model';

/** What scoring needs from a tokenizer. */
export interface McTokenizer {
  encode(text: string, opts?: { addBos?: boolean }): number[];
}

/** A scoring request: model input and where the continuation starts. */
export interface EncodedPair {
  tokens: number[];
  /** Index of the first continuation token (scoreFrom for model.nll). */
  scoreFrom: number;
}

/**
 * The harness's `_encode_pair`: trailing whitespace of the context moves to the continuation;
 * context tokens are encode(context), continuation tokens are encode(context + continuation)
 * after the context's length. The input is the last `maxLength + 1` tokens of both.
 */
export function encodePair(tokenizer: McTokenizer, context: string, continuation: string, opts: { addBos: boolean; maxLength: number }): EncodedPair {
  const trimmed = context.replace(/\s+$/u, '');
  if (trimmed.length < context.length) {
    continuation = context.slice(trimmed.length) + continuation;
    context = trimmed;
  }
  const whole = tokenizer.encode(context + continuation, { addBos: opts.addBos });
  const ctx = tokenizer.encode(context, { addBos: opts.addBos });
  const cont = whole.slice(ctx.length);
  if (cont.length === 0) throw new Error(`Expected a continuation of at least one token but received ${JSON.stringify(continuation)}`);
  let tokens = ctx.concat(cont);
  if (tokens.length > opts.maxLength + 1) tokens = tokens.slice(tokens.length - (opts.maxLength + 1));
  const scoreFrom = tokens.length - cont.length;
  if (scoreFrom < 1) {
    throw new RangeError(`Expected a continuation shorter than the maximum length ${opts.maxLength} but received ${cont.length} tokens`);
  }
  return { tokens, scoreFrom };
}

/**
 * Sum log-likelihood of the continuation: -sum(model.nll(tokens, {scoreFrom})). A RopeSpec's
 * tables are built for n - 1 positions (`ropeLength`), the length the harness feeds the model (it
 * drops the last token), so dynamic NTK and the longrope short/long switch see what HF would.
 */
export async function continuationLogLikelihood(
  model: ScoringModel,
  pair: EncodedPair,
  rope: RopeChoice | undefined,
  signal?: AbortSignal,
): Promise<number> {
  const nll = await model.nll(pair.tokens, { rope, ropeLength: pair.tokens.length - 1, scoreFrom: pair.scoreFrom, signal });
  let sum = 0;
  for (let i = 0; i < nll.length; i++) sum += nll[i];
  return -sum;
}

/** Index of the largest value; the first one on ties (np.argmax). */
export function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** acc and acc_norm of one document: argmax of ll, and of ll / len(choice) in characters. */
export function accScores(lls: number[], choices: string[], gold: number): { acc: number; accNorm: number } {
  // Python's len(str) counts code points.
  const norm = lls.map((ll, i) => ll / [...choices[i]].length);
  return { acc: argmax(lls) === gold ? 1 : 0, accNorm: argmax(norm) === gold ? 1 : 0 };
}

/**
 * TruthfulQA mc2: choices before the first label 0 are the true ones; the score is their share
 * of the total probability exp(ll) (computed relative to the largest ll, which changes nothing
 * but avoids underflow).
 */
export function mc2Score(lls: number[], labels: number[]): number {
  const split = labels.indexOf(0);
  if (split < 0) throw new RangeError('Expected at least one false answer (label 0) for labels but received none');
  const max = Math.max(...lls);
  const p = lls.map((ll) => Math.exp(ll - max));
  const total = p.reduce((a, b) => a + b, 0);
  return p.slice(0, split).reduce((a, b) => a + b, 0) / total;
}

/** Mean and its standard error (sample standard deviation / sqrt(n)), as the harness reports. */
export function meanStderr(values: number[]): { mean: number; stderr: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, stderr: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, stderr: NaN };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, stderr: Math.sqrt(variance / n) };
}
