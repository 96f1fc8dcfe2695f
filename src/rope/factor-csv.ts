/**
 * The LongRoPE reference code's factor files: one factor per line (d/2 lines), or per layer,
 * one line per layer with d/2 comma-separated factors. Numbers may be in numpy's `%.18e` form.
 */
import { describeValue, ropeError } from './errors';

/** Options for {@link parseFactorCsv}. */
export interface ParseFactorCsvOptions {
  /** Rotary dims d; every factor list has d/2 entries. */
  headDim: number;
  /** Message prefix, e.g. the file name. */
  where?: string;
}

// A plain decimal or exponent literal: Number() alone would also take '', '0x1f' and 'Infinity'.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a factor file. Returns number[] for the one-per-line form and number[][] (layers x d/2)
 * for the per-layer form; a single line of d/2 comma-separated factors is a one-layer file.
 * Blank lines and lines starting with `#` are skipped. Throws RopeSpecError naming the line
 * (and column) of a bad entry, or the expected and received counts.
 */
export function parseFactorCsv(text: string, opts: ParseFactorCsvOptions): number[] | number[][] {
  const { headDim, where } = opts;
  if (typeof text !== 'string') throw ropeError(where, 'factor file', 'a string', describeValue(text));
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw ropeError(where, 'headDim', 'an even integer >= 2', describeValue(headDim));
  }
  const half = headDim / 2;
  const rows: { line: number; cells: string[] }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    rows.push({ line: i + 1, cells: trimmed.split(',').map((c) => c.trim()) });
  });
  const cellField = (line: number, j: number, n: number): string => (n > 1 ? `line ${line}, column ${j + 1}` : `line ${line}`);
  const expected = 'a finite number greater than 0';
  // Syntax first, then shape, then range: a dim_mono_n file's leading n_hat of 0 should get
  // the shape hint below, not a complaint about a zero factor.
  const parsed = rows.map(({ line, cells }) =>
    cells.map((cell, j) => {
      const value = NUMBER.test(cell) ? Number(cell) : NaN;
      if (!Number.isFinite(value)) {
        throw ropeError(where, cellField(line, j, cells.length), expected, describeValue(NUMBER.test(cell) ? value : cell));
      }
      return value;
    }),
  );
  const checkPositive = <T extends number[] | number[][]>(result: T): T => {
    parsed.forEach((r, k) =>
      r.forEach((v, j) => {
        if (v <= 0) throw ropeError(where, cellField(rows[k].line, j, r.length), expected, describeValue(v));
      }),
    );
    return result;
  };

  const single = parsed.every((r) => r.length === 1);
  if (single && parsed.length === half) return checkPositive(parsed.map((r) => r[0]));
  if (parsed.length > 0 && parsed.every((r) => r.length === half)) return checkPositive(parsed);
  if (single) {
    // The reference search's dim_mono_n files put n_hat on the first line, before the factors.
    const hint = parsed.length === half + 1 ? ' (a leading n_hat line, as dim_mono_n files have, must be removed)' : '';
    throw ropeError(where, 'factor file', `${half} lines of one factor each (headDim / 2)`, `${parsed.length} lines${hint}`);
  }
  const bad = rows[parsed.findIndex((r) => r.length !== half)];
  throw ropeError(
    where,
    `line ${bad.line}`,
    `${half} comma-separated factors (headDim / 2) per layer line`,
    `${bad.cells.length} factors`,
  );
}

/**
 * Formats factors as the reference code's file: one per line, or one comma-separated line per
 * layer. Numbers are written in JavaScript's shortest round-trip form, so parsing the text
 * gives back the same doubles.
 */
export function formatFactorCsv(factors: number[] | number[][]): string {
  const lines = factors.map((row) => (Array.isArray(row) ? row.map((v) => String(v)).join(',') : String(row)));
  return lines.join('\n') + '\n';
}
