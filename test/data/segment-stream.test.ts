/** The resumable training order: seeded shuffles per epoch, and exact continuation from a saved position. */
import test from 'ava';

import { DataError, segmentSource, SegmentStream, StreamingSegments, trainDocuments, type Document, type SegmentPosition } from '../../src/data';
import { ByteTokenizer } from '../../src/data/tokenizer';

const segs = (n: number): Int32Array[] => Array.from({ length: n }, (_, i) => Int32Array.of(256, i, 257));
const take = (s: { next(): Int32Array }, n: number): number[] => Array.from({ length: n }, () => s.next()[1]);
/** A save to disk and back, as a checkpoint does. */
const saved = (p: SegmentPosition): SegmentPosition => JSON.parse(JSON.stringify(p)) as SegmentPosition;

test('each epoch is a seeded permutation of all segments, different per epoch and per seed', (t) => {
  const s = new SegmentStream(segs(50), { seed: 7 });
  const e0 = take(s, 50);
  t.deepEqual(s.position(), { epoch: 1, index: 0, seed: 7 });
  const e1 = take(s, 50);
  t.deepEqual([...e0].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  t.deepEqual([...e1].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  t.notDeepEqual(e0, e1);
  t.deepEqual(take(new SegmentStream(segs(50), { seed: 7 }), 100), [...e0, ...e1]);
  t.notDeepEqual(take(new SegmentStream(segs(50), { seed: 8 }), 50), e0);
  // Pinned: the order must never change between versions, or saved positions would lie.
  t.deepEqual(take(new SegmentStream(segs(10), { seed: 1 }), 10), [7, 1, 2, 6, 5, 8, 0, 3, 9, 4]);
});

test('a stream rebuilt from a saved position continues exactly, across epoch boundaries', (t) => {
  const reference = take(new SegmentStream(segs(37), { seed: 3 }), 200);
  for (const stop of [0, 1, 36, 37, 38, 120]) {
    const first = new SegmentStream(segs(37), { seed: 3 });
    const before = take(first, stop);
    const resumed = new SegmentStream(segs(37), { position: saved(first.position()) });
    t.deepEqual([...before, ...take(resumed, 200 - stop)], reference, `stopped after ${stop}`);
  }
});

test('segments are copies, so a caller cannot corrupt the stream', (t) => {
  const base = segs(3);
  const first = new SegmentStream(base, { seed: 0 }).next();
  const value = first[1];
  first.fill(-1);
  t.is(new SegmentStream(base, { seed: 0 }).next()[1], value);
});

test('bad positions are clear errors', (t) => {
  t.throws(() => new SegmentStream(segs(5), { position: { epoch: 0, index: 5, seed: 1 } }), {
    instanceOf: DataError, message: 'Expected an integer in [0, 5) (segments per epoch) for position.index but received 5 of type number',
  });
  t.throws(() => new SegmentStream(segs(5), { position: { epoch: -1, index: 0, seed: 1 } }), { message: 'Expected a non-negative integer for position.epoch but received -1 of type number' });
  t.throws(() => new SegmentStream(segs(5), { position: null as unknown as SegmentPosition }), { message: 'Expected an object {epoch, index, seed} for position but received null' });
  t.throws(() => new SegmentStream(segs(5), { seed: 2 ** 32 }), { message: 'Expected an integer in [0, 4294967295] for seed but received 4294967296 of type number' });
  t.throws(() => new SegmentStream([]), { message: 'Expected at least one segment for segments but received none' });
});

test('the training split at 256 byte tokens: one stream, fast, every segment [BOS ... EOS]', async (t) => {
  const started = Date.now();
  const s = await SegmentStream.fromDocuments(await trainDocuments(), new ByteTokenizer(), { length: 256, seed: 1 });
  t.is(s.count, Math.floor((8548196 + 488) / 254)); // training bytes + 488 EOS separators
  for (let i = 0; i < 100; i++) {
    const x = s.next();
    t.true(x.length === 256 && x[0] === 256 && x[255] === 257);
  }
  t.true(Date.now() - started < 10000);
});

test('StreamingSegments: a shuffled stream over re-readable documents, resumable', async (t) => {
  const docs: Document[] = Array.from({ length: 30 }, (_, i) => ({ id: String(i), source: 'file', text: `doc ${i} `.repeat(3 + (i % 5)) }));
  const open = (): Document[] => docs;
  const tok = new ByteTokenizer();
  const read = async (s: StreamingSegments, n: number): Promise<string[]> => {
    const out: string[] = [];
    if (n === 0) return out;
    for await (const x of s) {
      out.push(tok.decode(Array.from(x)));
      if (out.length === n) break;
    }
    return out;
  };
  const opts = { length: 24, seed: 5, shuffleBuffer: 8 };
  const ref = await read(new StreamingSegments(open, tok, opts), 80);
  // (30 documents' bytes + 29 EOS separators) / 22 content tokens per segment.
  const perEpoch = Math.floor((docs.reduce((n, d) => n + d.text.length, 0) + 29) / 22);
  const counter = new StreamingSegments(open, tok, opts);
  await read(counter, perEpoch + 1);
  t.deepEqual(counter.position(), { epoch: 1, index: 1, seed: 5 });
  // The local shuffle moved things, but an epoch still holds the same segments as file order.
  const inOrder = await read(new StreamingSegments(open, tok, { ...opts, shuffleBuffer: 1 }), perEpoch);
  t.notDeepEqual(ref.slice(0, perEpoch), inOrder);
  t.deepEqual([...ref.slice(0, perEpoch)].sort(), [...inOrder].sort());
  for (const stop of [0, 5, perEpoch, perEpoch + 3]) {
    const first = new StreamingSegments(open, tok, opts);
    const before = await read(first, stop);
    const resumed = new StreamingSegments(open, tok, { ...opts, position: saved(first.position()) });
    t.deepEqual([...before, ...(await read(resumed, 80 - stop))], ref, `stopped after ${stop}`);
  }
  const tooFar = new StreamingSegments(open, tok, { ...opts, position: { epoch: 0, index: 10000, seed: 5 } });
  await t.throwsAsync(read(tooFar, 1), { instanceOf: DataError, message: `Expected an index below ${perEpoch} (segments in this data per epoch) for position.index but received 10000` });
});

test('segmentSource: position() after each segment handed out resumes exactly, across epochs', async (t) => {
  const docs: Document[] = Array.from({ length: 30 }, (_, i) => ({ id: String(i), source: 'file', text: `doc ${i} `.repeat(3 + (i % 5)) }));
  let opens = 0;
  const open = (): Document[] => {
    opens++;
    return docs;
  };
  const tok = new ByteTokenizer();
  const opts = { length: 24, seed: 9, shuffleBuffer: 4 };
  const perEpoch = Math.floor((docs.reduce((n, d) => n + d.text.length, 0) + 29) / 22);
  // The reference order, read through the stream's own iterator.
  const ref: number[][] = [];
  for await (const s of new StreamingSegments(open, tok, opts)) {
    ref.push(Array.from(s));
    if (ref.length === 2 * perEpoch + 5) break;
  }
  const pull = async (src: { next(): Promise<Int32Array> }, n: number): Promise<number[][]> => {
    const out: number[][] = [];
    for (let i = 0; i < n; i++) out.push(Array.from(await src.next()));
    return out;
  };
  for (const stop of [0, 1, 7, perEpoch - 1, perEpoch, perEpoch + 3, 2 * perEpoch]) {
    const first = segmentSource(new StreamingSegments(open, tok, opts));
    const before = await pull(first, stop);
    const p = saved(first.position());
    t.deepEqual(p, { epoch: Math.floor(stop / perEpoch), index: stop % perEpoch, seed: 9 }, `position after ${stop}`);
    opens = 0;
    const after = await pull(segmentSource(new StreamingSegments(open, tok, { ...opts, position: p })), ref.length - stop);
    t.deepEqual([...before, ...after], ref, `stopped after ${stop}`);
    // A stop at an epoch's end resumes in the next epoch: the finished one is not read again.
    t.is(opens, Math.floor((ref.length - 1) / perEpoch) - p.epoch + 1, `files opened after a stop at ${stop}`);
  }
  // Calls that overlap are still served in order.
  const src = segmentSource(new StreamingSegments(open, tok, opts));
  t.deepEqual((await Promise.all([src.next(), src.next(), src.next()])).map((s) => Array.from(s)), ref.slice(0, 3));
  t.deepEqual(src.position(), { epoch: 0, index: 3, seed: 9 });
});

test('streamed data too short for one segment: a clear error, never a hang', async (t) => {
  t.timeout(10_000);
  const tok = new ByteTokenizer();
  const short: Document[] = [{ id: 'a', source: 'file', text: 'short' }, { id: 'b', source: 'file', text: 'text' }];
  // 5 + 1 EOS + 4 bytes = 10 tokens, 22 needed.
  const message = 'Expected at least 22 tokens of training text for length 24 but received 10';
  await t.throwsAsync(new StreamingSegments(() => short, tok, { length: 24 }).probe(), { instanceOf: DataError, message });
  await t.throwsAsync(segmentSource(new StreamingSegments(() => short, tok, { length: 24 })).next(), { instanceOf: DataError, message });
  const resumed = new StreamingSegments(() => short, tok, { length: 24, position: { epoch: 3, index: 0, seed: 1 } });
  await t.throwsAsync(segmentSource(resumed).next(), { instanceOf: DataError, message });
  await t.throwsAsync(new StreamingSegments(() => [], tok, { length: 24 }).probe(), {
    instanceOf: DataError, message: 'Expected at least 22 tokens of training text for length 24 but received 0',
  });
  // Data that vanishes after the first epoch (a file emptied mid-run): epoch 0 is served, then the error.
  let calls = 0;
  const long: Document[] = [{ id: 'c', source: 'file', text: 'x'.repeat(50) }];
  const shrinking = segmentSource(new StreamingSegments(() => (calls++ === 0 ? long : []), tok, { length: 24 }));
  t.is((await shrinking.next()).length, 24);
  t.is((await shrinking.next()).length, 24);
  await t.throwsAsync(shrinking.next(), { instanceOf: DataError, message: 'Expected at least 22 tokens of training text for length 24 but received 0' });
});
