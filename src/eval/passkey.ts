/**
 * Passkey retrieval (Mohtashami & Jaggi; LongRoPE's evaluation/passkey.py): a 5-digit key hidden
 * at a uniformly drawn depth of repetitive filler; the model must repeat it. The prompt is built
 * for any tokenizer to have exactly the requested number of tokens (BOS included when the
 * tokenizer adds one) by sizing the filler to the character and checking by encoding.
 */
import { PASSKEY_FILLER, PASSKEY_INTRO, PASSKEY_QUESTION, passkeyFiller, passkeyText } from '../data/passkey-text';
import type { Tokenizer } from '../data/tokenizer';
import { PyRandom } from './py-random';
import type { EvalJobOptions, RopeChoice, ScoringModel } from './scoring-model';
import { throwIfAborted } from './scoring-model';

export { PASSKEY_FILLER, PASSKEY_INTRO, PASSKEY_QUESTION, passkeyText };

/** The first `chars` characters of the endless filler "F F F ..." (as the reference slices it). */
export const fillerText = passkeyFiller;

/** What a passkey prompt needs from a tokenizer; ids >= vocabSize (a model vocabulary padded
 *  beyond the tokenizer's) are dropped before decoding. */
export type PasskeyTokenizer = Pick<Tokenizer, 'encode' | 'decode'> & { vocabSize?: number };

/** A built prompt. */
export interface PasskeyPrompt {
  text: string;
  /** Its tokens (length = the requested length). */
  tokens: number[];
  key: number;
  /** Filler characters before the key / in total; depth = prefixChars / fillerChars. */
  prefixChars: number;
  fillerChars: number;
  depth: number;
}

/**
 * A passkey prompt of exactly `length` tokens with the key at relative `depth` (0: right after
 * the intro, 1: right before the question) of the filler.
 * @throws RangeError when `length` is below the prompt without filler; Error when the tokenizer
 * cannot hit `length` exactly (the message names the nearest counts).
 */
export function buildPasskeyPrompt(tokenizer: PasskeyTokenizer, length: number, opts: { key: number; depth: number }): PasskeyPrompt {
  const { key, depth } = opts;
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`Expected a positive integer for length but received ${length}`);
  if (!(depth >= 0 && depth <= 1)) throw new RangeError(`Expected a number in [0, 1] for depth but received ${depth}`);
  const counts = new Map<string, number>();
  let last: { p: number; s: number; tokens: number[] } | undefined;
  const count = (p: number, s: number): number => {
    const k = `${p},${s}`;
    let c = counts.get(k);
    if (c === undefined) {
      last = { p, s, tokens: tokenizer.encode(passkeyText(key, p, s)) };
      c = last.tokens.length;
      counts.set(k, c);
    }
    return c;
  };
  const split = (n: number): [number, number] => {
    const p = Math.round(depth * n);
    return [p, n - p];
  };
  const countN = (n: number) => count(...split(n));
  const done = (p: number, s: number): PasskeyPrompt => {
    const text = passkeyText(key, p, s);
    const tokens = last && last.p === p && last.s === s ? last.tokens : tokenizer.encode(text);
    return { text, tokens, key, prefixChars: p, fillerChars: p + s, depth: p + s === 0 ? 0 : p / (p + s) };
  };

  const min = countN(0);
  if (length < min) {
    throw new RangeError(`Expected a passkey length of at least ${min} tokens (the prompt without filler) but received ${length}`);
  }
  if (length === min) return done(0, 0);
  // Characters per filler token, to aim the search.
  const probe = 4 * PASSKEY_FILLER.length;
  let ratio = probe / Math.max(1, tokenizer.encode(fillerText(probe), { addBos: false }).length);
  let lo = 0; // count(lo) < length
  let hi = Infinity; // count(hi) > length
  let n = Math.max(1, Math.round((length - min) * ratio));
  for (let iter = 0; iter < 64 && hi - lo > 1; iter++) {
    const c = countN(n);
    if (c === length) return done(...split(n));
    if (c < length) lo = Math.max(lo, n);
    else hi = Math.min(hi, n);
    // Re-aim with the whole prompt's own characters per filler token (secant through n = 0).
    if (c > min) ratio = n / (c - min);
    if (hi - lo <= 1) break;
    const guess = n + Math.round((length - c) * ratio);
    n = Number.isFinite(hi) ? Math.min(hi - 1, Math.max(lo + 1, guess)) : Math.max(lo + 1, guess);
    if (counts.has(split(n).join(','))) n = Number.isFinite(hi) ? Math.floor((lo + hi) / 2) : lo * 2 + 1;
  }
  // No total hits exactly with the rounded split: try nearby totals and prefixes.
  const top = Number.isFinite(hi) ? hi : lo + 1;
  for (let m = Math.max(0, lo - 4); m <= top + 4; m++) {
    const p0 = Math.round(depth * m);
    for (let dp = 0; dp <= 3; dp++) {
      for (const p of dp === 0 ? [p0] : [p0 - dp, p0 + dp]) {
        if (p >= 0 && p <= m && count(p, m - p) === length) return done(p, m - p);
      }
    }
  }
  throw new Error(
    `Cannot build a passkey prompt of exactly ${length} tokens with this tokenizer ` +
      `(the nearest have ${countN(lo)} and ${Number.isFinite(hi) ? countN(hi) : 'more'} tokens)`,
  );
}

