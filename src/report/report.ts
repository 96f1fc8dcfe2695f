/**
 * `report.md` with tables and plots from result files: perplexity (method x length, and a
 * log-scale plot), passkey accuracy (method x length, and a plot), benchmark headline metrics.
 * Plots are written as SVG and PNG next to the Markdown.
 */
import fs from 'fs';
import path from 'path';

import { writeFileAtomic } from '../common/files';
import { passkeyPlotSpec, pplPlotSpec, writeFigure } from './plots';
import { readResultFile, type ResultFile } from './results';
import { formatPpl, lengthLabel, markdownTable, passkeyGrid, pplGrid, tasksGrid } from './tables';

/** What {@link writeReport} wrote. */
export interface ReportOutput {
  /** report.md's path. */
  markdown: string;
  /** SVG and PNG files written (absolute paths). */
  plots: string[];
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${Math.round(v * 100)}%`);
const fixed4 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(4));

/** The Markdown of a report over `files`; plots are referenced as `<name>.svg` / `<name>.png`. */
export function reportMarkdown(files: ResultFile[], plots: { ppl: boolean; passkey: boolean }): string {
  const out: string[] = ['# Evaluation report', '', 'Result files:', ''];
  for (const f of files) out.push(`- \`${f.file}\`: ${f.kind}, method "${f.method}"${f.kind === 'perplexity' ? `, ${f.protocol}` : ''}`);
  const ppl = pplGrid(files);
  if (ppl.methods.length > 0) {
    out.push('', '## Perplexity', '', 'Rows are methods, columns evaluation lengths (each file\'s window protocol is listed above).', '');
    out.push(markdownTable(ppl, formatPpl, lengthLabel));
    if (plots.ppl) out.push('', '![Perplexity vs context length](ppl.svg)', '', '[PNG](ppl.png)');
  }
  const pk = passkeyGrid(files);
  if (pk.methods.length > 0) {
    out.push('', '## Passkey retrieval', '', 'Accuracy over the trials at each prompt length.', '');
    out.push(markdownTable(pk, pct, lengthLabel));
    if (plots.passkey) out.push('', '![Passkey retrieval accuracy](passkey.svg)', '', '[PNG](passkey.png)');
  }
  const tasks = tasksGrid(files);
  if (tasks.methods.length > 0) {
    out.push('', '## Benchmarks', '', 'Open LLM Leaderboard metrics (lm-evaluation-harness scoring).', '');
    out.push(markdownTable(tasks, fixed4));
  }
  return out.join('\n') + '\n';
}

/**
 * Reads the result files and writes `outDir/report.md`, plus ppl.{svg,png} and
 * passkey.{svg,png} when there are perplexity / passkey results.
 */
export async function writeReport(resultFiles: string[], outDir: string): Promise<ReportOutput> {
  if (resultFiles.length === 0) throw new Error('Expected at least one result file but received none');
  const files = resultFiles.map(readResultFile);
  fs.mkdirSync(outDir, { recursive: true });
  const plots: string[] = [];
  const write = async (name: string, spec: Parameters<typeof writeFigure>[0]) => {
    plots.push(...(await writeFigure(spec, path.resolve(outDir, name))));
  };
  const ppl = pplGrid(files);
  const pk = passkeyGrid(files);
  const hasPpl = ppl.methods.some((m) => [...ppl.cells.get(m)!.values()].some(Number.isFinite));
  const methods = [...new Set(files.map((f) => f.method))];
  if (hasPpl) await write('ppl', pplPlotSpec(ppl, methods.filter((m) => ppl.cells.has(m) || pk.cells.has(m))));
  if (pk.methods.length > 0) await write('passkey', passkeyPlotSpec(pk, methods.filter((m) => ppl.cells.has(m) || pk.cells.has(m))));
  const markdown = path.resolve(outDir, 'report.md');
  writeFileAtomic(markdown, reportMarkdown(files, { ppl: hasPpl, passkey: pk.methods.length > 0 }));
  return { markdown, plots };
}
