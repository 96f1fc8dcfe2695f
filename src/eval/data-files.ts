/**
 * Reading the benchmark tasks' data files (ARC, HellaSwag, MMLU, TruthfulQA) with errors that
 * point at the line: every problem is reported as `file:line: Expected <what> but received
 * <value>`, never as a silent zero or a skipped row. Parsers for JSONL, a JSON array (with each
 * element's line) and RFC 4180 CSV. (Perplexity documents are read by src/data/readers.ts.)
 */
import fs from 'fs';

import { describeValue, expectedMessage, InputError } from '../common/errors';

/** A malformed evaluation data file; the message names file and line. */
export class DataFileError extends InputError {
  declare readonly file: string;
  declare readonly line: number;

  constructor(message: string, file: string, line: number) {
    super(message, '', { file, line });
    this.name = 'DataFileError';
  }
}

/** `file:line: Expected <expected> for <field> but received <value described>`. */
export function dataError(file: string, line: number, field: string, expected: string, value: unknown): DataFileError {
  return new DataFileError(expectedMessage(`${file}:${line}`, field, expected, describeValue(value)), file, line);
}

/** Reads a whole text file; a missing or unreadable file is a DataFileError at line 0. */
export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new DataFileError(`${file}: cannot read the file (${code})`, file, 0);
  }
}

/** One parsed record and the 1-based line it starts on. */
export interface LineRecord<T = unknown> {
  value: T;
  line: number;
}

/** Parses JSONL: one JSON value per non-blank line. */
export function parseJsonl(text: string, file: string): LineRecord[] {
  const out: LineRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    try {
      out.push({ value: JSON.parse(raw), line: i + 1 });
    } catch (e) {
      throw new DataFileError(`${file}:${i + 1}: Expected a JSON value on each line but received invalid JSON (${(e as Error).message})`, file, i + 1);
    }
  }
  return out;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Start offsets of the elements of a top-level JSON array (text already known to parse). */
function arrayElementOffsets(text: string): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
    if (depth === 1 && expectValue && c !== ']') {
      offsets.push(i);
      expectValue = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1 && c === '[') expectValue = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectValue = true;
  }
  return offsets;
}

/** Parses a JSON file whose top level is an array, returning each element with its line. */
export function parseJsonArray(text: string, file: string): LineRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? lineAt(text, Number(m[1])) : 1;
    throw new DataFileError(`${file}:${line}: Expected valid JSON but received a syntax error (${(e as Error).message})`, file, line);
  }
  if (!Array.isArray(value)) throw dataError(file, 1, 'the top level', 'a JSON array', value);
  const offsets = arrayElementOffsets(text);
  return value.map((v, i) => ({ value: v, line: offsets[i] === undefined ? 1 : lineAt(text, offsets[i]) }));
}

/**
 * Parses RFC 4180 CSV (quoted fields may hold commas, quotes as "" and newlines). Returns rows
 * with the line each starts on; a trailing newline does not make an empty row.
 */
export function parseCsv(text: string, file: string): LineRecord<string[]>[] {
  const rows: LineRecord<string[]>[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let fieldStarted = false;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '' && !fieldStarted)) rows.push({ value: row, line: rowLine });
    row = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new DataFileError(`${file}:${rowLine}: Expected a closing quote but received the end of the file`, file, rowLine);
  if (field !== '' || row.length > 0 || fieldStarted) endRow();
  return rows;
}
