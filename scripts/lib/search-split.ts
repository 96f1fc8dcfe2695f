/**
 * The split the search experiments share (demo, search-results, search-cost): the evaluation
 * corpus tokenized once; even-numbered documents are the search's pool, odd-numbered ones are
 * held out (no search sees them), with non-overlapping windows of BOS + target-1 tokens.
 */
import { evalDocuments } from '../../src/data';
import { ByteTokenizer } from '../../src/data/tokenizer';

export interface SearchSplit {
  searchPool: Int32Array[];
  heldOut: Int32Array[];
}

/** The evaluation corpus under the byte tokenizer, split into search pool and held-out documents. */
export async function searchSplit(): Promise<SearchSplit> {
  const tok = new ByteTokenizer();
  const docs = (await evalDocuments()).map((d) => Int32Array.from(tok.encode(d.text, { addBos: false })));
  return { searchPool: docs.filter((_, i) => i % 2 === 0), heldOut: docs.filter((_, i) => i % 2 === 1) };
}

/** Up to `perDocument` non-overlapping windows of BOS + target-1 tokens from each document. */
export function heldOutWindows(docs: Int32Array[], target: number, bos: number, perDocument = 3): Int32Array[] {
  const windows: Int32Array[] = [];
  for (const d of docs) {
    for (let s = 0; s + target - 1 <= d.length && s < perDocument * (target - 1); s += target - 1) {
      windows.push(Int32Array.from([bos, ...d.subarray(s, s + target - 1)]));
    }
  }
  return windows;
}
