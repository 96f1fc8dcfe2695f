/**
 * Perplexity by the paper's protocol (LongRoPE's evaluation/perplexity.py, itself from the YaRN
 * evaluation): a window of the evaluation length L slides over each document with a stride of
 * 256 tokens; each window scores only the tokens the previous window did not; perplexity is
 * exp of the mean over all windows (of all documents) of each window's mean NLL.
 *
 * Window bookkeeping (see docs/evaluation.md): documents are token ids without BOS. With a BOS
 * id, a window is [BOS, doc[b .. b+L-1)] (L tokens); without one it is doc[b .. b+L). Windows
 * start at b = 0, stride, 2*stride, ... and only windows that fit entirely in the document are
 * run (the reference skips the padded tail window). The first window scores all of its document
 * tokens (L-1 of them); each later window scores its last min(stride, L-1) tokens. `truncate`
 * runs the first window only. A document shorter than one window is skipped and counted.
 */
import type { RopeChoice, EvalJobOptions, ScoringModel, SequenceParallelGroup } from './scoring-model';
import { throwIfAborted } from './scoring-model';
import { PyRandom } from './py-random';

/** One window over one document. */
export interface PerplexityWindow {
  /** Index in the document of the window's first document token. */
  start: number;
  /** Document tokens in the window (L-1 with BOS, L without). */
  docTokens: number;
  /** Index in the window input (BOS included) of the first scored token. */
  scoreFrom: number;
  /** Tokens scored: input length - scoreFrom. */
  scored: number;
}

/** How the windows are laid out. */
export interface WindowOptions {
  /** Tokens between window starts (default 256). */
  stride?: number;
  /** One window per document: the first L-1 tokens plus BOS. */
  truncate?: boolean;
  /** Prepend BOS to each window (default true). */
  bos?: boolean;
}

function checkPositiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected a positive integer for ${field} but received ${String(value)}`);
  }
  return value;
}

/**
 * The windows the protocol runs over a document of `docLength` tokens at evaluation length
 * `length` (tokens per model call, BOS included). Empty when the document is too short.
 */
export function planWindows(docLength: number, length: number, options: WindowOptions = {}): PerplexityWindow[] {
  const stride = checkPositiveInteger(options.stride ?? 256, 'stride');
  const bos = options.bos ?? true;
  checkPositiveInteger(length, 'length');
  if (length < 2) throw new RangeError(`Expected a length of at least 2 for length but received ${length}`);
  const span = bos ? length - 1 : length;
  const windows: PerplexityWindow[] = [];
  for (let b = 0; b + span <= docLength; b += stride) {
    const first = windows.length === 0;
    const scored = first ? length - 1 : Math.min(stride, length - 1);
    windows.push({ start: b, docTokens: span, scoreFrom: length - scored, scored });
    if (options.truncate) break;
  }
  return windows;
}

/** Perplexity at one evaluation length. */
export interface PerplexityResult {
  length: number;
  /** exp(mean over windows of the window mean NLL); NaN when no window ran. */
  ppl: number;
  /** Mean over windows of the window mean NLL (natural log). */
  meanNll: number;
  /** Tokens scored over all windows. */
  tokens: number;
  windows: number;
  /** Documents evaluated (at least one window). */
  documents: number;
  /** Documents shorter than one window at this length. */
  skipped: number;
}

/** Options of {@link evaluatePerplexity}. */
export interface PerplexityOptions extends EvalJobOptions, WindowOptions {
  /** Evaluation lengths L (tokens per window, BOS included). */
  lengths: number[];
  /** RoPE for every call (default the model's); a function picks one per length. */
  rope?: RopeChoice | ((length: number) => RopeChoice | undefined);
  /** BOS id prepended to each window; default model.config.bosTokenId (null: no BOS). */
  bosTokenId?: number | null;
  /** Evaluate N documents drawn with `seed` (Python's random.Random(seed).sample, in drawn order). */
  samples?: number;
  seed?: number;
  /**
   * Run every window sequence-parallel over this process group (src/dist's ProcessGroup; every
   * rank calls with the same documents and options and gets the same results).
   */
  sequenceParallel?: SequenceParallelGroup;
}

/**
 * Picks `samples` of `count` document indices deterministically (Python's
 * `random.Random(seed).sample(range(count), samples)`); all of them in order when `samples` is
 * undefined or >= count.
 */
export function sampleDocuments(count: number, samples?: number, seed = 0): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (samples === undefined || samples >= count) return all;
  checkPositiveInteger(samples, 'samples');
  return new PyRandom(seed).sample(all, samples);
}

/**
 * Perplexity of `model` on tokenized documents (ids without BOS) at each of `options.lengths`.
 * Model calls run one window at a time; progress counts windows over all lengths.
 */
export async function evaluatePerplexity(
  model: ScoringModel,
  documents: ArrayLike<number>[],
  options: PerplexityOptions,
): Promise<PerplexityResult[]> {
  if (!Array.isArray(options.lengths) || options.lengths.length === 0) {
    throw new RangeError('Expected at least one evaluation length for lengths but received none');
  }
  options.lengths.forEach((l, i) => checkPositiveInteger(l, `lengths[${i}]`));
  const bosId = options.bosTokenId === undefined ? model.config.bosTokenId : options.bosTokenId;
  const bos = bosId !== null;
  const picked = sampleDocuments(documents.length, options.samples, options.seed ?? 0).map((i) => documents[i]);
  const windowOpts: WindowOptions = { stride: options.stride, truncate: options.truncate, bos };
  const plans = options.lengths.map((length) => picked.map((doc) => planWindows(doc.length, length, windowOpts)));
  const total = plans.reduce((n, perDoc) => n + perDoc.reduce((m, w) => m + w.length, 0), 0);
  let done = 0;
  options.onProgress?.(0, total);

  const results: PerplexityResult[] = [];
  for (let li = 0; li < options.lengths.length; li++) {
    const length = options.lengths[li];
    const rope = typeof options.rope === 'function' ? options.rope(length) : options.rope;
    const input = new Int32Array(length);
    if (bosId !== null) input[0] = bosId;
    const offset = bos ? 1 : 0;
    let sumOfMeans = 0;
    let windows = 0;
    let tokens = 0;
    let documentsRun = 0;
    let skipped = 0;
    for (let d = 0; d < picked.length; d++) {
      const doc = picked[d];
      const plan = plans[li][d];
      if (plan.length === 0) {
        skipped++;
        continue;
      }
      documentsRun++;
      for (const w of plan) {
        throwIfAborted(options.signal);
        for (let i = 0; i < w.docTokens; i++) input[offset + i] = doc[w.start + i];
        const nll = await model.nll(input, { rope, scoreFrom: w.scoreFrom, signal: options.signal, sequenceParallel: options.sequenceParallel });
        if (nll.length !== w.scored) {
          throw new Error(`Expected ${w.scored} NLL values from the model but received ${nll.length}`);
        }
        let sum = 0;
        for (let i = 0; i < nll.length; i++) sum += nll[i];
        if (!Number.isFinite(sum)) {
          throw new Error(`The model gave a non-finite NLL (${sum}) at length ${length} in the window starting at token ${w.start} ` +
            `of document ${d} (of the evaluated ones): its weights or inputs hold NaN or infinite values`);
        }
        sumOfMeans += sum / nll.length;
        tokens += nll.length;
        windows++;
        options.onProgress?.(++done, total);
      }
    }
    const meanNll = windows > 0 ? sumOfMeans / windows : NaN;
    results.push({ length, ppl: Math.exp(meanNll), meanNll, tokens, windows, documents: documentsRun, skipped });
  }
  return results;
}
