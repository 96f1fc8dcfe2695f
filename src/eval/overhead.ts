/**
 * How much the perplexity evaluator adds on top of the model's own forward passes. The factor
 * search calls the evaluator thousands of times, so its per-window bookkeeping must stay small
 * (the target is under 5% of the time spent in `model.nll`). The benchmark script calls this.
 */
import { evaluatePerplexity, planWindows } from './perplexity';
import type { RopeChoice, ScoringModel } from './scoring-model';

/** Options of {@link measureEvalOverhead}. */
export interface OverheadOptions {
  /** Evaluation length L. */
  length: number;
  /** Window stride (default 256). */
  stride?: number;
  rope?: RopeChoice;
  /** Timed runs of each path; the fastest of each is kept (default 3). */
  repeats?: number;
}

/** Timing of the evaluator against direct model calls on identical windows. */
export interface OverheadResult {
  /** Fastest evaluator run over all windows, ms. */
  evalMs: number;
  /** Fastest run of the same `model.nll` calls made directly, ms. */
  directMs: number;
  /** (evalMs - directMs) / directMs. */
  overheadFraction: number;
  windows: number;
}

/**
 * Times `evaluatePerplexity` on one document against the same `model.nll(window, {scoreFrom})`
 * calls made directly (inputs built before the clock starts), after one warm-up window.
 */
export async function measureEvalOverhead(model: ScoringModel, tokens: ArrayLike<number>, opts: OverheadOptions): Promise<OverheadResult> {
  const bosId = model.config.bosTokenId;
  const bos = bosId !== null;
  const plan = planWindows(tokens.length, opts.length, { stride: opts.stride, bos });
  if (plan.length === 0) throw new RangeError(`Expected a document of at least ${bos ? opts.length - 1 : opts.length} tokens for tokens but received ${tokens.length}`);
  const inputs = plan.map((w) => {
    const input = new Int32Array(opts.length);
    const offset = bos ? 1 : 0;
    if (bosId !== null) input[0] = bosId;
    for (let i = 0; i < w.docTokens; i++) input[offset + i] = tokens[w.start + i];
    return input;
  });
  await model.nll(inputs[0], { rope: opts.rope, scoreFrom: plan[0].scoreFrom });
  const repeats = opts.repeats ?? 3;
  let evalMs = Infinity;
  let directMs = Infinity;
  for (let r = 0; r < repeats; r++) {
    let t0 = performance.now();
    for (let i = 0; i < plan.length; i++) await model.nll(inputs[i], { rope: opts.rope, scoreFrom: plan[i].scoreFrom });
    directMs = Math.min(directMs, performance.now() - t0);
    t0 = performance.now();
    await evaluatePerplexity(model, [tokens], { lengths: [opts.length], stride: opts.stride, rope: opts.rope });
    evalMs = Math.min(evalMs, performance.now() - t0);
  }
  return { evalMs, directMs, overheadFraction: (evalMs - directMs) / directMs, windows: plan.length };
}
