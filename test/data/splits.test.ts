/** The fixed split: exact membership and sizes, and no evaluation text inside the training text. */
import { createHash } from 'crypto';

import test from 'ava';

import { BROWN_EVAL_EVERY, evalDocuments, trainDocuments, type Document } from '../../src/data';

const bytes = (docs: Document[]): number => docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);

test('training: Genesis..Malachi + 450 Brown files; evaluation: Matthew..Revelation + every 10th Brown file', async (t) => {
  const [train, evalDocs] = await Promise.all([trainDocuments(), evalDocuments()]);
  const kjvTrain = train.filter((d) => d.source === 'kjv');
  const kjvEval = evalDocs.filter((d) => d.source === 'kjv');
  t.is(kjvTrain.length, 39);
  t.is(kjvTrain[0].id, 'kjv/01-Genesis');
  t.is(kjvTrain[38].id, 'kjv/39-Malachi');
  t.is(kjvEval.length, 27);
  t.is(kjvEval[0].id, 'kjv/40-Matthew');
  t.is(kjvEval[26].id, 'kjv/66-Revelation');
  const brownEval = evalDocs.filter((d) => d.source === 'brown').map((d) => d.id);
  t.is(BROWN_EVAL_EVERY, 10);
  t.is(brownEval.length, 50);
  t.deepEqual(brownEval.slice(0, 5), ['brown/ca10', 'brown/ca20', 'brown/ca30', 'brown/ca40', 'brown/cb06']);
  t.is(brownEval[49], 'brown/cr09');
  // All 15 genres (the file id's second letter) are represented in the held-out set.
  t.is(new Set(brownEval.map((id) => id[7])).size, 15);
  t.is(train.filter((d) => d.source === 'brown').length, 450);
  // Sizes as docs/data.md states them (UTF-8 bytes = byte-tokenizer tokens).
  t.deepEqual([train.length, bytes(train), evalDocs.length, bytes(evalDocs)], [489, 8548196, 77, 1548362]);
});

test('no evaluation document or 200-character window of one appears in the training text', async (t) => {
  const [train, evalDocs] = await Promise.all([trainDocuments(), evalDocuments()]);
  const trainIds = new Set(train.map((d) => d.id));
  t.false(evalDocs.some((d) => trainIds.has(d.id)));
  const trainText = train.map((d) => d.text).join('\n');
  let windows = 0;
  for (const d of evalDocs) {
    t.false(trainText.includes(d.text), `${d.id} whole`);
    for (let i = 0; i < 8; i++) {
      const start = Math.floor(((d.text.length - 200) * i) / 7);
      const window = d.text.slice(start, start + 200);
      t.false(trainText.includes(window), `${d.id} window at ${start}`);
      windows++;
    }
  }
  t.is(windows, 77 * 8);
});

test('the split is pinned: a digest of every document id and text, in order', async (t) => {
  // sha256 over "id\nsha256(text)\n" of each document; a change to the corpora, their parsing or
  // the split rule changes it (and then the held-out figures of every report are not comparable).
  const digest = (docs: Document[]) => {
    const h = createHash('sha256');
    for (const d of docs) h.update(`${d.id}\n${createHash('sha256').update(d.text).digest('hex')}\n`);
    return h.digest('hex');
  };
  t.is(digest(await trainDocuments()), 'b2e2485aa7b9e65d32df99cb8c7a4aad1343cf9c8545f563b785dddc1290003b');
  t.is(digest(await evalDocuments()), '1d74d3be61700f52418219ca5f55dd9e063ff2541bd1585d1040825d1f7a6bf7');
});
