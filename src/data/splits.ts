/**
 * The fixed training/evaluation split of the bundled corpora, written down so every run, every
 * machine and every later reader agrees on what the model has not seen:
 *
 * - training: the Old Testament (Genesis..Malachi, 39 books) and 450 Brown files;
 * - evaluation: the New Testament (Matthew..Revelation, 27 books) and 50 held-out Brown files:
 *   with the 500 file ids sorted (`ca01`..`cr09`), every 10th one, i.e. 0-based positions
 *   9, 19, ..., 499 (`ca10`, `ca20`, ..., `cr09`). Every 10th by sorted id spreads the held-out
 *   files over the 15 genres roughly in proportion, which a random draw would not guarantee.
 */
import { brownDocuments, kjvDocuments, type CorpusOptions } from './corpora';
import { KJV_BOOKS, kjvId } from './kjv';
import type { Document } from './types';

/** Which part of the split a bundled document belongs to. */
export type Split = 'train' | 'eval';

/** Every `BROWN_EVAL_EVERY`-th Brown file (by sorted id, the last of each run of ten) is held out. */
export const BROWN_EVAL_EVERY = 10;

const NEW_TESTAMENT = new Set(KJV_BOOKS.filter((b) => b.testament === 'new').map(kjvId));

/** The held-out Brown ids among `sortedIds` (ids as `brown/ca01`, sorted). */
export function brownEvalIds(sortedIds: readonly string[]): Set<string> {
  return new Set(sortedIds.filter((_, i) => i % BROWN_EVAL_EVERY === BROWN_EVAL_EVERY - 1));
}

function splitDocs(kjv: Document[], brown: Document[], split: Split): Document[] {
  const held = brownEvalIds(brown.map((d) => d.id).sort());
  const want = split === 'eval';
  return [...kjv.filter((d) => NEW_TESTAMENT.has(d.id) === want), ...brown.filter((d) => held.has(d.id) === want)];
}

/** The training split: 39 Old Testament books, then 450 Brown files; a fixed order. */
export async function trainDocuments(opts: CorpusOptions = {}): Promise<Document[]> {
  const [kjv, brown] = await Promise.all([kjvDocuments(opts), brownDocuments(opts)]);
  return splitDocs(kjv, brown, 'train');
}

/** The evaluation split: 27 New Testament books, then the 50 held-out Brown files. */
export async function evalDocuments(opts: CorpusOptions = {}): Promise<Document[]> {
  const [kjv, brown] = await Promise.all([kjvDocuments(opts), brownDocuments(opts)]);
  return splitDocs(kjv, brown, 'eval');
}
