/** User files: plain text, JSONL, Parquet (row group by row group), folders, and their errors. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import test from 'ava';

import { DataError, listDataFiles, openFileBuffer, readDocuments, readParquet, type Document } from '../../src/data';
import { FIXTURE_TEXTS, makeFixtures, tempDir, writeParquet } from '../fixtures/data/make';

const FIX = path.join(__dirname, '..', 'fixtures', 'data');
const f = (name: string): string => path.join(FIX, name);

async function all(it: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const d of it) out.push(d);
  return out;
}

const nonEmpty = FIXTURE_TEXTS.map((text, i) => ({ text, i })).filter((x) => x.text !== '');

test('the committed fixtures are what make.ts builds', (t) => {
  const dir = tempDir();
  makeFixtures(dir);
  for (const name of fs.readdirSync(dir)) t.deepEqual(fs.readFileSync(path.join(dir, name)), fs.readFileSync(f(name)), name);
});

test('plain text: one document per file, or per blank-line block', async (t) => {
  t.deepEqual(await all(readDocuments([f('plain.txt')])), [{ id: f('plain.txt'), source: 'file', text: 'One whole file.\n\nStill the same document.\n' }]);
  t.deepEqual((await all(readDocuments([f('blocks.md')], { splitOnBlankLines: true }))).map((d) => [d.id, d.text]), [
    [`${f('blocks.md')}#0`, 'Block one,\nline two.'],
    [`${f('blocks.md')}#1`, 'Block two.'],
    [`${f('blocks.md')}#2`, 'Block three.'],
  ]);
});

test('JSONL: the text field, ids by line, blank lines and empty texts skipped', async (t) => {
  const docs = await all(readDocuments([f('docs.jsonl')]));
  t.deepEqual(docs.map((d) => d.text), nonEmpty.map((x) => x.text));
  t.deepEqual(docs.map((d) => d.id), nonEmpty.map((x) => `${f('docs.jsonl')}:${x.i + 1}`));
  t.deepEqual((await all(readDocuments([f('docs.jsonl')], { textField: 'body' }))).map((d) => d.text), FIXTURE_TEXTS.map((_, i) => `body ${i}`));
});

test('JSONL errors name the file and line', async (t) => {
  await t.throwsAsync(all(readDocuments([f('bad.jsonl')])), { instanceOf: DataError, message: `${f('bad.jsonl')}:2: Expected a string for text but received 5 of type number` });
  await t.throwsAsync(all(readDocuments([f('docs.jsonl')], { textField: 'title' })), { instanceOf: DataError, message: `${f('docs.jsonl')}:1: Expected a string for title but received undefined` });
  const e = await t.throwsAsync(all(readDocuments([f('broken.jsonl')])), { instanceOf: DataError });
  t.regex(e.message, new RegExp(`^${f('broken.jsonl').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: Expected a JSON object for line 3 but received invalid JSON \\(`));
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'a.jsonl'), '[1, 2]\n');
  await t.throwsAsync(all(readDocuments([path.join(dir, 'a.jsonl')])), { message: `${path.join(dir, 'a.jsonl')}:1: Expected a JSON object for line 1 but received an array of length 2` });
});

test('Parquet: the text column over several row groups, snappy and gzip', async (t) => {
  for (const name of ['docs.parquet', 'docs-gzip.parquet']) {
    const docs = await all(readDocuments([f(name)]));
    t.deepEqual(docs.map((d) => d.text), nonEmpty.map((x) => x.text), name);
    t.deepEqual(docs.map((d) => d.id), nonEmpty.map((x) => `${f(name)}#${x.i}`), name);
  }
  t.deepEqual((await all(readDocuments([f('body.parquet')], { textField: 'body' }))).map((d) => d.text), FIXTURE_TEXTS.slice(0, 2));
});

test('Parquet errors: a missing column lists the columns; a null names its row; not Parquet', async (t) => {
  await t.throwsAsync(all(readDocuments([f('body.parquet')])), { instanceOf: DataError, message: `${f('body.parquet')}: Expected one of the columns "body" for textField but received "text" of type string` });
  const dir = tempDir();
  writeParquet(path.join(dir, 'nulls.parquet'), [{ name: 'text', data: ['a', 'b', null], type: 'STRING', nullable: true }]);
  await t.throwsAsync(all(readParquet(path.join(dir, 'nulls.parquet'), { name: 'nulls.parquet' })), { message: 'nulls.parquet: Expected a string for text (row 2) but received null' });
  fs.writeFileSync(path.join(dir, 'fake.parquet'), 'not parquet at all');
  await t.throwsAsync(all(readParquet(path.join(dir, 'fake.parquet'), { name: 'fake.parquet' })), { instanceOf: DataError, message: /^fake\.parquet: Expected a Parquet file for file but received unreadable data/ });
});

test('Parquet reads only the text column, a row group at a time', async (t) => {
  const dir = tempDir();
  const rows = 8;
  const blob = Array.from({ length: rows }, (_, i) => String.fromCharCode(65 + i).repeat(100000));
  const file = path.join(dir, 'wide.parquet');
  writeParquet(file, [
    { name: 'text', data: Array.from({ length: rows }, (_, i) => `row ${i}`), type: 'STRING' },
    { name: 'blob', data: blob, type: 'STRING' },
  ], { codec: 'UNCOMPRESSED' });
  const size = fs.statSync(file).size;
  const buffer = await openFileBuffer(file);
  const seen: string[] = [];
  const reads: number[] = [];
  for await (const d of readParquet(buffer, { name: 'wide' })) {
    seen.push(d.text);
    reads.push(buffer.bytesRead);
  }
  await buffer.close();
  t.deepEqual(seen, Array.from({ length: rows }, (_, i) => `row ${i}`));
  t.true(size > 800000);
  t.true(buffer.bytesRead < size / 10, `read ${buffer.bytesRead} of ${size} bytes`);
  // Streamed: the first row group is yielded before the last is read.
  t.true(reads[0] < reads[rows - 1]);
});

test('folders are read recursively in sorted order; bad paths are clear errors', async (t) => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'b'));
  fs.writeFileSync(path.join(dir, 'b', 'x.txt'), 'in b');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
  fs.writeFileSync(path.join(dir, 'c.jsonl'), '{"text": "c"}\n');
  fs.writeFileSync(path.join(dir, 'notes.csv'), 'ignored in folders');
  fs.writeFileSync(path.join(dir, 'empty.txt'), '\n\n');
  t.deepEqual((await all(readDocuments([dir]))).map((d) => d.text), ['a', 'in b', 'c']);
  await t.throwsAsync(all(readDocuments([path.join(dir, 'notes.csv')])), {
    instanceOf: DataError, message: `Expected a file ending in .txt, .text, .md, .jsonl, .ndjson, .parquet for path but received ${JSON.stringify(path.join(dir, 'notes.csv'))} of type string`,
  });
  await t.throwsAsync(all(readDocuments([path.join(dir, 'nope.txt')])), { message: `Expected an existing file or folder for path but received ${JSON.stringify(path.join(dir, 'nope.txt'))} of type string` });
});

test('listDataFiles: the files readDocuments reads, in its order, with its path errors up front', async (t) => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'b'));
  fs.writeFileSync(path.join(dir, 'b', 'x.txt'), 'in b');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
  fs.writeFileSync(path.join(dir, 'notes.csv'), 'ignored in folders');
  const docs = f('docs.jsonl');
  t.deepEqual(listDataFiles([docs, dir]), [docs, path.join(dir, 'a.txt'), path.join(dir, 'b', 'x.txt')]);
  t.deepEqual([...new Set((await all(readDocuments([docs, dir]))).map((d) => d.id.replace(/[:#]\d+$/, '')))], listDataFiles([docs, dir]));
  // A missing path after a good one still fails before anything is read.
  const missing = path.join(dir, 'nope.txt');
  t.throws(() => listDataFiles([docs, missing]), { instanceOf: DataError, message: `Expected an existing file or folder for path but received ${JSON.stringify(missing)} of type string` });
  t.throws(() => listDataFiles([path.join(dir, 'notes.csv')]), { instanceOf: DataError, message: /^Expected a file ending in \.txt, .* for path but received .*notes\.csv/ });
});

// Root reads any file whatever its mode, so this case can only be checked as another user.
(process.getuid?.() === 0 ? test.skip : test)('listDataFiles: a file this process may not read', (t) => {
  const file = path.join(tempDir(), 'secret.txt');
  fs.writeFileSync(file, 'x');
  fs.chmodSync(file, 0o000);
  t.throws(() => listDataFiles([file]), { instanceOf: DataError, message: `Expected a readable file for path but received ${JSON.stringify(file)} of type string (EACCES)` });
});
