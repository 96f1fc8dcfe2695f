/** Shared helpers for the rope tests (not a test file: ava runs *.test.ts only). */

/** Distance in fp32 ulps between two values that are (or round to) fp32 numbers of the same sign. */
export function ulpDiff(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0] - i[1]);
}

/** Largest ulp distance, absolute and relative error between two equal-length lists. */
export function compare(expected: ArrayLike<number>, actual: ArrayLike<number>): { ulps: number; abs: number; rel: number } {
  let ulps = 0;
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    ulps = Math.max(ulps, ulpDiff(e, a));
    abs = Math.max(abs, Math.abs(e - a));
    rel = Math.max(rel, Math.abs(e - a) / Math.abs(e));
  }
  return { ulps, abs, rel };
}
