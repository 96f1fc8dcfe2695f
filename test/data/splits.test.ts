/** The fixed split: exact membership and sizes, and no evaluation text inside the training text. */
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

test('the split is deterministic: same ids, same order, every call', async (t) => {
  const a = await trainDocuments();
  const b = await trainDocuments();
  t.deepEqual(a.map((d) => d.id), b.map((d) => d.id));
});
