/** The sequence-parallel NLL job shared by test/dist/sequence-parallel.test.ts and its ranks. */
import type { ForwardOptions } from '../../src/model/model';

/** A model directory, the token count and the forward options of one NLL. */
export interface NllJob {
  modelDir: string;
  length: number;
  vocabSize: number;
  options: ForwardOptions & { scoreFrom?: number };
}

/** Deterministic token ids, identical in every process. */
export function nllJobTokens(job: NllJob): Int32Array {
  return Int32Array.from({ length: job.length }, (_, i) => (i * 7919 + 13 * (i >> 3)) % job.vocabSize);
}
