/** Synthetic passkey sequences: the evaluation's exact prompt, exact lengths, variety, and the resumable mix. */
import * as path from 'node:path';

import test from 'ava';

import { DataError, mixSegments, PASSKEY_FILLER, passkeyFiller, PASSKEY_INTRO, passkeyPrompt, PasskeySynthesizer, SegmentStream } from '../../src/data';
import { passkeyText } from '../../src/eval/passkey';
import { ByteTokenizer, loadTokenizer } from '../../src/data/tokenizer';

const tok = new ByteTokenizer();
const NATURAL = 'And it came to pass in those days, that there went out a decree from Caesar Augustus. '.repeat(200);

test('passkeyPrompt is the evaluation prompt, word for word, with the answer', (t) => {
  t.is(PASSKEY_INTRO, 'There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.');
  t.is(PASSKEY_FILLER, 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.');
  t.is(passkeyFiller(99), `${PASSKEY_FILLER} The grass`);
  t.is(passkeyPrompt(12345, 99, 7), [PASSKEY_INTRO, `${PASSKEY_FILLER} The grass`, 'The pass key is 12345. Remember it. 12345 is the pass key.', 'The gra', 'What is the pass key? The pass key is 12345'].join('\n'));
  t.is(passkeyPrompt(12345, 0, 0).length, 253); // why the intro barely fits a 256-token context
  // The evaluation's own builder (src/eval/passkey.ts) gives the same text up to the answer.
  for (const [a, b] of [[0, 0], [7, 300], [455, 91]]) t.is(passkeyPrompt(54321, a, b), `${passkeyText(54321, a, b)} 54321`);
});

test('every sequence is exactly length tokens: [BOS, prompt ending in the key, EOS, tail, EOS]', (t) => {
  for (const length of [128, 256, 700]) {
    const p = new PasskeySynthesizer(tok, { length, seed: 1, fillerText: NATURAL });
    for (let i = 0; i < 200; i++) {
      const s = p.sample(i);
      t.is(s.tokens.length, length);
      t.is(s.tokens[0], 256);
      t.is(s.tokens[length - 1], 257);
      t.true(s.promptLength <= length - 2);
      const prompt = tok.decode(Array.from(s.tokens.subarray(1, 1 + s.promptLength)));
      t.regex(s.key, /^[1-9]\d{4}$/);
      t.true(prompt.endsWith(` ${s.key}`), prompt);
      t.true(prompt.indexOf(s.key) < prompt.length - 5, 'the key is hidden before the question');
      if (s.promptLength < length - 2) t.is(s.tokens[1 + s.promptLength], 257, 'an EOS closes the prompt');
      t.false(Array.from(s.tokens.subarray(1, 1 + s.promptLength)).includes(257));
    }
  }
});

test('closeWithEos false: no closing EOS; prompts may run to the last position, as a prompt filling the context does', (t) => {
  const p = new PasskeySynthesizer(tok, { length: 257, seed: 3, fillerText: NATURAL, closeWithEos: false });
  let toTheEnd = 0;
  for (let i = 0; i < 300; i++) {
    const s = p.sample(i);
    t.is(s.tokens.length, 257);
    t.is(s.tokens[0], 256);
    t.true(s.promptLength <= 256);
    t.true(tok.decode(Array.from(s.tokens.subarray(1, 1 + s.promptLength))).endsWith(` ${s.key}`));
    if (s.promptLength === 256) toTheEnd++;
    // The one EOS closes the prompt; the tail runs to the end without another.
    const eos = Array.from(s.tokens).filter((x) => x === 257).length;
    t.is(eos, s.promptLength < 256 ? 1 : 0);
  }
  t.true(toTheEnd >= 1, 'some prompts end at the last position');
});

test('canonical sequences are the evaluation prompt (intro where it fits) with its filler on each side', (t) => {
  const p = new PasskeySynthesizer(tok, { length: 1024, seed: 2, fillerText: NATURAL });
  let seen = 0;
  for (let i = 0; i < 100; i++) {
    const s = p.sample(i);
    if (!s.canonical) continue;
    seen++;
    const prompt = tok.decode(Array.from(s.tokens.subarray(1, 1 + s.promptLength)));
    // The intro comes along whenever the drawn prompt length leaves room for it.
    const lines = prompt.split('\n');
    if (s.template === 0) t.is(lines.shift(), PASSKEY_INTRO);
    else t.is(s.template, 1);
    t.is(lines.length, 4);
    t.true(passkeyFiller(2000).startsWith(lines[0]));
    t.is(lines[1], `The pass key is ${s.key}. Remember it. ${s.key} is the pass key.`);
    t.true(passkeyFiller(2000).startsWith(lines[2]));
    t.is(lines[3], `What is the pass key? The pass key is ${s.key}`);
    t.false(s.natural);
  }
  t.true(seen > 30 && seen < 70, `${seen} canonical of 100`);
});

test('the mix varies template, filler, prompt length and key depth; seeded and deterministic', (t) => {
  const p = new PasskeySynthesizer(tok, { length: 256, seed: 3, fillerText: NATURAL });
  const samples = Array.from({ length: 400 }, (_, i) => p.sample(i));
  t.deepEqual([...new Set(samples.map((s) => s.template))].sort(), [0, 1, 2, 3, 4]);
  const canonical = samples.filter((s) => s.canonical);
  t.true(canonical.length > 160 && canonical.length < 240 && canonical.every((s) => !s.natural && s.template <= 1));
  t.true(samples.some((s) => s.natural) && samples.some((s) => !s.natural));
  const lengths = samples.map((s) => s.promptLength);
  t.true(Math.min(...lengths) <= 110 && Math.max(...lengths) >= 250, `${Math.min(...lengths)}..${Math.max(...lengths)}`);
  t.true(new Set(samples.map((s) => s.key)).size > 390);
  const again = new PasskeySynthesizer(tok, { length: 256, seed: 3, fillerText: NATURAL });
  t.deepEqual(Array.from(again.segment(123)), Array.from(samples[123].tokens));
  t.notDeepEqual(Array.from(new PasskeySynthesizer(tok, { length: 256, seed: 4 }).segment(123)), Array.from(samples[123].tokens));
  // Pinned: a resumed run must regenerate the same sequences in any later version.
  t.is(samples[0].key, again.sample(0).key);
  t.deepEqual(samples.slice(0, 3).map((s) => [s.key, s.template, s.natural, s.promptLength]), [['82234', 1, false, 247], ['80977', 1, false, 161], ['53070', 1, false, 160]]);
});

test('a segment too short for any prompt is an error', (t) => {
  t.throws(() => new PasskeySynthesizer(tok, { length: 64 }), { instanceOf: DataError, message: /^Expected a segment length of at least \d+ for passkey sequences for length but received 64 of type number$/ });
  t.throws(() => new PasskeySynthesizer(tok, { length: 256, canonicalShare: 2 }), { message: 'Expected a number in [0, 1] for canonicalShare but received 2 of type number' });
});

test('mixSegments: about `share` synthetic, and a resumed mix continues exactly', (t) => {
  const base = Array.from({ length: 500 }, (_, i) => Int32Array.of(256, i, 257));
  const synth = { segment: (i: number): Int32Array => Int32Array.of(256, -1 - i, 257) };
  const ref = mixSegments(new SegmentStream(base, { seed: 9 }), synth, 0.15, 11);
  const out = Array.from({ length: 2000 }, () => ref.next()[1]);
  const synthetic = out.filter((x) => x < 0);
  t.true(synthetic.length > 240 && synthetic.length < 360, `${synthetic.length} synthetic of 2000`);
  t.deepEqual(synthetic, synthetic.map((_, i) => -1 - i), 'synthetic sequences in index order, none skipped');

  const first = mixSegments(new SegmentStream(base, { seed: 9 }), synth, 0.15, 11);
  const before = Array.from({ length: 777 }, () => first.next()[1]);
  const saved = JSON.parse(JSON.stringify(first.position())) as ReturnType<typeof first.position>;
  t.is(saved.step, 777);
  const resumed = mixSegments(new SegmentStream(base, { position: saved.base }), synth, 0.15, 11, saved.step);
  t.deepEqual([...before, ...Array.from({ length: 2000 - 777 }, () => resumed.next()[1])], out);
  t.throws(() => mixSegments(new SegmentStream(base), synth, 1, 0), { instanceOf: DataError, message: 'Expected a number in [0, 1) for share but received 1 of type number' });
});

test('with a BPE tokenizer too: exact lengths, the key at the end of the prompt', async (t) => {
  const bpe = await loadTokenizer(path.join(__dirname, '..', 'fixtures', 'checkpoint', 'bpe-tokenizer'));
  const p = new PasskeySynthesizer(bpe, { length: 400, seed: 5, fillerText: NATURAL });
  for (let i = 0; i < 40; i++) {
    const s = p.sample(i);
    t.is(s.tokens.length, 400);
    t.is(s.tokens[0], bpe.bosId ?? -1);
    t.is(s.tokens[399], bpe.eosId ?? -1);
    t.true(bpe.decode(Array.from(s.tokens.subarray(1, 1 + s.promptLength))).endsWith(s.key));
  }
});
