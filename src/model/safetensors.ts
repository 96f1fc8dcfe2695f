/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian u64
 * header length N, N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [b, e]},
 * "__metadata__": {str: str}}`, then the data buffer (offsets relative to its start).
 *
 * Why our own parser: the npm registry has no maintained one for local files. `safetensors` is
 * a 0.0.1 placeholder, and `@huggingface/hub`'s `parseSafetensorsMetadata` fetches from the Hub
 * over HTTP, caps headers at 25 MB and checks neither overlaps, holes nor duplicate names. The
 * format is small, and files come from strangers, so every rule below is enforced before any
 * allocation proportional to a size the file claims; the native side then mmaps only the byte
 * ranges this module vouched for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describeValue, expectedMessage, InputError } from '../common/errors';
import { writeFileAtomic } from '../common/files';
import { isObject } from '../common/objects';

/** Every dtype we parse (we load only F32, F16 and BF16, but parse all of these). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** One tensor of a header; `begin`/`end` are absolute file offsets. */
export interface SafetensorsEntry { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }

/** A validated header: entries in file order, contiguous, covering the data buffer exactly. */
export interface SafetensorsHeader {
  file: string;
  /** N, the JSON header length in bytes. */
  headerBytes: number;
  /** 8 + N, where the data buffer starts. */
  dataStart: number;
  fileSize: number;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/** The spec's (and the Rust crate's) limit on N. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Thrown for any malformed checkpoint file (safetensors, config.json, shard index), sharp style:
 * `<file>: Expected <what> for <field> but received <value>`.
 */
export class ModelFileError extends InputError {
  /** The file as named in the message. */
  declare readonly file: string;

  constructor(message: string, file: string, field: string) {
    super(message, field, { file });
    this.name = 'ModelFileError';
  }
}

/** Builds a {@link ModelFileError}; `received` is already formatted (see describeValue). */
export function fileError(file: string, field: string, expected: string, received: string): ModelFileError {
  return new ModelFileError(expectedMessage(file, field, expected, received), file, field);
}

const DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];
const DTYPE_LIST = DTYPES.join(', ');

/** numel x dtype bytes, or -1 when it is not a safe integer (a hostile shape). */
function byteSize(shape: readonly number[], dtype: SafetensorsDtype): number {
  let n = DTYPE_BYTES[dtype];
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return -1;
  }
  return n;
}

/**
 * JSON.parse keeps the last of duplicate keys silently; a file whose two readers (us, HF) could
 * disagree on a tensor's offsets must be refused. Runs on text JSON.parse already accepted, so
 * it only tracks strings and brackets. Returns [containing key, duplicate key] or null.
 */
function findDuplicateKey(text: string): [string, string] | null {
  const stack: { keys: Set<string> | null; name: string }[] = [];
  let expectKey = false;
  let lastKey = 'header';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return [top.name, key];
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b) {
      stack.push({ keys: new Set(), name: stack.length === 0 ? 'header' : JSON.stringify(lastKey) });
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push({ keys: null, name: '' });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1]?.keys != null;
    }
  }
  return null;
}

function parseEntry(where: string, name: string, v: unknown, dataSize: number, dataStart: number): SafetensorsEntry {
  const f = (k: string): string => `${JSON.stringify(name)}.${k}`;
  if (!isObject(v)) throw fileError(where, JSON.stringify(name), 'an object {dtype, shape, data_offsets}', describeValue(v));
  const dtype = v.dtype;
  if (typeof dtype !== 'string' || !DTYPES.includes(dtype as SafetensorsDtype)) {
    throw fileError(where, f('dtype'), `one of ${DTYPE_LIST}`, describeValue(dtype));
  }
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    const bad = Array.isArray(shape) ? shape.find((d) => !(Number.isSafeInteger(d) && (d as number) >= 0)) : shape;
    throw fileError(where, f('shape'), 'an array of non-negative integers', Array.isArray(shape) ? `an element ${describeValue(bad)}` : describeValue(bad));
  }
  const offs = v.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw fileError(where, f('data_offsets'), 'two non-negative integers [begin, end]', Array.isArray(offs) ? `[${offs.map(describeValue).join(', ')}]` : describeValue(offs));
  }
  const [b, e] = offs as number[];
  if (b > e) throw fileError(where, f('data_offsets'), 'begin <= end', `[${b}, ${e}]`);
  if (e > dataSize) throw fileError(where, f('data_offsets'), `end <= ${dataSize} (the data size; is the file truncated?)`, `[${b}, ${e}]`);
  const bytes = byteSize(shape as number[], dtype as SafetensorsDtype);
  if (bytes !== e - b) {
    const need = bytes < 0 ? 'a size that fits in 2^53 bytes' : `${bytes} bytes (shape [${shape.join(', ')}] of ${dtype})`;
    throw fileError(where, f('data_offsets'), need, `[${b}, ${e}] (${e - b} bytes)`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), begin: dataStart + b, end: dataStart + e };
}

/**
 * Validates a header. `bytes` holds at least the first 8 + N bytes of the file (more is fine);
 * `fileSize` is the whole file's size; `where` prefixes every message. Pure, for fuzzing.
 * @throws {ModelFileError} on any rule broken (see the module comment).
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number, where: string): Omit<SafetensorsHeader, 'file'> {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw fileError(where, 'file size', 'a non-negative integer', describeValue(fileSize));
  if (fileSize < 8 || bytes.length < 8) {
    throw fileError(where, 'file size', 'at least 8 bytes (the header length)', `${Math.min(fileSize, bytes.length)} bytes`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw fileError(where, 'header length', `at most ${MAX_HEADER_BYTES} bytes`, `${n64} bytes`);
  const n = Number(n64);
  if (n > fileSize - 8) {
    throw fileError(where, 'header length', `at most ${fileSize - 8} bytes (the file size - 8; is the file truncated?)`, `${n} bytes`);
  }
  if (bytes.length < 8 + n) throw fileError(where, 'header', `${n} bytes`, `${bytes.length - 8} bytes (truncated)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw fileError(where, 'header', 'valid UTF-8', 'invalid bytes');
  }
  if (!text.startsWith('{')) throw fileError(where, 'header', 'JSON starting with "{"', describeValue(text.slice(0, 16)));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fileError(where, 'header', 'valid JSON', `a syntax error (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(json)) throw fileError(where, 'header', 'a JSON object', describeValue(json));
  const dup = findDuplicateKey(text);
  if (dup) throw fileError(where, dup[0], 'unique keys', `${JSON.stringify(dup[1])} twice`);

  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (v === null) continue;
      if (!isObject(v)) throw fileError(where, '__metadata__', 'an object of strings', describeValue(v));
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw fileError(where, `__metadata__.${JSON.stringify(k)}`, 'a string', describeValue(s));
      }
      metadata = Object.fromEntries(Object.entries(v)) as Record<string, string>;
      continue;
    }
    entries.push(parseEntry(where, name, v, dataSize, dataStart));
  }
  // The spec's "no holes": sorted by offsets, each tensor starts where the previous one ended and
  // the last one ends at the end of the file (zero-size tensors may share an offset).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const e of entries) {
    if (e.begin !== at) {
      const what = e.begin < at ? 'overlaps the previous tensor' : `leaves a gap of ${e.begin - at} bytes`;
      throw fileError(where, `${JSON.stringify(e.name)}.data_offsets`, `begin ${at - dataStart} (tensors cover the data contiguously)`, `[${e.begin - dataStart}, ${e.end - dataStart}], which ${what}`);
    }
    at = e.end;
  }
  if (at !== fileSize) {
    throw fileError(where, 'data', `${at - dataStart} bytes (the end of the last tensor)`, `${dataSize} bytes (${fileSize - at} trailing bytes)`);
  }
  return { headerBytes: n, dataStart, fileSize, entries, metadata };
}

/** Reads exactly `length` bytes at `position`, or fewer if the file ends first. */
function readFully(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const r = fs.readSync(fd, buf, got, length - got, position + got);
    if (r === 0) break;
    got += r;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Reads and validates the header of a safetensors file without reading its data: the 8-byte
 * length first, then (once the length passed the limits) exactly 8 + N bytes.
 * @param where names the file in messages (default: its base name).
 * @throws {ModelFileError} for unreadable or malformed files.
 */
export function readSafetensorsHeader(file: string, where: string = path.basename(file)): SafetensorsHeader {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new ModelFileError(`${where}: cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, where, 'file');
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw fileError(where, 'file', 'a regular file', file);
    const fileSize = stat.size;
    const head = readFully(fd, 8, 0);
    if (head.length < 8) return { file, ...parseSafetensorsHeader(head, fileSize, where) };
    const n = head.readBigUInt64LE(0);
    // Checked before allocating: parseSafetensorsHeader refuses the same lengths with the same words.
    if (n > BigInt(MAX_HEADER_BYTES) || n > BigInt(fileSize - 8)) return { file, ...parseSafetensorsHeader(head, fileSize, where) };
    const all = readFully(fd, 8 + Number(n), 0);
    return { file, ...parseSafetensorsHeader(all, fileSize, where) };
  } finally {
    fs.closeSync(fd);
  }
}

