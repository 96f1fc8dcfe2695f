/**
 * Deterministic float32 inputs for benchmarks and tests: a 32-bit linear congruential generator
 * (Numerical Recipes' constants), values in [-1, 1), the same on every platform and in every rank.
 */
export function lcgArray(n: number, seed: number): Float32Array {
  let x = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}
