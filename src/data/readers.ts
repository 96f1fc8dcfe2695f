/**
 * The user's own text, streamed: plain text, JSONL and Parquet files, or folders of them.
 * Nothing here holds more than one document (or one Parquet row group) at a time, so a corpus
 * of any size can feed `packSegments` / `StreamingSegments`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { isUtf8 } from 'node:buffer';

import { readParquet } from './parquet';
import { dataError, describeValue, type Document } from './types';

/** How user files are read. */
export interface ReadOptions {
  /** JSONL key / Parquet column holding the text (`--text-field`); default `text`. */
  textField?: string;
  /** Plain text: one document per blank-line-separated block instead of one per file. */
  splitOnBlankLines?: boolean;
}

/** A plain text file is one document, held as one string: V8 caps strings at ~512M UTF-16 units. */
export const MAX_DOCUMENT_BYTES = 500_000_000;

/** Extensions we read, by kind. */
export const TEXT_EXTENSIONS: readonly string[] = Object.freeze(['.txt', '.text', '.md']);
export const JSONL_EXTENSIONS: readonly string[] = Object.freeze(['.jsonl', '.ndjson']);
export const PARQUET_EXTENSIONS: readonly string[] = Object.freeze(['.parquet']);
const ALL = [...TEXT_EXTENSIONS, ...JSONL_EXTENSIONS, ...PARQUET_EXTENSIONS];

const kindOf = (file: string): 'text' | 'jsonl' | 'parquet' | undefined => {
  const ext = path.extname(file).toLowerCase();
  if (TEXT_EXTENSIONS.includes(ext)) return 'text';
  if (JSONL_EXTENSIONS.includes(ext)) return 'jsonl';
  if (PARQUET_EXTENSIONS.includes(ext)) return 'parquet';
  return undefined;
};

/** The file's lines (a UTF-8 BOM dropped); the stream is closed however the reader stops. */
async function* lines(file: string): AsyncGenerator<string> {
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of rl) {
      yield first ? line.replace(/^\uFEFF/, '') : line;
      first = false;
    }
  } finally {
    rl.close();
    input.destroy();
  }
}

/**
 * A plain text file: the whole file as one document (id = the path; a document has to be one
 * string anyway), or with `splitOnBlankLines` each block of non-blank lines (id `<path>#<n>`,
 * from 0), streamed line by line. Blank documents are skipped.
 */
export async function* readText(file: string, opts: ReadOptions = {}): AsyncGenerator<Document> {
  if (!opts.splitOnBlankLines) {
    const size = (await fs.promises.stat(file)).size;
    if (size > MAX_DOCUMENT_BYTES) {
      throw dataError(file, 'file size', `at most ${MAX_DOCUMENT_BYTES} bytes for a plain text file (one document is one string)`,
        `${size} bytes; split it into several files or convert it to JSONL`);
    }
    const raw = await fs.promises.readFile(file);
    const text = raw.toString('utf8').replace(/^\uFEFF/, '');
    if (text.trim() === '') return;
    yield isUtf8(raw) ? { id: file, source: 'file', text } : { id: file, source: 'file', text, bytes: raw };
    return;
  }
  let block: string[] = [];
  let n = 0;
  const flush = (): Document | undefined => {
    const doc = block.length > 0 ? { id: `${file}#${n++}`, source: 'file' as const, text: block.join('\n') } : undefined;
    block = [];
    return doc;
  };
  for await (const line of lines(file)) {
    if (line.trim() === '') {
      const doc = flush();
      if (doc) yield doc;
    } else {
      block.push(line);
    }
  }
  const doc = flush();
  if (doc) yield doc;
}

/**
 * A JSONL file: one JSON object per line, the text under `textField` (id `<path>:<line>`,
 * 1-based). Blank lines and empty texts are skipped; anything else wrong is a DataError
 * starting `<path>:<line>: `.
 */
export async function* readJsonl(file: string, opts: ReadOptions = {}): AsyncGenerator<Document> {
  const field = opts.textField ?? 'text';
  let lineNo = 0;
  for await (const line of lines(file)) {
    lineNo++;
    if (line.trim() === '') continue;
    const where = `${file}:${lineNo}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw dataError(where, `line ${lineNo}`, 'a JSON object', `invalid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw dataError(where, `line ${lineNo}`, 'a JSON object', describeValue(value));
    const text = (value as Record<string, unknown>)[field];
    if (typeof text !== 'string') throw dataError(where, field, 'a string', describeValue(text));
    if (text !== '') yield { id: where, source: 'file', text };
  }
}

/** Files under `dir` we can read, recursively, in sorted order (a stable document order). */
function listDir(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listDir(full));
    else if (kindOf(entry.name)) out.push(full);
  }
  return out;
}

/** The files under one path argument: itself, or a folder's readable files (see {@link listDir}). */
function filesOf(p: unknown): string[] {
  if (typeof p !== 'string') throw dataError(undefined, 'paths', 'an array of file paths', `an element ${describeValue(p)}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw dataError(undefined, 'path', 'an existing file or folder', describeValue(p));
  }
  return stat.isDirectory() ? listDir(p) : [p];
}

const unknownKind = (file: string) => dataError(undefined, 'path', `a file ending in ${ALL.join(', ')}`, describeValue(file));

/**
 * The files {@link readDocuments} reads for `paths`, in its order, each checked to exist, to have
 * an extension we read and to be readable. A long job calls this first, so that a bad path fails
 * it before it starts rather than when the reading reaches that file.
 * @throws {DataError} as `readDocuments` does, and for a file this process may not read.
 */
export function listDataFiles(paths: readonly string[]): string[] {
  if (!Array.isArray(paths)) throw dataError(undefined, 'paths', 'an array of file paths', describeValue(paths));
  const files = paths.flatMap(filesOf);
  for (const file of files) {
    if (!kindOf(file)) throw unknownKind(file);
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      throw dataError(undefined, 'path', 'a readable file', `${describeValue(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  return files;
}

/**
 * Documents from files and folders, in the order given (a folder: its readable files, sorted,
 * recursively). Dispatch by extension: .txt/.text/.md plain text, .jsonl/.ndjson JSONL,
 * .parquet Parquet (see `readParquet`). Calling it again gives the same documents in the same
 * order, as `StreamingSegments` needs.
 * @throws {DataError} for a path that does not exist or has another extension.
 */
export async function* readDocuments(paths: readonly string[], opts: ReadOptions = {}): AsyncGenerator<Document> {
  if (!Array.isArray(paths)) throw dataError(undefined, 'paths', 'an array of file paths', describeValue(paths));
  for (const p of paths) {
    for (const file of filesOf(p)) {
      const kind = kindOf(file);
      if (kind === 'text') yield* readText(file, opts);
      else if (kind === 'jsonl') yield* readJsonl(file, opts);
      else if (kind === 'parquet') yield* readParquet(file, { textField: opts.textField });
      else throw unknownKind(file);
    }
  }
}
