/** The bundled corpora: `bible -f` parsing, Brown detagging, the cache, and the missing-program error. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import test from 'ava';

import { brownDocuments, brownToText, DATA_SYSTEM_PACKAGES, DataError, KJV_BOOKS, kjvDocuments, parseKjv, runBible } from '../../src/data';
import { tempDir } from '../fixtures/data/make';

test('parseKjv: labels stripped, verses joined by spaces, chapters by newlines, one document per book', (t) => {
  const out = 'Ge1:1 In the beginning.\nGe1:2 And the earth.\nGe2:1 Thus the heavens.\n\nExo1:1 Now these are the names.\n';
  t.deepEqual(parseKjv(out, { requireAll: false }), [
    { id: 'kjv/01-Genesis', source: 'kjv', text: 'In the beginning. And the earth.\nThus the heavens.' },
    { id: 'kjv/02-Exodus', source: 'kjv', text: 'Now these are the names.' },
  ]);
});

test('parseKjv rejects what a different bible build might print', (t) => {
  t.throws(() => parseKjv('Ge1:1 ok\nChapter 2\n', { requireAll: false }), {
    instanceOf: DataError, message: 'bible output line 2: Expected a verse like "Ge1:1 text" for line 2 but received "Chapter 2"',
  });
  t.throws(() => parseKjv('Ge1:1 ok\nLev1:1 skipped Exodus\n', { requireAll: false }), {
    instanceOf: DataError, message: 'bible output line 2: Expected book Exo for line 2 but received "Lev"',
  });
  t.throws(() => parseKjv('Ge1:1 ok\n'), { instanceOf: DataError, message: 'bible output: Expected 66 books for books but received 1' });
});

test('the whole KJV: 66 books in canonical order, first and last verses', async (t) => {
  const docs = await kjvDocuments();
  t.is(docs.length, 66);
  t.deepEqual(docs.map((d) => d.id.replace(/^kjv\/\d\d-/, '').replace(/-/g, ' ')), KJV_BOOKS.map((b) => b.name));
  t.true(docs[0].text.startsWith('In the beginning God created the heaven and the earth. And the earth was without form'));
  t.true(docs[65].text.endsWith('The grace of our Lord Jesus Christ be with you all. Amen.'));
  t.is(docs[18].text.split('\n').length, 150); // Psalms
  t.false(docs.some((d) => /\b\d?[A-Z][a-z]+\d+:\d+ /.test(d.text)), 'no verse label left');
});

test('brownToText: tags stripped, punctuation and quotes glued, headlines and paragraphs on their own lines', (t) => {
  const tagged = [
    '', '', '\tHeadline/nn-hl here/rb-hl ', 'The/at jury/nn said/vbd ``/`` no/at evidence/nn \'\'/\'\' ,/, and/cc (/( 1/2/cd )/) so/rb ./.',
    'It/pps asked/vbd ?/. ?/.', '', '', '\tJr./np left/vbd ./. \'/\' Quote/nn \'/\' ended/vbd --/-- really/rb !/. ', '\'\'/\'\' Next/ap ./.',
  ].join('\n');
  t.is(brownToText(tagged), 'Headline here\nThe jury said "no evidence", and (1/2) so. It asked?\nJr. left. \'Quote\' ended -- really!" Next.');
});

test('the whole Brown corpus: 500 files, plain text', async (t) => {
  const docs = await brownDocuments();
  t.is(docs.length, 500);
  t.is(docs[0].id, 'brown/ca01');
  t.is(docs[499].id, 'brown/cr09');
  t.true(docs[0].text.startsWith('The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.'));
  for (const d of docs) {
    t.false(/[A-Za-z]\/(nn|nns|np|at|in|vbd|jj|cc|rb)\b/.test(d.text), `${d.id} has tags left`);
    t.false(/ [,.;:?!]( |$)/m.test(d.text), `${d.id} has unglued punctuation`);
  }
});

test('a missing bible program says how to install it', async (t) => {
  t.deepEqual([...DATA_SYSTEM_PACKAGES], ['bible-kjv']);
  await t.throwsAsync(kjvDocuments({ bibleCommand: '/nonexistent/bible', cache: false }), {
    instanceOf: DataError,
    message: 'The King James Bible needs the `/nonexistent/bible` program, which was not found: install it with `apt-get install -y bible-kjv` (Debian/Ubuntu; the project\'s setup script does this)',
  });
  await t.throwsAsync(runBible('false'), { instanceOf: DataError, message: /^`false -f Gen1:1-Rev22:21` failed .*apt-get install --reinstall -y bible-kjv/ });
});

test('the cache is written whole and reused: a second load runs no bible', async (t) => {
  const dir = tempDir();
  const first = await kjvDocuments({ cacheDir: dir });
  const files = fs.readdirSync(dir);
  t.is(files.length, 1);
  t.regex(files[0], /^kjv-\d+\.\d+\.\d+.*-f\d+\.json$/);
  const again = await kjvDocuments({ cacheDir: dir, bibleCommand: '/nonexistent/bible' });
  t.deepEqual(again, first);
  // A torn cache file is rebuilt, not trusted.
  fs.writeFileSync(path.join(dir, files[0]), '[{"id": "kjv/01-Gen');
  t.is((await kjvDocuments({ cacheDir: dir })).length, 66);
  t.deepEqual(fs.readdirSync(dir), files, 'no temp files left behind');
});
