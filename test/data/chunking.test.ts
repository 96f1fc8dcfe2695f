/** Tokenising and packing: the exact segment layout, the dropped tail, evaluation windows, errors. */
import test from 'ava';

import { DataError, packSegments, specialIds, tokenizeDocuments, type Document } from '../../src/data';
import { ByteTokenizer, type Tokenizer } from '../../src/data/tokenizer';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const doc = (text: string, id = text): Document => ({ id, source: 'file', text });
const arrays = (xs: Int32Array[]): number[][] => xs.map((x) => Array.from(x));
const B = 256;
const E = 257;

test('tokenizeDocuments: the bytes of each document, no BOS or EOS', async (t) => {
  const out = await all(tokenizeDocuments([doc('ab'), doc('é')], new ByteTokenizer()));
  t.true(out.every((x) => x instanceof Int32Array));
  t.deepEqual(arrays(out), [[97, 98], [0xc3, 0xa9]]);
});

test('packSegments: [BOS, length-2 tokens, EOS], an EOS between documents, the last partial piece dropped', async (t) => {
  const streams = [Int32Array.of(1, 2, 3), Int32Array.of(), Int32Array.of(4, 5), Int32Array.of(6, 7, 8, 9)];
  // stream = 1 2 3 E 4 5 E 6 7 8 9 (the empty document adds nothing), 11 tokens; pieces of 3.
  t.deepEqual(arrays(await all(packSegments(streams, { length: 5, bosId: B, eosId: E }))), [
    [B, 1, 2, 3, E],
    [B, E, 4, 5, E],
    [B, E, 6, 7, E],
  ]);
  // Exactly fitting: nothing dropped.
  t.deepEqual(arrays(await all(packSegments([Int32Array.of(1, 2), Int32Array.of(3)], { length: 6, bosId: B, eosId: E }))), [[B, 1, 2, E, 3, E]]);
});

test('packSegments without closeWithEos: [BOS, length-1 tokens], cut anywhere, no EOS tied to the last position', async (t) => {
  const streams = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5), Int32Array.of(6, 7, 8, 9)];
  // stream = 1 2 3 E 4 5 E 6 7 8 9, 11 tokens; pieces of 4.
  t.deepEqual(arrays(await all(packSegments(streams, { length: 5, bosId: B, eosId: E, closeWithEos: false }))), [
    [B, 1, 2, 3, E],
    [B, 4, 5, E, 6],
  ]);
  await t.throwsAsync(all(packSegments([Int32Array.of(1, 2)], { length: 5, bosId: B, eosId: E, closeWithEos: false })), {
    message: 'Expected at least 4 tokens of training text for length 5 but received 2',
  });
});

test('packSegments over real text: every segment exactly length, all text kept but the tail', async (t) => {
  const tok = new ByteTokenizer();
  const docs = Array.from({ length: 40 }, (_, i) => doc(`Document ${i}. `.repeat(i + 1)));
  const segs = await all(packSegments(tokenizeDocuments(docs, tok), { length: 64, bosId: B, eosId: E }));
  t.true(segs.every((s) => s.length === 64 && s[0] === B && s[63] === E));
  const stream = segs.flatMap((s) => Array.from(s.subarray(1, 63)));
  const full = docs.flatMap((d, i) => [...(i > 0 ? [E] : []), ...tok.encode(d.text, { addBos: false })]);
  t.deepEqual(stream, full.slice(0, stream.length));
  t.true(full.length - stream.length < 62);
});

test('too little training text is an error, never an empty run', async (t) => {
  const opts = { length: 256, bosId: B, eosId: E };
  await t.throwsAsync(all(packSegments([Int32Array.of(1, 2, 3), Int32Array.of(4)], opts)), {
    instanceOf: DataError, message: 'Expected at least 254 tokens of training text for length 256 but received 5',
  });
  await t.throwsAsync(all(packSegments([], opts)), { message: 'Expected at least 254 tokens of training text for length 256 but received 0' });
  await t.throwsAsync(all(packSegments([], { length: 2, bosId: B, eosId: E })), { message: 'Expected an integer >= 3 for length but received 2 of type number' });
  await t.throwsAsync(all(packSegments([], { length: 8, bosId: -1, eosId: E })), { message: 'Expected a non-negative integer for bosId but received -1 of type number' });
});

test('a tokenizer without BOS/EOS cannot pack', (t) => {
  const tok: Tokenizer = { encode: () => [], decode: () => '', bosId: null, eosId: 2, vocabSize: 3 };
  t.throws(() => specialIds(tok), { message: 'Expected a BOS token id for tokenizer.bosId but received null' });
});
