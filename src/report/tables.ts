/**
 * Method x length (and method x task) tables from result files, as data and as Markdown.
 * Results with the same method label are merged; two values for one cell are an error.
 */
import type { ResultFile } from './results';

/** Rows = methods (first-seen order), columns = keys (sorted lengths or tasks), cells may be missing. */
export interface Grid<K extends string | number> {
  methods: string[];
  columns: K[];
  /** cells[method][column]. */
  cells: Map<string, Map<K, number>>;
}

function addCell<K extends string | number>(grid: Grid<K>, method: string, column: K, value: number, file: string): void {
  if (!grid.cells.has(method)) {
    grid.methods.push(method);
    grid.cells.set(method, new Map());
  }
  const row = grid.cells.get(method)!;
  if (row.has(column)) throw new Error(`${file}: Expected one result per method and column but received a second for "${method}" at ${column}`);
  row.set(column, value);
  if (!grid.columns.includes(column)) grid.columns.push(column);
}

const emptyGrid = <K extends string | number>(): Grid<K> => ({ methods: [], columns: [], cells: new Map() });

/** Perplexity by method and length. */
export function pplGrid(files: ResultFile[]): Grid<number> {
  const g = emptyGrid<number>();
  for (const f of files) if (f.kind === 'perplexity') for (const r of f.results) addCell(g, f.method, r.length, r.ppl, f.file);
  g.columns.sort((a, b) => a - b);
  return g;
}

/** Passkey accuracy (0..1) by method and length. */
export function passkeyGrid(files: ResultFile[]): Grid<number> {
  const g = emptyGrid<number>();
  for (const f of files) if (f.kind === 'passkey') for (const r of f.results) addCell(g, f.method, r.length, r.accuracy, f.file);
  g.columns.sort((a, b) => a - b);
  return g;
}

/** The metric the Open LLM Leaderboard (v1) reports per task: acc_norm for ARC and HellaSwag, mc2 for TruthfulQA, else acc. */
export function headlineMetric(task: string): string {
  if (task === 'arc_challenge' || task === 'hellaswag') return 'acc_norm';
  if (task === 'truthfulqa_mc2') return 'mc2';
  return 'acc';
}

/** Benchmark headline metrics by method and task (columns `task (metric)` in first-seen order). */
export function tasksGrid(files: ResultFile[]): Grid<string> {
  const g = emptyGrid<string>();
  for (const f of files) {
    if (f.kind !== 'tasks') continue;
    for (const r of f.results) {
      const m = headlineMetric(r.task);
      addCell(g, f.method, `${r.task} (${m})`, r.metrics[m] ?? NaN, f.file);
    }
  }
  return g;
}

/** 4096 -> "4k", 1536 -> "1536". */
export function lengthLabel(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : String(n);
}

/** Perplexity to 2 decimals, or 3 significant digits in exponent form from 10^4 on. */
export function formatPpl(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  return v >= 1e4 ? v.toExponential(2) : v.toFixed(2);
}

/** A Markdown table of a grid; `fmt` formats cells, `label` column headers. */
export function markdownTable<K extends string | number>(grid: Grid<K>, fmt: (v: number | undefined) => string, label: (k: K) => string = String): string {
  const header = ['method', ...grid.columns.map(label)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const m of grid.methods) {
    const row = grid.cells.get(m)!;
    lines.push(`| ${[m.replace(/\|/g, '\\|'), ...grid.columns.map((c) => fmt(row.get(c)))].join(' | ')} |`);
  }
  return lines.join('\n');
}
