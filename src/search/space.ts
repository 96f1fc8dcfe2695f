/**
 * The search space of LongRoPE (paper section 3.2; LongRoPE2's options beside it): an individual
 * is [nHat, lambda_0 .. lambda_{d/2-1}] plus, optionally, the attention factor. Factors live on
 * a 0.01 grid, are >= 1, non-decreasing in i and at most `maxFactor`. With a critical dimension
 * cd only lambda_cd .. lambda_{d/2-1} are searched; below cd they follow lambda_i =
 * lambda_cd^(i/cd), an NTK-shaped curve ending at lambda_cd (LongRoPE2).
 */
import { inputError, describeValue } from '../common/errors';
import { checkSearchConstraints } from '../rope/factor-checks';
import { ropeAttentionFactor } from '../rope/methods';
import type { RopeSpec } from '../rope/types';

/** The start-token counts the paper draws nHat from. */
export const N_HAT_CHOICES: readonly number[] = Object.freeze([0, 1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 64, 128, 256]);

/** Factors are searched on this grid (the reference code's step). */
export const GRID = 0.01;

/** One candidate. `factors` has d/2 entries (the full list, derived dims included). */
export interface Individual {
  nHat: number;
  factors: number[];
  /** Multiplies cos and sin; null: LongRoPE's default sqrt(1 + ln s / ln L). */
  attention: number | null;
}

/** What is searched and within which bounds. */
export interface SpaceOptions {
  /** The model's RoPE (rotary dims, base, original window L). */
  base: RopeSpec;
  /** Target length N (the spec's `length`); s = N / L. */
  targetLength: number;
  /** Upper bound of every factor (default 1 + s, the reference code's bound on the last factor). */
  maxFactor?: number;
  /** Search nHat (default true, the paper); false keeps it at 0 (LongRoPE2). */
  searchNHat?: boolean;
  /** Search the attention factor in [minAttention, maxAttention] (default false). */
  searchAttention?: boolean;
  minAttention?: number;
  maxAttention?: number;
  /** Critical dimension (pair index): search only dims >= cd; null searches all (the paper). */
  criticalDim?: number | null;
  /**
   * 'long' (default): the factors are the long factors (positions beyond L). 'short': a search
   * at the original window for the short factors (short-context recovery); `longFactors` are kept.
   */
  role?: 'long' | 'short';
  /** With role 'short': the long factors (and nHat, attention) the exported spec carries. */
  longSpec?: RopeSpec;
}

/** The theoretical critical dimension (LongRoPE2's code default): ceil((d/2) log_base(L / 2pi)) - 1. */
export function theoreticalCriticalDim(spec: RopeSpec): number {
  const half = spec.headDim / 2;
  const cd = Math.ceil(half * (Math.log(spec.originalLength / (2 * Math.PI)) / Math.log(spec.base))) - 1;
  return Math.min(half - 1, Math.max(0, cd));
}

/** Rounds to the 0.01 grid (in float64, so keys compare exactly). */
export function onGrid(v: number): number {
  return Math.round(v / GRID) / 100;
}

/** The search space with its bounds resolved and checked. */
export class SearchSpace {
  readonly half: number;
  readonly scale: number;
  readonly maxFactor: number;
  readonly minFactor: number;
  readonly criticalDim: number | null;
  readonly searchNHat: boolean;
  readonly attentionRange: [number, number] | null;
  readonly role: 'long' | 'short';

