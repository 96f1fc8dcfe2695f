/** A fitness with a known optimum, for testing the search loop without a model. */
import type { Fitness } from '../../src/search';

/**
 * Distance in log space to a target curve over `half` factors, plus a little for nHat; records
 * each call. With `inputs` > 1 it can be screened: `subset(k)` adds a deterministic error that
 * shrinks with k (a noisier estimate on fewer samples), and its calls are recorded with a `k:` prefix.
 */
export function fakeFitness(calls: string[], half = 16, inputs = 1, used = inputs): Fitness {
  const target = Array.from({ length: half }, (_, i) => 1 + 7 * (i / (half - 1)) ** 2);
  return {
    kind: 'ppl', callsPerEvaluation: used,
    async evaluate(spec) {
      const key = JSON.stringify([spec.nHat, spec.longFactors]);
      calls.push(used === inputs ? key : `${used}:${key}`);
      const f = spec.longFactors!;
      const exact = 2 + f.reduce((s, v, i) => s + Math.log(v / target[i]) ** 2, 0) + 0.001 * (spec.nHat ?? 0);
      let h = 0;
      for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
      return used === inputs ? exact : exact + (0.2 * ((h % 1000) / 1000 - 0.5)) / used;
    },
    ...(inputs > 1 ? { subset: (k: number) => fakeFitness(calls, half, inputs, k) } : {}),
  };
}
