/**
 * Parquet text columns, read a row group at a time. Library: `hyparquet` (MIT, pure JS, no
 * dependencies, actively maintained by Hyperparam, ~400k downloads a month). It reads the footer
 * first and then only the byte ranges of the requested column in the requested rows, through
 * an `AsyncBuffer` we back with a file handle, so a multi-GB dataset never sits in memory: one
 * row group's text column does. Alternatives were weaker here: `parquetjs` and forks are
 * unmaintained, `parquet-wasm` and `@dsnp/parquetjs` pull in WASM or heavy dependencies and
 * read whole files or row groups of every column. SNAPPY and UNCOMPRESSED are built in; GZIP and
 * BROTLI come from node:zlib below, ZSTD too on Node versions whose zlib has it (>= 22.15).
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

// hyparquet is ESM-only: the attribute keeps the emitted declarations valid for consumers that
// type-check under moduleResolution node16/nodenext (TS1541 otherwise).
import type { AsyncBuffer, Compressors } from 'hyparquet' with { 'resolution-mode': 'import' };

import { dataError, describeValue, type Document } from './types';

type Hyparquet = typeof import('hyparquet');
let loaded: Promise<Hyparquet> | undefined;

/**
 * hyparquet is ESM-only. Node >= 20.19 can require() it; older Node needs a real import(), which
 * TypeScript's CommonJS output would turn back into require(), hence the Function. Loaded on
 * first use so that importing the data layer never depends on it.
 */
function hyparquet(): Promise<Hyparquet> {
  loaded ??= (async () => {
    try {
      return require('hyparquet') as Hyparquet;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw e;
      return (new Function('s', 'return import(s)') as (s: string) => Promise<Hyparquet>)('hyparquet');
    }
  })();
  return loaded;
}

/** An AsyncBuffer over an open file, counting the bytes it reads (tests check it stays small). */
export interface FileBuffer extends AsyncBuffer {
  bytesRead: number;
  close(): Promise<void>;
}

/** Opens `file` for ranged reads. */
export async function openFileBuffer(file: string): Promise<FileBuffer> {
  const handle = await fs.promises.open(file, 'r');
  const { size } = await handle.stat();
  const buf: FileBuffer = {
    byteLength: size,
    bytesRead: 0,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const out = new Uint8Array(Math.max(0, stop - start));
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      buf.bytesRead += done;
      return out.buffer;
    },
    close: () => handle.close(),
  };
  return buf;
}

const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;

/** Decompressors hyparquet lacks, from node:zlib. */
export const PARQUET_COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...(zstd ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstd(input)) } : {}),
};

/** Reading options for Parquet files. */
export interface ParquetOptions {
  /** The string column holding the text; default `text`. */
  textField?: string;
  /** The name used in ids and messages; default the path. */
  name?: string;
}

/**
 * One document per row, from the `textField` column; ids are `<name>#<row>` (0-based rows).
 * Empty strings are skipped; a null or non-string value is an error naming the row.
 */
export async function* readParquet(file: string | FileBuffer, opts: ParquetOptions = {}): AsyncGenerator<Document> {
  const field = opts.textField ?? 'text';
  const name = opts.name ?? (typeof file === 'string' ? file : 'parquet');
  const { parquetMetadataAsync, parquetReadObjects, parquetSchema } = await hyparquet();
  const buffer = typeof file === 'string' ? await openFileBuffer(file) : file;
  try {
    let metadata;
    try {
      // A local read is cheap: fetch 64 KiB for the footer, not the 512 KiB default meant for HTTP.
      metadata = await parquetMetadataAsync(buffer, { initialFetchSize: 1 << 16 });
    } catch (e) {
      throw dataError(name, 'file', 'a Parquet file', `unreadable data (${e instanceof Error ? e.message : String(e)})`);
    }
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    if (!columns.includes(field)) {
      throw dataError(name, 'textField', `one of the columns ${columns.map((c) => JSON.stringify(c)).join(', ')}`, describeValue(field));
    }
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: buffer, metadata, columns: [field], rowStart, rowEnd, compressors: PARQUET_COMPRESSORS });
      } catch (e) {
        // An unsupported codec (LZ4, ZSTD on older Node) or a damaged page lands here.
        throw dataError(name, `rows ${rowStart}-${rowEnd - 1}`, 'readable Parquet data', `an error (${e instanceof Error ? e.message : String(e)})`);
      }
      for (let i = 0; i < rows.length; i++) {
        const text = rows[i][field];
        if (typeof text !== 'string') throw dataError(name, `${field} (row ${rowStart + i})`, 'a string', describeValue(text));
        if (text !== '') yield { id: `${name}#${rowStart + i}`, source: 'file', text };
      }
      rowStart = rowEnd;
    }
  } finally {
    if (typeof file === 'string') await buffer.close();
  }
}
