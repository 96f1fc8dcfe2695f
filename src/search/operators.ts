/**
 * The evolutionary operators of the paper's search (section 3.2 and the public code): mutation
 * draws a factor uniformly on the grid between its neighbours, crossover takes genes of a second
 * parent; both retry until the child is new and satisfies the constraints. Every draw comes from
 * the search's seeded generator, so a search replays exactly.
 */
import type { Prng } from '../common/prng';
import { GRID, N_HAT_CHOICES, onGrid, type Individual, type SearchSpace } from './space';

/** How many tries before an operator gives up on finding a new child. */
export const MAX_TRIES = 100;

/** A uniform value on the 0.01 grid in [lo, hi]. */
function gridUniform(rng: Prng, lo: number, hi: number): number {
  const a = Math.ceil(onGrid(lo) / GRID - 1e-9);
  const b = Math.floor(onGrid(hi) / GRID + 1e-9);
  if (b <= a) return onGrid(lo);
  return rng.int(a, b) / 100;
}

/**
 * One mutation of `parent`: each searched factor with probability `p` is redrawn between its
 * neighbours (the first between 1 and its right neighbour, the last between its left neighbour
 * and maxFactor); nHat and the attention gene (when searched) likewise.
 */
export function mutateOnce(space: SearchSpace, parent: Individual, rng: Prng, p: number): Individual {
  const f = parent.factors.slice();
  const first = space.firstSearched;
  const last = f.length - 1;
  for (let i = first; i <= last; i++) {
    if (rng.next() >= p) continue;
    const lo = i === 0 ? space.minFactor : f[i - 1];
    const hi = i === last ? space.maxFactor : f[i + 1];
    f[i] = gridUniform(rng, lo, hi);
  }
  let nHat = parent.nHat;
  if (space.searchNHat && rng.next() < p) nHat = rng.pick(N_HAT_CHOICES);
  let attention = parent.attention;
  if (space.attentionRange && rng.next() < p) attention = gridUniform(rng, space.attentionRange[0], space.attentionRange[1]);
  return space.complete({ nHat, factors: f, attention });
}

/** A mutation of `parent` not in `seen` (retrying); null when none was found in MAX_TRIES. */
export function mutate(space: SearchSpace, parent: Individual, rng: Prng, p: number, seen: Set<string>): Individual | null {
  for (let t = 0; t < MAX_TRIES; t++) {
    const child = mutateOnce(space, parent, rng, p);
    if (space.valid(child) && !seen.has(space.key(child))) return child;
  }
  return null;
}

/**
 * Crossover: start from parent 1; each gene, with probability p, takes parent 2's value with
 * probability 1/2 (p/2 per gene: 0.15 at the paper's p = 0.3, LongRoPE2's crossover rate).
 * Accepted when new and valid (up to 20 passes); else a mutation of parent 1, as the reference does.
 */
export function crossover(space: SearchSpace, a: Individual, b: Individual, rng: Prng, p: number, seen: Set<string>): Individual | null {
  for (let pass = 0; pass < 20; pass++) {
    const take = () => rng.next() < p && rng.next() < 0.5;
    const f = a.factors.map((v, i) => (i >= space.firstSearched && take() ? b.factors[i] : v));
    const child = space.complete({
      nHat: space.searchNHat && take() ? b.nHat : a.nHat,
      factors: f,
      attention: space.attentionRange && take() ? b.attention : a.attention,
    });
    if (space.valid(child) && !seen.has(space.key(child))) return child;
  }
  return mutate(space, a, rng, p, seen);
}
