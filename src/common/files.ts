/**
 * The file operations every area needs: an atomic write (a reader never sees half a file, a kill
 * leaves the old file or the new one) and a bounded JSON reader with the error grammar.
 */
import fs from 'fs';
import path from 'path';

import { InputError, inputError } from './errors';

/** The largest JSON file we parse (config.json, tokenizer.json, result and state files). */
export const MAX_JSON_BYTES = 64 << 20;

/**
 * Writes `data` (one piece or several, in order) to `file` through a temp file in the same
 * folder, synced, then renamed over `file`. The temp file is removed when the write fails, so
 * nothing half-written is left behind.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Uint8Array[]): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const pieces = typeof data === 'string' ? [Buffer.from(data)] : Array.isArray(data) ? data : [data];
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const piece of pieces) {
        let done = 0;
        while (done < piece.byteLength) done += fs.writeSync(fd, piece, done, piece.byteLength - done);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** {@link writeFileAtomic} of `value` as indented JSON with a final newline. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** How {@link readJsonFile} names and builds its errors. */
export interface ReadJsonOptions {
  /** The file as messages name it (default its base name). */
  where?: string;
  /** Largest size accepted (default {@link MAX_JSON_BYTES}). */
  maxBytes?: number;
  /** Builds the area's error from a message and the field (default an {@link InputError}). */
  error?: (message: string, field: string) => Error;
}

/**
 * Reads and parses a JSON file of bounded size; `undefined` when it does not exist. Every other
 * problem (not a regular file, too large, unreadable, a syntax error) throws an error naming it.
 */
export function readJsonFile(file: string, options: ReadJsonOptions = {}): unknown {
  const where = options.where ?? path.basename(file);
  const maxBytes = options.maxBytes ?? MAX_JSON_BYTES;
  const make = options.error ?? ((message: string, field: string) => new InputError(message, field, { file: where }));
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return raise(make, `${where}: Expected a regular file for file but received ${file}`, 'file');
    if (stat.size > maxBytes) return raise(make, `${where}: Expected at most ${maxBytes} bytes for file size but received ${stat.size} bytes`, 'file size');
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === undefined) throw e;
    return raise(make, `${where}: cannot read ${file} (${code})`, 'file');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return raise(make, `${where}: Expected valid JSON for ${where} but received a syntax error (${e instanceof Error ? e.message : String(e)})`, where);
  }
}

function raise(make: (message: string, field: string) => Error, message: string, field: string): never {
  throw make(message, field);
}

/** Kernel file systems: writing there is never meant, and Node's recursive mkdir loops on them. */
const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys', '/dev'];

function under(p: string, root: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/**
 * Checks, before any work starts, that `target` can be created as a file (`kind` 'file') or a
 * directory ('dir'): not an existing entry of the other kind, on a real file system, below
 * folders that exist or can be made and are writable. Throws an {@link InputError} naming `field`.
 */
export function checkOutputPath(target: string, field: string, kind: 'file' | 'dir'): void {
  const abs = path.resolve(target);
  let ancestor = abs;
  while (!fs.existsSync(ancestor)) ancestor = path.dirname(ancestor);
  const real = fs.realpathSync(ancestor);
  if (PSEUDO_FILE_SYSTEMS.some((root) => under(real, root))) {
    throw inputError(undefined, field, 'a path on a regular file system', `${JSON.stringify(target)} (under ${real})`);
  }
  const stat = fs.statSync(ancestor);
  if (ancestor === abs) {
    if (kind === 'file' && stat.isDirectory()) throw inputError(undefined, field, 'a file path', `${JSON.stringify(target)}, which is a directory`);
    if (kind === 'dir' && !stat.isDirectory()) throw inputError(undefined, field, 'a directory path', `${JSON.stringify(target)}, which is a file`);
  } else if (!stat.isDirectory()) {
    throw inputError(undefined, field, 'a path whose parents are directories', `${JSON.stringify(target)} (${ancestor} is a file)`);
  }
  const folder = ancestor === abs && kind === 'file' ? path.dirname(abs) : stat.isDirectory() ? ancestor : path.dirname(ancestor);
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch {
    throw inputError(undefined, field, 'a path in a writable folder', `${JSON.stringify(target)} (${folder} is not writable)`);
  }
}

/** {@link checkOutputPath} for a file. */
export function checkOutputFile(file: string, field: string): void {
  checkOutputPath(file, field, 'file');
}
