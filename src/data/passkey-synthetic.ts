/**
 * Synthetic passkey-retrieval sequences for pretraining the tiny base model, so it learns to
 * fetch a number from anywhere in its context (what the passkey evaluation later measures at
 * extended lengths). The canonical prompt is the evaluation's (LongLoRA / LongRoPE passkey test):
 *
 *   intro \n filler-prefix \n "The pass key is K. Remember it. K is the pass key." \n filler-suffix \n
 *   "What is the pass key? The pass key is K"
 *
 * where each filler part is the first N characters of the endless "F F F ..." (the filler sentence
 * repeated, joined by spaces, cut at any character), as our evaluation (src/eval/passkey.ts) builds it.
 * Half the sequences are canonical (that key line, question and filler; the intro where it fits:
 * with byte tokens the intro and lines alone take 253 tokens); the rest vary the phrasing (some
 * drop the intro) and half of those take their filler from natural training text, so the model
 * learns retrieval, not one format. The prompt length is uniform in [minPromptLength, length-2]
 * ([minPromptLength, length-1] with `closeWithEos: false`)
 * and the key's depth in the filler uniform in [0, 1].
 *
 * Every sequence fills one segment exactly: `[BOS, prompt, EOS, tail..., EOS]`, the tail being
 * more filler text after an EOS, exactly as packed documents sit after one another. There is no
 * padding token in the byte vocabulary; the tail is what makes any prompt length fit.
 * Sequence i is a pure function of (seed, i): random access, and a resumed run regenerates it.
 */
import type { Tokenizer } from './tokenizer';
import { encodeText, specialIds } from './chunking';
import { PASSKEY_INTRO, PASSKEY_QUESTION, passkeyFiller, passkeyKeyLine } from './passkey-text';
import { hash32, Prng } from '../common/prng';
import { checkInteger, dataError, describeValue } from './types';

/** A prompt shape: optional intro, the line that hides the key, the closing question + answer. */
export interface PasskeyTemplate {
  intro: string | null;
  key: (k: string) => string;
  question: (k: string) => string;
}

/** Template 0 is the evaluation's; the others teach the task rather than the wording. */
export const PASSKEY_TEMPLATES: readonly PasskeyTemplate[] = Object.freeze([
  { intro: PASSKEY_INTRO, key: passkeyKeyLine, question: (k) => `${PASSKEY_QUESTION} ${k}` },
  { intro: null, key: passkeyKeyLine, question: (k) => `${PASSKEY_QUESTION} ${k}` },
  { intro: 'Remember the number hidden in this text.', key: (k) => `The passkey is ${k}. Keep it in mind.`, question: (k) => `What is the passkey? The passkey is ${k}` },
  { intro: null, key: (k) => `The secret number is ${k}.`, question: (k) => `What is the secret number? The secret number is ${k}` },
  { intro: 'Find the key below.', key: (k) => `Key: ${k}. Remember ${k}.`, question: (k) => `Which key was given? The key was ${k}` },
]);

/** A prompt with its answer: `prefixChars` / `suffixChars` of filler around the key line (template 0: the evaluation's). */
export function passkeyPrompt(key: string | number, prefixChars: number, suffixChars: number, template = PASSKEY_TEMPLATES[0]): string {
  return layout(template, String(key), passkeyFiller(prefixChars), passkeyFiller(suffixChars));
}

/** The prompt's lines joined by newlines; a template without intro has no intro line. */
function layout(t: PasskeyTemplate, k: string, prefix: string, suffix: string): string {
  const lines = [prefix, t.key(k), suffix, t.question(k)];
  return (t.intro === null ? lines : [t.intro, ...lines]).join('\n');
}

/** What the synthetic generator needs. */
export interface PasskeyOptions {
  /** Segment length (BOS and EOS included), the model's training context. */
  length: number;
  seed?: number;
  /** Shortest prompt in tokens; default 100 (clamped to what fits). */
  minPromptLength?: number;
  /** Natural text (e.g. the training split joined) for varied filler; without it all filler is canonical. */
  fillerText?: string;
  /** Share of canonical sequences (template 0, canonical filler) where it fits; default 0.5. */
  canonicalShare?: number;
  /** End with EOS, like packed segments (default); false: the prompt may run to the last position
   *  and the tail is cut there, like segments packed without a closing EOS. */
  closeWithEos?: boolean;
}

