/** A fitness with a known optimum, for testing the search loop without a model. */
import type { Fitness } from '../../src/search';

/** Distance in log space to a target curve over `half` factors, plus a little for nHat; records each call. */
export function fakeFitness(calls: string[], half = 16): Fitness {
  const target = Array.from({ length: half }, (_, i) => 1 + 7 * (i / (half - 1)) ** 2);
  return {
    kind: 'ppl', callsPerEvaluation: 1,
    async evaluate(spec) {
      calls.push(JSON.stringify([spec.nHat, spec.longFactors]));
      const f = spec.longFactors!;
      return 2 + f.reduce((s, v, i) => s + Math.log(v / target[i]) ** 2, 0) + 0.001 * (spec.nHat ?? 0);
    },
  };
}
