/**
 * An independent rotary reference in plain TypeScript float64 loops: no libtorch, no shared code
 * with the native kernels. Angles are the fp32 product position * invFreq (as torch and the
 * kernels compute them), everything after that in double precision.
 */
import type { HostTensor } from '../../src/native';
import type { RopeTables } from '../../src/rope/types';

/** Deterministic pseudo-random floats in [-2, 2) (mulberry32), so fixtures need no files. */
export function randomArray(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) - 0.5) * 4;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number): HostTensor {
  return { data: randomArray(shape.reduce((a, b) => a * b, 1), seed), shape };
}

/** Rotates x by the tables' angles at the given positions (inverse: by minus the angle). */
export function referenceRope(
  x: HostTensor,
  tables: RopeTables,
  positions: ArrayLike<number>,
  layout: 'half' | 'interleaved' = 'half',
  inverse = false,
): Float64Array {
  const [batch, seq, heads, headDim] = x.shape;
  const half = tables.invFreq.length;
  const out = Float64Array.from(x.data);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const pos = positions[s];
      const start = pos < tables.nHat;
      const inv = start ? tables.baseInvFreq : tables.invFreq;
      const scale = start ? 1 : tables.attentionFactor;
      for (let h = 0; h < heads; h++) {
        const base = ((b * seq + s) * heads + h) * headDim;
        for (let j = 0; j < half; j++) {
          const angle = Math.fround(pos * inv[j]);
          const c = Math.cos(angle) * scale;
          const sn = (inverse ? -Math.sin(angle) : Math.sin(angle)) * scale;
          const i1 = base + (layout === 'half' ? j : 2 * j);
          const i2 = base + (layout === 'half' ? j + half : 2 * j + 1);
          const x1 = x.data[i1];
          const x2 = x.data[i2];
          out[i1] = x1 * c - x2 * sn;
          out[i2] = x2 * c + x1 * sn;
        }
      }
    }
  }
  return out;
}

/** Largest absolute difference, and the largest difference relative to max(1, |expected|). */
export function maxErrors(actual: ArrayLike<number>, expected: ArrayLike<number>): { abs: number; rel: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= abs)) abs = Number.isNaN(d) ? Infinity : d;
    const r = d / Math.max(1, Math.abs(expected[i]));
    if (!(r <= rel)) rel = Number.isNaN(r) ? Infinity : r;
  }
  return { abs, rel };
}

/** Rounds float32 values to bfloat16 (round to nearest even), as the native cast does. */
export function roundToBf16(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const u = new Uint32Array(out.buffer);
  out.set(x);
  for (let i = 0; i < u.length; i++) {
    const lsb = (u[i] >>> 16) & 1;
    u[i] = ((u[i] + 0x7fff + lsb) >>> 16) << 16;
  }
  return out;
}