/** A tensor to lay out: name, dtype, shape. */
export interface SafetensorsTensorSpec { name: string; dtype: SafetensorsDtype; shape: number[] }

/**
 * Lays out tensors in the given order and builds the header bytes (including the 8-byte length),
 * padded with spaces so the data starts at a multiple of 8, as HF's writer does.
 * @returns the header and each tensor's [begin, end) relative to the data start.
 * @throws {TypeError} for duplicate or reserved names, unknown dtypes, bad shapes.
 */
export function buildSafetensorsHeader(
  tensors: SafetensorsTensorSpec[],
  metadata?: Record<string, string>,
): { header: Buffer; offsets: { name: string; begin: number; end: number }[] } {
  const json: Record<string, unknown> = {};
  const offsets: { name: string; begin: number; end: number }[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`Expected a string for metadata.${k} but received ${describeValue(v)}`);
    }
    json.__metadata__ = { ...metadata };
  }
  const seen = new Set<string>();
  let at = 0;
  tensors.forEach((t, i) => {
    if (typeof t.name !== 'string' || t.name === '__metadata__' || seen.has(t.name)) {
      throw new TypeError(`Expected a unique tensor name other than "__metadata__" for tensors[${i}].name but received ${describeValue(t.name)}`);
    }
    if (!DTYPES.includes(t.dtype)) throw new TypeError(`Expected one of ${DTYPE_LIST} for tensors[${i}].dtype but received ${describeValue(t.dtype)}`);
    const size = Array.isArray(t.shape) && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? byteSize(t.shape, t.dtype) : -1;
    if (size < 0) throw new TypeError(`Expected non-negative integers of safe total size for tensors[${i}].shape but received ${describeValue(t.shape)}`);
    seen.add(t.name);
    // defineProperty, not assignment: a tensor named "__proto__" must stay a plain key.
    Object.defineProperty(json, t.name, { value: { dtype: t.dtype, shape: t.shape.slice(), data_offsets: [at, at + size] }, enumerable: true });
    offsets.push({ name: t.name, begin: at, end: at + size });
    at += size;
  });
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const padded = Math.ceil(text.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  text.copy(header, 8);
  return { header, offsets };
}

/**
 * Writes a safetensors file atomically: `file.tmp` first, then a rename, so a reader never sees
 * a half-written checkpoint.
 * @throws {TypeError} when a tensor's data length does not match its shape and dtype.
 */
export function writeSafetensors(
  file: string,
  tensors: (SafetensorsTensorSpec & { data: Uint8Array })[],
  metadata?: Record<string, string>,
): void {
  const { header, offsets } = buildSafetensorsHeader(tensors, metadata);
  tensors.forEach((t, i) => {
    const want = offsets[i].end - offsets[i].begin;
    if (!(t.data instanceof Uint8Array) || t.data.byteLength !== want) {
      throw new TypeError(`Expected ${want} bytes for tensors[${i}].data (${t.name}) but received ${t.data instanceof Uint8Array ? `${t.data.byteLength} bytes` : describeValue(t.data)}`);
    }
  });
  writeFileAtomic(file, [header, ...tensors.map((t) => t.data)]);
}
