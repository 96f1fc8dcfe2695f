/**
 * The tiny base model's pretraining data in one call: the training split packed at the model's
 * context, shuffled per epoch, with a share of synthetic passkey sequences mixed in, and one
 * position to save and resume from. Fine-tuning uses {@link SegmentStream} (or
 * `StreamingSegments` for user files) directly, without the synthetic mix.
 */
import type { Tokenizer } from './tokenizer';
import type { CorpusOptions } from './corpora';
import { CopySynthesizer } from './copy-synthetic';
import { mixSegments, PasskeySynthesizer, type MixedSegments } from './passkey-synthetic';
import { hash32 } from '../common/prng';
import { SegmentStream, type SegmentPosition } from './segment-stream';
import { trainDocuments } from './splits';
import { checkInteger, dataError, describeValue } from './types';

/** Where pretraining data stands: output steps and the corpus stream's position. */
export interface PretrainingPosition {
  step: number;
  base: SegmentPosition;
}

/** Options of {@link pretrainingStream}. */
export interface PretrainingOptions {
  tokenizer: Tokenizer;
  /** Segment length: the model's context (256 for the tiny byte model). */
  length: number;
  /** One seed for everything (order, synthetic sequences, mix); default 0. A `position` brings its own. */
  seed?: number;
  /** Share of synthetic sequences; default 0.15. */
  syntheticShare?: number;
  /** Half of the synthetic share becomes copy drills (see copy-synthetic.ts); default false. */
  copyDrills?: boolean;
  /** End every segment with EOS (the paper's chunking; default) or cut the text stream anywhere
   *  (see packSegments: no position is tied to an EOS). Part of what a resumed run must repeat. */
  closeWithEos?: boolean;
  /** A position saved from the returned stream's `position()`. */
  position?: PretrainingPosition;
  corpus?: CorpusOptions;
}

/**
 * Training split + passkey mix, endless and resumable: save `stream.position()` with each
 * checkpoint and pass it back as `position` to continue with exactly the next segment.
 */
export async function pretrainingStream(opts: PretrainingOptions): Promise<MixedSegments<SegmentPosition>> {
  const share = opts.syntheticShare ?? 0.15;
  const { position } = opts;
  if (position !== undefined && (typeof position !== 'object' || position === null || typeof position.base !== 'object' || position.base === null)) {
    throw dataError(undefined, 'position', 'an object {step, base: {epoch, index, seed}}', describeValue(position));
  }
  // A resumed run takes its seed from the saved position, so nothing else has to match.
  const seed = position ? checkInteger(position.base.seed, 0, 'position.base.seed') : opts.seed === undefined ? 0 : checkInteger(opts.seed, 0, 'seed');
  const docs = await trainDocuments(opts.corpus);
  const base = await SegmentStream.fromDocuments(docs, opts.tokenizer, { length: opts.length, closeWithEos: opts.closeWithEos, ...(position ? { position: position.base } : { seed }) });
  const synthetic = new PasskeySynthesizer(opts.tokenizer, {
    length: opts.length,
    seed: hash32(seed, 1),
    fillerText: docs.map((d) => d.text).join('\n'),
    closeWithEos: opts.closeWithEos,
  });
  const drills = new CopySynthesizer(opts.tokenizer, { length: opts.length, seed: hash32(seed, 3) });
  const source = opts.copyDrills
    ? { segment: (i: number) => (i % 2 === 0 ? drills.segment(i >> 1) : synthetic.segment(i >> 1)) }
    : synthetic;
  return mixSegments(base, source, share, hash32(seed, 2), position?.step ?? 0);
}