/** One generated sequence and what it holds (for tests and for inspecting the mix). */
export interface PasskeySample {
  tokens: Int32Array;
  key: string;
  /** Index into {@link PASSKEY_TEMPLATES}. */
  template: number;
  /** The evaluation's wording and filler (template 0, or 1 where the intro does not fit). */
  canonical: boolean;
  /** Filler from the natural text rather than the evaluation's filler sentence. */
  natural: boolean;
  /** Prompt tokens (after BOS, before the first EOS). */
  promptLength: number;
}

/** Generates passkey segments by index; see the module comment for the layout. */
export class PasskeySynthesizer {
  readonly length: number;
  /** Tokens between BOS and the closing EOS (or the end). */
  private readonly body: number;
  private readonly seed: number;
  private readonly minPrompt: number;
  private readonly fixed: number[];
  private readonly ids: { bosId: number; eosId: number };

  constructor(private readonly tokenizer: Tokenizer, private readonly opts: PasskeyOptions) {
    this.length = checkInteger(opts.length, 3, 'length');
    this.body = opts.closeWithEos === false ? this.length - 1 : this.length - 2;
    this.seed = opts.seed === undefined ? 0 : checkInteger(opts.seed, 0, 'seed');
    this.ids = specialIds(tokenizer);
    const share = opts.canonicalShare ?? 0.5;
    if (typeof share !== 'number' || !(share >= 0 && share <= 1)) throw dataError(undefined, 'canonicalShare', 'a number in [0, 1]', describeValue(share));
    // Prompt tokens with no filler, measured with the widest key so any key fits.
    this.fixed = PASSKEY_TEMPLATES.map((t) => encodeText(tokenizer, passkeyPrompt(99999, 0, 0, t)).length);
    const smallest = Math.min(...this.fixed);
    if (smallest > this.body) {
      throw dataError(undefined, 'length', `a segment length of at least ${smallest + this.length - this.body} for passkey sequences`, describeValue(this.length));
    }
    this.minPrompt = Math.min(this.body, Math.max(smallest, opts.minPromptLength === undefined ? 100 : checkInteger(opts.minPromptLength, 1, 'minPromptLength')));
  }

  /** Sequence `index` as tokens: exactly `length` of them. */
  segment(index: number): Int32Array {
    return this.sample(index).tokens;
  }

  /** Sequence `index` with its description. */
  sample(index: number): PasskeySample {
    checkInteger(index, 0, 'index');
    const rng = new Prng(hash32(this.seed, index, 0x5ca1ab1e));
    const key = String(rng.int(10000, 99999));
    const body = this.body;
    const target = rng.int(this.minPrompt, body);
    // Canonical: the evaluation's key line and question on its filler, with its intro where it fits.
    const canonical = rng.next() < (this.opts.canonicalShare ?? 0.5);
    const fits = PASSKEY_TEMPLATES.map((_, i) => i).filter((i) => this.fixed[i] <= target);
    const template = canonical ? (this.fixed[0] <= target ? 0 : 1) : rng.pick(fits);
    const natural = !canonical && this.opts.fillerText !== undefined && this.opts.fillerText.length > 0 && rng.next() < 0.5;
    // Natural filler runs on across the key; the evaluation's restarts at "The grass" on each side.
    const text = natural ? this.naturalText(rng, 4 * body + 64) : '';
    const depth = rng.next();

    // Shrink the filler until the prompt fits its target; one pass for byte tokens (chars = tokens).
    let chars = target - this.fixed[template];
    let prompt: Int32Array = new Int32Array(0);
    for (let tries = 0; tries < 12; tries++) {
      const n = Math.max(0, chars);
      const a = Math.round(n * depth);
      const prefix = natural ? text.slice(0, a) : passkeyFiller(a);
      const suffix = natural ? text.slice(a, n) : passkeyFiller(n - a);
      prompt = encodeText(this.tokenizer, layout(PASSKEY_TEMPLATES[template], key, prefix, suffix));
      if (prompt.length <= target || n === 0) break;
      chars -= Math.max(1, Math.ceil((prompt.length - target) * (n / Math.max(1, prompt.length - this.fixed[template]))));
    }
    if (prompt.length > body) prompt = encodeText(this.tokenizer, layout(PASSKEY_TEMPLATES[template], key, '', ''));

    const out = new Int32Array(this.length);
    out[0] = this.ids.bosId;
    out.set(prompt, 1);
    let at = 1 + prompt.length;
    const end = 1 + body;  // the closing EOS goes here, or nothing when it is the segment's end
    if (at < end) {
      out[at++] = this.ids.eosId;
      const need = end - at;
      let tail: Int32Array = new Int32Array(0);
      for (let chars2 = need + 16; tail.length < need; chars2 *= 2) {
        tail = encodeText(this.tokenizer, natural ? this.naturalText(rng, chars2) : passkeyFiller(chars2));
      }
      out.set(tail.subarray(0, need), at);
    }
    if (end < this.length) out[end] = this.ids.eosId;
    return { tokens: out, key, template, canonical, natural, promptLength: prompt.length };
  }

