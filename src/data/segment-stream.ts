/**
 * The order in which training sees its segments, resumable after a kill. The order is a pure
 * function of (seed, epoch), so a saved {@link SegmentPosition} is all a restarted run needs:
 * no hidden generator state, nothing to serialise but three integers.
 */
import type { Tokenizer } from './tokenizer';
import { packSegments, specialIds, tokenizeDocuments } from './chunking';
import { hash32, Prng, permutation } from '../common/prng';
import { checkInteger, dataError, describeValue, toAsync, type Documents } from './types';

/** Where a segment stream stands: the next segment is `index` of epoch `epoch`'s order. */
export interface SegmentPosition {
  epoch: number;
  index: number;
  seed: number;
}

/** How to build a stream: segment length, shuffle seed, and optionally where to resume. */
export interface SegmentStreamOptions {
  length: number;
  /** End segments with EOS (the paper's chunking, default) or cut them anywhere (see packSegments). */
  closeWithEos?: boolean;
  /** A uint32; default 0. Ignored when `position` is given (its seed wins). */
  seed?: number;
  /** A position saved from {@link SegmentStream.position} to continue exactly from. */
  position?: SegmentPosition;
}

/** Checks a saved position (from a checkpoint file, so anything may be in it). */
export function checkPosition(position: unknown, count = Infinity): SegmentPosition {
  if (typeof position !== 'object' || position === null) throw dataError(undefined, 'position', 'an object {epoch, index, seed}', describeValue(position));
  const p = position as Record<string, unknown>;
  checkInteger(p.epoch, 0, 'position.epoch');
  checkInteger(p.index, 0, 'position.index');
  checkInteger(p.seed, 0, 'position.seed');
  if ((p.seed as number) > 0xffffffff) throw dataError(undefined, 'position.seed', 'an integer in [0, 4294967295]', describeValue(p.seed));
  if ((p.index as number) >= count) throw dataError(undefined, 'position.index', `an integer in [0, ${count}) (segments per epoch)`, describeValue(p.index));
  return { epoch: p.epoch as number, index: p.index as number, seed: p.seed as number };
}

/** `docs` tokenized and packed into segments as `opts` says (length, closing EOS). */
function packDocuments(docs: Documents, tokenizer: Tokenizer, opts: SegmentStreamOptions): AsyncGenerator<Int32Array> {
  return packSegments(tokenizeDocuments(docs, tokenizer), { length: opts.length, closeWithEos: opts.closeWithEos, ...specialIds(tokenizer) });
}

function startPosition(opts: { seed?: number; position?: SegmentPosition }, count: number): SegmentPosition {
  if (opts.position !== undefined) return checkPosition(opts.position, count);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw dataError(undefined, 'seed', 'an integer in [0, 4294967295]', describeValue(seed));
  return { epoch: 0, index: 0, seed };
}

/**
 * Segments held in memory, served in a seeded shuffled order that is reshuffled every epoch;
 * endless (epoch after epoch). For the bundled corpora (~10 MB of byte tokens) memory is no issue;
 * user data too big for memory goes through {@link StreamingSegments}.
 */
export class SegmentStream implements Iterable<Int32Array> {
  /** Segments per epoch. */
  readonly count: number;
  private order: Uint32Array;
  private pos: SegmentPosition;

  /** Over `segments` (all of one length), starting at `opts.position` or at epoch 0. */
  constructor(private readonly segments: readonly Int32Array[], opts: Omit<SegmentStreamOptions, 'length'> = {}) {
    if (segments.length === 0) throw dataError(undefined, 'segments', 'at least one segment', 'none');
    this.count = segments.length;
    this.pos = startPosition(opts, this.count);
    this.order = permutation(this.count, hash32(this.pos.seed, this.pos.epoch));
  }

  /** Tokenizes and packs `docs` (see `packSegments`), then streams them. */
  static async fromDocuments(docs: Documents, tokenizer: Tokenizer, opts: SegmentStreamOptions): Promise<SegmentStream> {
    const segments: Int32Array[] = [];
    for await (const s of packDocuments(docs, tokenizer, opts)) segments.push(s);
    return new SegmentStream(segments, opts);
  }

  /** Where the stream stands: save this with the model checkpoint. */
  position(): SegmentPosition {
    return { ...this.pos };
  }

  /** The next segment (a fresh copy: callers may keep or change it). */
  next(): Int32Array {
    const segment = this.segments[this.order[this.pos.index]].slice();
    this.pos.index++;
    if (this.pos.index === this.count) {
      this.pos = { epoch: this.pos.epoch + 1, index: 0, seed: this.pos.seed };
      this.order = permutation(this.count, hash32(this.pos.seed, this.pos.epoch));
    }
    return segment;
  }

