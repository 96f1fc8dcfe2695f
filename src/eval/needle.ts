/**
 * Needle-driven perplexity (LongRoPE2, Shang et al. 2025): a 7-digit number is planted at several
 * depths of real documents of exactly the target length and asked for at the end; the score is
 * the NLL of the answer's tokens only, so it measures retrieval across the whole window rather
 * than local fluency. Fitness = exp(mean over rows of each row's mean answer NLL).
 *
 * Each row: [BOS] intro, the document's front, the needle line, the rest of the document, the
 * question, the answer. The document is cut so the row has exactly `length` tokens; pieces are
 * tokenized apart and joined (a tokenizer may merge across a seam differently, which does not
 * matter for a score compared across RoPE specs). Unlike the released code (see the spec's
 * pitfalls) the answer is never truncated away, BOS is added once, rows come from several
 * documents and the numbers are seeded.
 */
import { PyRandom } from './py-random';
import type { EvalJobOptions, RopeChoice, ScoringModel, SequenceParallelGroup } from './scoring-model';
import { throwIfAborted } from './scoring-model';

/** What the needle rows need from a tokenizer. */
export interface NeedleTokenizer {
  encode(text: string, opts?: { addBos?: boolean }): number[];
}

const INTRO = 'A special magic number is hidden within the following text. Make sure to memorize it. I will quiz you about the number afterwards.\n';
const needleLine = (n: number) => `\nOne of the special magic numbers for wandering-age is: ${n}.\n`;
const QUESTION = '\nThe special magic number for wandering-age mentioned in the provided text is:';
const answer = (n: number) => ` ${n}`;

/** One prepared row: model input and where the answer starts. */
export interface NeedleRow {
  tokens: Int32Array;
  /** Index of the first answer token (scoreFrom for model.nll). */
  answerFrom: number;
  depth: number;
  value: number;
}

/** Options of {@link buildNeedleRows}. */
export interface NeedleOptions {
  /** Tokens per row, BOS included. */
  length: number;
  /** Depths per document, spread evenly over [0, 1] (default 5). */
  depths?: number;
  /** Seeds the 7-digit numbers (Python's random.Random(seed).randint). */
  seed?: number;
  bosTokenId: number | null;
}

/**
 * Rows for every document (token ids without BOS, each long enough to fill a row) at each depth.
 * @throws RangeError when a document is too short or the fixed text does not fit in `length`.
 */
export function buildNeedleRows(tokenizer: NeedleTokenizer, documents: ArrayLike<number>[], options: NeedleOptions): NeedleRow[] {
  const depths = options.depths ?? 5;
  if (!Number.isInteger(depths) || depths < 1) throw new RangeError(`Expected a positive integer for depths but received ${depths}`);
  const rng = new PyRandom(options.seed ?? 0);
  const enc = (s: string) => tokenizer.encode(s, { addBos: false });
  const intro = enc(INTRO);
  const question = enc(QUESTION);
  const bos = options.bosTokenId === null ? [] : [options.bosTokenId];
  const rows: NeedleRow[] = [];
  documents.forEach((doc, d) => {
    for (let k = 0; k < depths; k++) {
      const value = rng.randint(1_000_000, 9_999_999);
      const needle = enc(needleLine(value));
      const ans = enc(answer(value));
      const fixed = bos.length + intro.length + needle.length + question.length + ans.length;
      const body = options.length - fixed;
      if (body < 1) throw new RangeError(`Expected a length above the needle row's ${fixed} fixed tokens for length but received ${options.length}`);
      if (doc.length < body) throw new RangeError(`Expected documents of at least ${body} tokens for the needle rows but received one of ${doc.length} (document ${d})`);
      const depth = depths === 1 ? 0.5 : k / (depths - 1);
      const at = Math.round(depth * body);
      const tokens = Int32Array.from([...bos, ...intro, ...Array.from(doc).slice(0, at), ...needle, ...Array.from(doc).slice(at, body), ...question, ...ans]);
      rows.push({ tokens, answerFrom: tokens.length - ans.length, depth, value });
    }
  });
  return rows;
}

/** Result of {@link evaluateNeedle}. */
export interface NeedleResult {
  /** exp(mean over rows of the row's mean answer NLL). */
  ppl: number;
  meanNll: number;
  rows: number;
}

/**
 * Needle-driven perplexity of `model` with `rope` over prepared rows; with `sequenceParallel`
 * every row runs spread over that process group (every rank calls with the same rows).
 */
export async function evaluateNeedle(model: ScoringModel, rows: NeedleRow[], options: EvalJobOptions & { rope?: RopeChoice; sequenceParallel?: SequenceParallelGroup } = {}): Promise<NeedleResult> {
  let sum = 0;
  for (let i = 0; i < rows.length; i++) {
    throwIfAborted(options.signal);
    const row = rows[i];
    const nll = await model.nll(row.tokens, { rope: options.rope, scoreFrom: row.answerFrom, signal: options.signal, sequenceParallel: options.sequenceParallel });
    let s = 0;
    for (let j = 0; j < nll.length; j++) s += nll[j];
    if (!Number.isFinite(s)) throw new Error(`The model gave a non-finite answer NLL in needle row ${i}: its weights or inputs hold NaN or infinite values`);
    sum += s / nll.length;
    options.onProgress?.(i + 1, rows.length);
  }
  const meanNll = sum / rows.length;
  return { ppl: Math.exp(meanNll), meanNll, rows: rows.length };
}
