/** Passkey prompts of exact token lengths for any tokenizer; the trial loop; tiny-llama end to end. */
import test from 'ava';

import {
  buildPasskeyPrompt,
  evaluatePasskey,
  fillerText,
  firstInteger,
  PASSKEY_FILLER,
  PASSKEY_INTRO,
  PASSKEY_QUESTION,
} from '../../src/eval/passkey';
import { PyRandom } from '../../src/eval/py-random';
import { Model } from '../../src/model/model';
import { ByteTokenizer } from '../../src/data/tokenizer';
import { FakeModel, llama2Tokenizer, TINY } from './helpers';

const bytes = new ByteTokenizer();

test('the prompt: five parts joined by newlines, filler cut at any character', (t) => {
  t.is(fillerText(0), '');
  t.is(fillerText(PASSKEY_FILLER.length + 4), `${PASSKEY_FILLER} The`);
  t.is(fillerText(2 * PASSKEY_FILLER.length + 2), `${PASSKEY_FILLER} ${PASSKEY_FILLER} `);
  const p = buildPasskeyPrompt(bytes, 600, { key: 12345, depth: 0.25 });
  t.is(p.tokens.length, 600);
  t.is(p.tokens[0], bytes.bosId);
  const parts = p.text.split('\n');
  t.is(parts.length, 5);
  t.is(parts[0], PASSKEY_INTRO);
  t.is(parts[2], 'The pass key is 12345. Remember it. 12345 is the pass key.');
  t.is(parts[4], PASSKEY_QUESTION);
  t.is(parts[1], fillerText(p.prefixChars));
  t.is(parts[3], fillerText(p.fillerChars - p.prefixChars));
  t.is(p.fillerChars, 600 - 248);
  t.is(p.prefixChars, Math.round(0.25 * 352));
  t.deepEqual(bytes.encode(p.text), p.tokens);
});

test('exact lengths at the extremes of depth; too short names the minimum', (t) => {
  for (const depth of [0, 1]) {
    const p = buildPasskeyPrompt(bytes, 300, { key: 99999, depth });
    t.is(p.tokens.length, 300);
    t.is(p.depth, depth);
  }
  t.is(buildPasskeyPrompt(bytes, 248, { key: 12345, depth: 0.5 }).fillerChars, 0);
  t.throws(() => buildPasskeyPrompt(bytes, 100, { key: 12345, depth: 0.5 }), {
    instanceOf: RangeError,
    message: 'Expected a passkey length of at least 248 tokens (the prompt without filler) but received 100',
  });
});

test('a tokenizer that cannot hit the length gives a clear error', (t) => {
  // Every prompt encodes to an even number of tokens.
  const even = { encode: (s: string) => new Array<number>(2 * Math.ceil(s.length / 8)).fill(5), decode: () => '' };
  const min = even.encode(`${PASSKEY_INTRO}\n\nThe pass key is 12345. Remember it. 12345 is the pass key.\n\n${PASSKEY_QUESTION}`).length;
  t.is(buildPasskeyPrompt(even, min + 10, { key: 12345, depth: 0.3 }).tokens.length, min + 10);
  const e = t.throws(() => buildPasskeyPrompt(even, min + 11, { key: 12345, depth: 0.3 }));
  t.regex(e!.message, /^Cannot build a passkey prompt of exactly \d+ tokens with this tokenizer \(the nearest have \d+ and \d+ tokens\)$/);
});

test('LLaMA-2 tokenizer: prompts of exactly 500, 1024 and 3000 tokens', async (t) => {
  const tok = await llama2Tokenizer();
  for (const [length, depth] of [[500, 0.1], [1024, 0.5], [3000, 0.93]] as const) {
    const p = buildPasskeyPrompt(tok, length, { key: 54321, depth });
    t.is(p.tokens.length, length);
    t.is(p.tokens[0], 1);
    t.true(tok.decode(p.tokens).includes('The pass key is 54321.'));
    t.true(Math.abs(p.depth - depth) < 0.01);
  }
});

test('trials: keys and depths from random.Random(seed); correct = first integer equals the key', async (t) => {
  t.is(firstInteger(' 81333.'), 81333);
  t.is(firstInteger('none'), null);
  t.is(firstInteger('is 0081333'), 81333);
  // Answers the key when it sits in the first half of the filler, else 11111.
  const reply = (prompt: number[]) => {
    const p = bytes.decode(prompt);
    const key = /pass key is (\d+)\./.exec(p)![1];
    const before = p.indexOf('The pass key is') - PASSKEY_INTRO.length;
    const filler = p.length - PASSKEY_INTRO.length - PASSKEY_QUESTION.length - 62;
    return bytes.encode(before < filler / 2 ? ` ${key}.` : ' 11111', { addBos: false });
  };
  const model = new FakeModel(() => 0, { bosTokenId: 256 }, reply);
  const seen: [number, number][] = [];
  const rs = await evaluatePasskey(model, bytes, { lengths: [400, 500], trials: 3, seed: 3, onProgress: (d, n) => seen.push([d, n]) });
  // random.Random(3): depth, key = 0.2380 81333, 0.1304 89157, 0.4741 86133 (the same at every length).
  t.deepEqual(rs[0].details.map((d) => d.key), [81333, 89157, 86133]);
  t.deepEqual(rs[1].details.map((d) => d.key), [81333, 89157, 86133]);
  t.true(Math.abs(rs[0].details[0].depth - 0.2380) < 0.01);
  t.deepEqual(rs.map((r) => [r.length, r.accuracy, r.trials]), [[400, 1, 3], [500, 1, 3]]);
  t.is(rs[0].details[0].answer, ' 81333.');
  t.true(model.generateCalls.every((p, i) => p.length === (i < 3 ? 400 : 500)));
  t.deepEqual(seen[seen.length - 1], [6, 6]);
  const wrong = new FakeModel(() => 0, {}, () => bytes.encode(' 1234', { addBos: false }));
  const [r] = await evaluatePasskey(wrong, bytes, { lengths: [300], trials: 2 });
  t.is(r.accuracy, 0);
  t.false(r.details[0].correct);
});

test('tiny-llama end to end: each trial is the greedy continuation of its prompt (checked by a logits loop)', async (t) => {
  const model = await Model.load(TINY);
  try {
    const rs = await evaluatePasskey(model, bytes, { lengths: [260], trials: 2, seed: 1, stopTokens: [] });
    t.is(rs.length, 1);
    t.is(rs[0].trials, 2);
    // Keys and depths as Python's random.Random(1) draws them: random(), then randint(10000, 99999).
    const rng = new PyRandom(1);
    let correct = 0;
    for (const d of rs[0].details) {
      const depth = rng.random();
      const key = rng.randint(10000, 99999);
      t.is(d.key, key);
      // Independent greedy decoding: argmax of the last logits, one token at a time, no KV cache.
      const tokens = [...buildPasskeyPrompt(bytes, 260, { key, depth }).tokens];
      const answer: number[] = [];
      for (let i = 0; i < 8; i++) {
        const logits = await model.logits(tokens, { lastN: 1 });
        let best = 0;
        for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
        answer.push(best);
        tokens.push(best);
      }
      const text = bytes.decode(answer.filter((id) => id < bytes.vocabSize));
      t.is(d.answer, text);
      t.is(d.correct, firstInteger(text) === key);
      if (d.correct) correct++;
    }
    t.is(rs[0].accuracy, correct / 2);
  } finally {
    model.dispose();
  }
});
