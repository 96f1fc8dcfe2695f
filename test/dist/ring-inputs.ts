/** Deterministic inputs of the ring attention tests, identical in the test and in every rank. */
import { lcgArray } from '../../scripts/lib/lcg';

/** Sizes of one ring attention case. */
export interface RingShape {
  batch: number;
  seq: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  tile: number;
  seed: number;
}

/** Full-sequence q [B, S, H, D], k and v [B, S, KV, D] and an upstream gradient like q. */
export function ringInputs(s: RingShape): { q: Float32Array; k: Float32Array; v: Float32Array; gradOut: Float32Array } {
  const nq = s.batch * s.seq * s.heads * s.headDim, nk = s.batch * s.seq * s.kvHeads * s.headDim;
  // Scaled so the softmax is not flat: some keys dominate, as in a trained model.
  const q = lcgArray(nq, s.seed).map((x) => 3 * x);
  return { q, k: lcgArray(nk, s.seed + 1), v: lcgArray(nk, s.seed + 2), gradOut: lcgArray(nq, s.seed + 3) };
}
