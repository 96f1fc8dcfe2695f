/**
 * Text -> tokens -> fixed-length segments, as LongRoPE's fine-tuning data is made: documents are
 * concatenated into one token stream and cut into fixed pieces, so no token is wasted on padding
 * and every segment trains the full context. Our rule, exactly:
 *
 * - stream = doc1 EOS doc2 EOS ... docN (an EOS between documents, none after the last);
 * - the stream is cut into consecutive pieces of `length - 2` tokens;
 * - each segment is `[BOS, piece..., EOS]`, exactly `length` tokens;
 * - the final piece, shorter than `length - 2`, is dropped.
 *
 * Every segment therefore opens like a prompt does at inference (BOS first) and a segment may hold
 * the end of one document and the start of the next, with the EOS between them marking the seam.
 *
 * `closeWithEos: false` packs `[BOS, piece of length - 1]` instead, cut anywhere: pretraining the
 * tiny base model uses it, because an EOS always at the last position teaches a model to predict
 * EOS there (and nothing past it), which a prompt that fills the context then runs into.
 */
import type { Tokenizer } from './tokenizer';
import { checkInteger, DataError, dataError, describeValue, toAsync, type Document, type Documents, type TokenStreams } from './types';

/** Segment geometry and the special ids (a tokenizer's `bosId` / `eosId`). */
export interface PackOptions {
  /** Tokens per segment, BOS and EOS included; at least 3. */
  length: number;
  bosId: number;
  eosId: number;
  /** End each segment with EOS (the paper's chunking); default true. */
  closeWithEos?: boolean;
}

/** Checks {@link PackOptions}; returns them with the numbers known good. */
export function checkPackOptions(opts: PackOptions): PackOptions {
  if (typeof opts !== 'object' || opts === null) throw dataError(undefined, 'options', 'an object', describeValue(opts));
  checkInteger(opts.length, 3, 'length');
  checkInteger(opts.bosId, 0, 'bosId');
  checkInteger(opts.eosId, 0, 'eosId');
  return opts;
}

/** The special ids of a tokenizer, which must have both. */
export function specialIds(tokenizer: Tokenizer): { bosId: number; eosId: number } {
  if (tokenizer.bosId === null) throw dataError(undefined, 'tokenizer.bosId', 'a BOS token id', 'null');
  if (tokenizer.eosId === null) throw dataError(undefined, 'tokenizer.eosId', 'an EOS token id', 'null');
  return { bosId: tokenizer.bosId, eosId: tokenizer.eosId };
}

/** The tokens of `text`, no BOS/EOS. */
export function encodeText(tokenizer: Tokenizer, text: string): Int32Array {
  return Int32Array.from(tokenizer.encode(text, { addBos: false }));
}

/** A document's tokens, no BOS/EOS; its raw bytes when it has them and the tokenizer reads bytes. */
export function encodeDocument(tokenizer: Tokenizer, doc: Document): Int32Array {
  if (doc.bytes && tokenizer.encodeBytes) return Int32Array.from(tokenizer.encodeBytes(doc.bytes, { addBos: false }));
  return encodeText(tokenizer, doc.text);
}

/** Each document's tokens, in order, with no BOS or EOS added (packing adds them). */
export async function* tokenizeDocuments(docs: Documents, tokenizer: Tokenizer): AsyncGenerator<Int32Array> {
  for await (const doc of toAsync(docs)) yield encodeDocument(tokenizer, doc);
}

/** The error for training text that cannot fill one segment: never an empty training run. */
export function tooShortError(length: number, received: number, body = length - 2): DataError {
  return new DataError(`Expected at least ${body} tokens of training text for length ${length} but received ${received}`, 'length');
}

/**
 * Concatenates token streams (an EOS between them) and yields `[BOS, length-2 tokens, EOS]`
 * segments (`[BOS, length-1 tokens]` without `closeWithEos`); the last partial piece is dropped.
 * @throws {DataError} when the streams hold fewer tokens than one segment's body (EOS separators count).
 */
export async function* packSegments(tokenStreams: TokenStreams, opts: PackOptions): AsyncGenerator<Int32Array> {
  const { length, bosId, eosId } = checkPackOptions(opts);
  const close = opts.closeWithEos ?? true;
  const body = close ? length - 2 : length - 1;
  let seg = new Int32Array(length);
  let fill = 0;
  let total = 0;
  let yielded = 0;
  let first = true;
  const push = function* (tokens: ArrayLike<number>): Generator<Int32Array> {
    let i = 0;
    while (i < tokens.length) {
      const n = Math.min(body - fill, tokens.length - i);
      for (let k = 0; k < n; k++) seg[1 + fill + k] = tokens[i + k];
      fill += n;
      i += n;
      if (fill === body) {
        seg[0] = bosId;
        if (close) seg[length - 1] = eosId;
        yield seg;
        yielded++;
        seg = new Int32Array(length);
        fill = 0;
      }
    }
  };
  for await (const tokens of toAsync(tokenStreams)) {
    if (tokens.length === 0) continue; // an empty document adds no separator either
    if (!first) {
      total++;
      yield* push([eosId]);
    }
    first = false;
    total += tokens.length;
    yield* push(tokens);
  }
  if (yielded === 0) throw tooShortError(length, total, body);
}
