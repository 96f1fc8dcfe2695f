/**
 * Copy drills (experimental, opt-in with train-base --copy-drills): dense training signal for
 * in-context retrieval. A passkey example supervises five digit tokens per 256; the 3.3M-parameter
 * base model trained on 4M tokens never formed the induction ("find the earlier occurrence, copy
 * what followed") circuit from that (0/50 passkeys at 256). These sequences make most tokens
 * predictable only by copying; in our runs (up to 300 steps, 20-45% drills) they did not make the
 * circuit form either: the second copy's NLL stayed within 5% of the first's. Longer runs may.
 *   - random strings (digits, letters, filler words) each written twice, "s\ns\n";
 *   - several key statements and their questions in one sequence, each with a fresh 5-digit key.
 * A segment is BOS followed by exactly length-1 tokens, cut mid-text with no closing EOS, so no
 * position is tied to the end of a document.
 */
import type { Tokenizer } from './tokenizer';
import { specialIds } from './chunking';
import { PASSKEY_QUESTION, passkeyFiller, passkeyKeyLine } from './passkey-text';
import { hash32, Prng } from '../common/prng';
import { checkInteger } from './types';

const ALPHABETS = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
const WORDS = ['grass', 'green', 'sky', 'blue', 'sun', 'yellow', 'here', 'we', 'go', 'there', 'and', 'back', 'again', 'key'];

function randomString(rng: Prng): string {
  if (rng.next() < 0.3) return Array.from({ length: rng.int(2, 6) }, () => WORDS[rng.int(0, WORDS.length - 1)]).join(' ');
  const alphabet = ALPHABETS[rng.int(0, ALPHABETS.length - 1)];
  return Array.from({ length: rng.int(4, 24) }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');
}

function keyDrill(rng: Prng): string {
  const key = rng.int(10000, 99999);
  const gap = passkeyFiller(rng.int(0, 80));
  return `${passkeyKeyLine(key)}\n${gap}\n${PASSKEY_QUESTION} ${key}.\n`;
}

/** Generates copy-drill segments of exactly `length` tokens by index (seeded, deterministic). */
export class CopySynthesizer {
  private readonly length: number;
  private readonly seed: number;
  private readonly bosId: number;

  constructor(private readonly tokenizer: Tokenizer, opts: { length: number; seed?: number }) {
    this.length = checkInteger(opts.length, 8, 'length');
    this.seed = opts.seed === undefined ? 0 : checkInteger(opts.seed, 0, 'seed');
    this.bosId = specialIds(tokenizer).bosId;
  }

  /** Segment `index`: BOS + length-1 tokens of drills. */
  segment(index: number): Int32Array {
    const rng = new Prng(hash32(this.seed, checkInteger(index, 0, 'index'), 0xc0b1));
    const keys = rng.next() < 0.5;
    const out: number[] = [this.bosId];
    while (out.length < this.length) {
      const text = keys ? keyDrill(rng) : `${randomString(rng)}\n`.repeat(2);
      out.push(...this.tokenizer.encode(text, { addBos: false }));
    }
    return Int32Array.from(out.slice(0, this.length));
  }
}
