/**
 * What the commands print and write: result files (atomically), progress on a terminal, plain
 * text tables.
 */
import fs from 'fs';
import path from 'path';

import { writeJsonAtomic } from '../common/files';

/** Writes a result object as JSON to `file` (via a temp file and a rename). */
export function writeResultFile(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeJsonAtomic(file, value);
}

/** A progress line on stderr when it is a terminal (nothing otherwise). */
export function progressLine(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(`\r${label} ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

/** Formats rows as an aligned plain-text table (first row = header). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}