  /** `chars` characters of the natural text from a random word start (wrapping around). */
  private naturalText(rng: Prng, chars: number): string {
    const text = this.opts.fillerText ?? '';
    let start = rng.int(0, Math.max(0, text.length - 1));
    const space = text.indexOf(' ', start);
    if (space >= 0 && space - start < 64) start = space + 1;
    let out = text.slice(start, start + chars);
    while (out.length < chars) out += ' ' + text.slice(0, chars - out.length - 1);
    return out;
  }
}

/** Where a mixed stream stands: output steps taken, plus the base stream's own position. */
export interface MixPosition<P = unknown> {
  step: number;
  base: P | undefined;
}

/** A base stream the mix can draw from: SegmentStream is one. */
export interface BaseSegments<P = unknown> {
  next(): Int32Array;
  position?(): P;
}

/**
 * Interleaves base segments with synthetic ones: step t takes a synthetic segment when a
 * stateless draw hash(seed, t) falls under `share`. Because every draw is a function of t, a
 * resumed stream (base restored from its own position, `step` from {@link MixedSegments.position})
 * continues exactly; the synthetic index is the number of synthetic picks before `step`.
 */
export class MixedSegments<P = unknown> implements Iterable<Int32Array> {
  private step: number;
  private synthIndex = 0;

  constructor(private readonly base: BaseSegments<P>, private readonly synthetic: { segment(i: number): Int32Array }, private readonly share: number, private readonly seed: number, step = 0) {
    if (typeof share !== 'number' || !(share >= 0 && share < 1)) throw dataError(undefined, 'share', 'a number in [0, 1)', describeValue(share));
    checkInteger(seed, 0, 'seed');
    this.step = checkInteger(step, 0, 'step');
    for (let t = 0; t < step; t++) if (this.isSynthetic(t)) this.synthIndex++;
  }

  private isSynthetic(t: number): boolean {
    return hash32(this.seed, t, 0x6d1c) / 0x100000000 < this.share;
  }

  /** The next segment, base or synthetic. */
  next(): Int32Array {
    const synthetic = this.isSynthetic(this.step++);
    return synthetic ? this.synthetic.segment(this.synthIndex++) : this.base.next();
  }

  /** Save this (and restore the base from `base`) to resume. */
  position(): MixPosition<P> {
    return { step: this.step, base: this.base.position?.() };
  }

  /** Endless. */
  *[Symbol.iterator](): Iterator<Int32Array> {
    for (;;) yield this.next();
  }
}

/** Mixes `share` (e.g. 0.1-0.2) synthetic segments into `base`; `step` resumes (see {@link MixedSegments}). */
export function mixSegments<P>(base: BaseSegments<P>, synthetic: { segment(i: number): Int32Array }, share: number, seed: number, step = 0): MixedSegments<P> {
  return new MixedSegments(base, synthetic, share, seed, step);
}