  constructor(readonly options: SpaceOptions) {
    const { base, targetLength } = options;
    this.half = base.headDim / 2;
    this.role = options.role ?? 'long';
    if (!Number.isInteger(targetLength) || targetLength < 2) throw inputError(undefined, 'targetLength', 'an integer >= 2', describeValue(targetLength));
    if (this.role === 'long' && targetLength <= base.originalLength) {
      throw inputError(undefined, 'targetLength', `a length above the original window ${base.originalLength}`, describeValue(targetLength));
    }
    if (this.role === 'short' && targetLength > base.originalLength) {
      throw inputError(undefined, 'targetLength', `a length up to the original window ${base.originalLength} for a short-factor search`, describeValue(targetLength));
    }
    this.scale = targetLength / base.originalLength;
    this.minFactor = 1;
    this.maxFactor = options.maxFactor ?? onGrid(1 + Math.max(this.scale, 1));
    if (!(Number.isFinite(this.maxFactor) && this.maxFactor >= 1)) throw inputError(undefined, 'maxFactor', 'a finite number >= 1', describeValue(options.maxFactor));
    const cd = options.criticalDim ?? null;
    if (cd !== null && !(Number.isInteger(cd) && cd >= 1 && cd < this.half)) {
      throw inputError(undefined, 'criticalDim', `an integer in [1, ${this.half - 1}] (a pair index below d/2 = ${this.half})`, describeValue(cd));
    }
    this.criticalDim = cd;
    this.searchNHat = options.searchNHat ?? true;
    if (options.searchAttention) {
      const lo = options.minAttention ?? 1;
      const hi = options.maxAttention ?? 1.5;
      if (!(lo > 0 && hi >= lo)) throw inputError(undefined, 'attention range', 'minAttention > 0 and maxAttention >= minAttention', `[${lo}, ${hi}]`);
      this.attentionRange = [lo, hi];
    } else {
      this.attentionRange = null;
    }
  }

  /** First searched dim (0, or the critical dim). */
  get firstSearched(): number {
    return this.criticalDim ?? 0;
  }

  /** Applies the derived (below cd) dims and the grid; returns the complete individual. */
  complete(ind: Individual): Individual {
    const factors = ind.factors.map(onGrid);
    const cd = this.criticalDim;
    if (cd !== null) {
      const top = factors[cd];
      for (let i = 0; i < cd; i++) factors[i] = Math.pow(top, i / cd);
    }
    return { nHat: this.searchNHat ? ind.nHat : 0, factors, attention: this.attentionRange ? onGrid(ind.attention ?? 1) : null };
  }

  /** Whether `ind` satisfies the constraints: 1 <= lambda non-decreasing <= maxFactor, genes in range. */
  valid(ind: Individual): boolean {
    const f = ind.factors;
    if (f.length !== this.half) return false;
    for (let i = 0; i < f.length; i++) {
      if (!(f[i] >= this.minFactor - 1e-12 && f[i] <= this.maxFactor + 1e-12)) return false;
      if (i > 0 && f[i] < f[i - 1] - 1e-12) return false;
    }
    if (!N_HAT_CHOICES.includes(ind.nHat)) return false;
    if (this.attentionRange) {
      const a = ind.attention;
      if (a === null || a < this.attentionRange[0] - 1e-12 || a > this.attentionRange[1] + 1e-12) return false;
    }
    return true;
  }

  /** A stable identity: the searched genes on the grid (duplicates are never evaluated twice). */
  key(ind: Individual): string {
    const searched = ind.factors.slice(this.firstSearched).map((v) => Math.round(v * 100));
    return `${ind.nHat}|${ind.attention === null ? '-' : Math.round(ind.attention * 100)}|${searched.join(',')}`;
  }

  /** The RopeSpec that evaluates `ind` at the target length. */
  spec(ind: Individual): RopeSpec {
    const { base, targetLength } = this.options;
    const common = { method: 'longrope' as const, headDim: base.headDim, base: base.base, originalLength: base.originalLength };
    if (this.role === 'short') {
      const long = this.options.longSpec;
      return {
        ...common, length: long?.length ?? targetLength,
        longFactors: long?.longFactors ?? ind.factors, shortFactors: ind.factors,
        nHat: long?.nHat ?? 0,
        ...(long?.attentionFactor !== undefined ? { attentionFactor: long.attentionFactor } : {}),
      };
    }
    return {
      ...common, length: targetLength, longFactors: ind.factors, nHat: ind.nHat,
      ...(ind.attention !== null ? { attentionFactor: ind.attention } : {}),
    };
  }

  /** LongRoPE's default attention factor at this scale (used when the attention gene is off). */
  get defaultAttention(): number {
    return ropeAttentionFactor({ ...this.options.base, method: 'longrope', length: this.options.targetLength, longFactors: new Array(this.half).fill(1) });
  }

  /** Checks a user-given individual (e.g. a --init spec), naming the offending factor. */
  check(ind: Individual, field: string): void {
    checkSearchConstraints(ind.factors, field);
    if (!this.valid(ind)) throw inputError(undefined, field, `factors in [1, ${this.maxFactor}] and nHat in {${N_HAT_CHOICES.join(',')}}`, describeValue(ind.factors));
  }
}