/** The first integer in `text`, or null. */
export function firstInteger(text: string): number | null {
  const m = /\d+/.exec(text);
  return m ? Number(m[0]) : null;
}

/** One trial. */
export interface PasskeyTrial {
  key: number;
  /** Realised depth of the key in the filler, in [0, 1]. */
  depth: number;
  /** The decoded continuation. */
  answer: string;
  correct: boolean;
}

/** Accuracy at one length. */
export interface PasskeyResult {
  length: number;
  accuracy: number;
  trials: number;
  details: PasskeyTrial[];
}

/** Options of {@link evaluatePasskey}. */
export interface PasskeyOptions extends EvalJobOptions {
  lengths: number[];
  /** Trials per length (default 10). */
  trials?: number;
  /** Each length draws its depths and keys from Python's random.Random(seed) (default 0), so
   *  every length sees the same depths and keys. */
  seed?: number;
  rope?: RopeChoice | ((length: number) => RopeChoice | undefined);
  /** Greedy tokens to decode (default 8: five digits, a leading space and some slack). */
  maxNewTokens?: number;
  /** Default: the model's EOS. */
  stopTokens?: number[];
}

/**
 * Passkey accuracy at each length: per trial a depth `random()` and a key `randint(10000,
 * 99999)`, a prompt of exactly `length` tokens, greedy decoding, correct when the first
 * integer of the continuation equals the key. Progress counts trials.
 */
export async function evaluatePasskey(model: ScoringModel, tokenizer: PasskeyTokenizer, options: PasskeyOptions): Promise<PasskeyResult[]> {
  const trials = options.trials ?? 10;
  if (!Number.isInteger(trials) || trials < 1) throw new RangeError(`Expected a positive integer for trials but received ${trials}`);
  const total = options.lengths.length * trials;
  let done = 0;
  options.onProgress?.(0, total);
  const results: PasskeyResult[] = [];
  for (const length of options.lengths) {
    const rng = new PyRandom(options.seed ?? 0);
    const rope = typeof options.rope === 'function' ? options.rope(length) : options.rope;
    const details: PasskeyTrial[] = [];
    for (let t = 0; t < trials; t++) {
      throwIfAborted(options.signal);
      const depth = rng.random();
      const key = rng.randint(10000, 99999);
      const prompt = buildPasskeyPrompt(tokenizer, length, { key, depth });
      const out = await model.generate(prompt.tokens, {
        rope,
        maxNewTokens: options.maxNewTokens ?? 8,
        stopTokens: options.stopTokens,
        signal: options.signal,
      });
      const vocab = tokenizer.vocabSize ?? Infinity;
      const answer = tokenizer.decode(out.tokens.filter((id) => id < vocab));
      details.push({ key, depth: prompt.depth, answer, correct: firstInteger(answer) === key });
      options.onProgress?.(++done, total);
    }
    results.push({ length, accuracy: details.filter((d) => d.correct).length / trials, trials, details });
  }
  return results;
}
