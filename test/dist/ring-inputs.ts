/** Deterministic inputs of the ring attention tests, identical in the test and in every rank. */

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

/** A small linear congruential generator: values in [-1, 1), the same on every platform. */
function fill(n: number, seed: number): Float32Array {
  let x = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}

/** Full-sequence q [B, S, H, D], k and v [B, S, KV, D] and an upstream gradient like q. */
export function ringInputs(s: RingShape): { q: Float32Array; k: Float32Array; v: Float32Array; gradOut: Float32Array } {
  const nq = s.batch * s.seq * s.heads * s.headDim, nk = s.batch * s.seq * s.kvHeads * s.headDim;
  // Scaled so the softmax is not flat: some keys dominate, as in a trained model.
  const q = fill(nq, s.seed).map((x) => 3 * x);
  return { q, k: fill(nk, s.seed + 1), v: fill(nk, s.seed + 2), gradOut: fill(nq, s.seed + 3) };
}
