import test from 'ava';

import { CopySynthesizer } from '../../src/data';
import { ByteTokenizer } from '../../src/data/tokenizer';

const tok = new ByteTokenizer();

test('copy drills: exact length, BOS first, no EOS, deterministic, and every line is repeated or a key drill', (t) => {
  const a = new CopySynthesizer(tok, { length: 256, seed: 7 });
  const b = new CopySynthesizer(tok, { length: 256, seed: 7 });
  for (let i = 0; i < 20; i++) {
    const s = a.segment(i);
    t.is(s.length, 256);
    t.is(s[0], tok.bosId);
    t.false(s.includes(tok.eosId));
    t.deepEqual(s, b.segment(i));
    const lines = tok.decode(Array.from(s)).split('\n').slice(0, -1);  // the last line is cut off
    if (lines[0].startsWith('The pass key is')) {
      // Each drill states a key and answers its question with the same key.
      const keys = [...tok.decode(Array.from(s)).matchAll(/The pass key is (\d{5})\. Remember it\. \1 is the pass key\.\n[^\n]*\nWhat is the pass key\? The pass key is (\d{5})/g)];
      t.true(keys.length >= 1);
      for (const k of keys) t.is(k[1], k[2]);
    } else {
      for (let j = 0; j + 1 < lines.length; j += 2) t.is(lines[j], lines[j + 1]);
    }
  }
  t.notDeepEqual(a.segment(0), new CopySynthesizer(tok, { length: 256, seed: 8 }).segment(0));
});
