// Float64 attention reference shared by the tiled (CPU) and SDPA tests.
import type { HostTensor } from '../../src/native';

/** softmax(q k^T / sqrt(d)) v with key j visible to query i iff j <= i and i - j < window. */
export function referenceAttention(q: HostTensor, k: HostTensor, v: HostTensor, window: number, offset: number): Float64Array {
  const [b, sq, h, d] = q.shape;
  const [, sk, kvh] = k.shape;
  const group = h / kvh;
  const out = new Float64Array(b * sq * h * d);
  for (let bi = 0; bi < b; bi++) {
    for (let i = 0; i < sq; i++) {
      for (let hi = 0; hi < h; hi++) {
        const kh = Math.floor(hi / group);
        const qi = ((bi * sq + i) * h + hi) * d;
        const scores: number[] = [];
        const keys: number[] = [];
        const abs = offset + i;
        for (let j = 0; j < sk; j++) {
          if (j > abs || (window > 0 && abs - j >= window)) continue;
          const kj = ((bi * sk + j) * kvh + kh) * d;
          let s = 0;
          for (let x = 0; x < d; x++) s += q.data[qi + x] * k.data[kj + x];
          scores.push(s / Math.sqrt(d));
          keys.push(j);
        }
        const m = Math.max(...scores);
        const w = scores.map((s) => Math.exp(s - m));
        const z = w.reduce((a, c) => a + c, 0);
        for (let n = 0; n < keys.length; n++) {
          const vj = ((bi * sk + keys[n]) * kvh + kh) * d;
          for (let x = 0; x < d; x++) out[qi + x] += (w[n] / z) * v.data[vj + x];
        }
      }
    }
  }
  return out;
}