  /** Endless: `for (const s of stream)` must be broken out of. */
  *[Symbol.iterator](): Iterator<Int32Array> {
    for (;;) yield this.next();
  }
}

/** Options of {@link StreamingSegments}: those of a stream plus the shuffle buffer size. */
export interface StreamingOptions extends SegmentStreamOptions {
  /** Segments held for the local shuffle; default 1024. 1 keeps file order. */
  shuffleBuffer?: number;
}

/**
 * Segments from data too big for memory: each epoch re-reads the documents (through `open`, which
 * must give the same documents in the same order every call), packs them, and shuffles locally
 * through a seeded buffer. Resuming at `index` replays the epoch and drops `index` segments:
 * exact, at the cost of re-reading (and re-tokenizing) up to that point.
 */
export class StreamingSegments implements AsyncIterable<Int32Array> {
  private pos: SegmentPosition;
  private readonly buffer: number;

  constructor(private readonly open: () => Documents, private readonly tokenizer: Tokenizer, private readonly opts: StreamingOptions) {
    this.pos = startPosition(opts, Infinity);
    this.buffer = opts.shuffleBuffer === undefined ? 1024 : checkInteger(opts.shuffleBuffer, 1, 'shuffleBuffer');
    checkInteger(opts.length, 3, 'length');
  }

  /**
   * The position of the next segment to be yielded. After an epoch's last segment it is already
   * `{epoch + 1, index: 0}`, so a resume from there does not replay a whole epoch to skip it.
   */
  position(): SegmentPosition {
    return { ...this.pos };
  }

  /**
   * Reads until the first segment is packed, then stops (closing the files): a missing file or
   * too little text fails here, before a long job starts, having read only the start of the data.
   * @throws {DataError} `tooShortError` when the documents cannot fill one segment.
   */
  async probe(): Promise<void> {
    const packed = this.packed();
    await packed.next();
    await packed.return(undefined);
  }

  private packed(): AsyncGenerator<Int32Array> {
    return packDocuments(toAsync(this.open()), this.tokenizer, this.opts);
  }

  /**
   * One epoch's segments in its shuffled order (a buffer of `shuffleBuffer`, seeded by seed and
   * epoch), each flagged `last` when it ends the epoch. An epoch with no segment cannot spin
   * forever: `packSegments` throws `tooShortError` when nothing fits.
   */
  private async *epoch(epoch: number): AsyncGenerator<{ segment: Int32Array; last: boolean }> {
    const rng = new Prng(hash32(this.pos.seed, epoch));
    const held: Int32Array[] = [];
    for await (const s of this.packed()) {
      if (held.length < this.buffer) {
        held.push(s);
        continue;
      }
      const j = Math.floor(rng.next() * held.length);
      const out = held[j];
      held[j] = s;
      yield { segment: out, last: false };
    }
    // The epoch always ends while draining the buffer (it holds at least one segment by now).
    while (held.length > 0) {
      const j = Math.floor(rng.next() * held.length);
      const out = held[j];
      held[j] = held[held.length - 1];
      held.pop();
      yield { segment: out, last: held.length === 0 };
    }
  }

  /** Endless over epochs, starting from the current position. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Int32Array> {
    for (;;) {
      const { epoch, index: skip, seed } = this.pos;
      let seen = 0;
      for await (const { segment, last } of this.epoch(epoch)) {
        seen++;
        if (seen <= skip) continue;
        // Updated before the yield: position() read after a segment arrives is the one after it.
        this.pos = last ? { epoch: epoch + 1, index: 0, seed } : { epoch, index: seen, seed };
        yield segment;
      }
      if (seen <= skip) {
        throw dataError(undefined, 'position.index', `an index below ${seen} (segments in this data per epoch)`, String(skip));
      }
    }
  }
}

/** A segment source that hands out one segment per call, as the training loop pulls them. */
export interface AsyncSegmentSource {
  /** The next segment; calls are served in order, one after the other. */
  next(): Promise<Int32Array>;
  /** The position after the segments handed out so far: save it with a checkpoint. */
  position(): SegmentPosition;
}

/**
 * `stream` as a pull source (the `SegmentSource` that `finetune` takes). The stream is read
 * only on request (an async generator never runs ahead), so `position()` between calls is
 * exactly the position after the last segment handed out, and a run rebuilt from it with
 * `new StreamingSegments(open, tokenizer, { ..., position })` continues with the next one.
 * Use one source per stream: the stream's position is shared.
 */
export function segmentSource(stream: StreamingSegments): AsyncSegmentSource {
  const segments = stream[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await segments.next();
      // Endless: only a failed read ends it, and that error has already been thrown.
      if (r.done) throw new Error('the segment stream ended after an error');
      return r.value;
    },
    position: () => stream.position(),
  };
}
