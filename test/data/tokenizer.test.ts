/** Tokenizers: a hand-made BPE fixture, the real LLaMA-2 vocabulary, and the byte tokenizer. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import test from 'ava';

import { InputError } from '../../src/common/errors';
import { ByteTokenizer, loadTokenizer } from '../../src/data/tokenizer';
import { tempDir } from '../fixtures/checkpoint/make';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'checkpoint');
const BPE = path.join(FIXTURES, 'bpe-tokenizer');

test('hand-made BPE: merges, ▁ prefix space, byte fallback, BOS', async (t) => {
  const tok = await loadTokenizer(BPE);
  t.is(tok.vocabSize, 278);
  t.is(tok.bosId, 1);
  t.is(tok.eosId, 2);
  t.deepEqual(tok.encode('hello world'), [1, 271, 276]);
  t.deepEqual(tok.encode('hello world', { addBos: false }), [271, 276]);
  t.deepEqual(tok.encode('hi!'), [1, 259, 260, 3 + 0x69, 3 + 0x21]);
  t.deepEqual(tok.encode('é'), [1, 259, 3 + 0xc3, 3 + 0xa9]);
  t.deepEqual(tok.encode('  hello'), [1, 277, 271]);
  t.deepEqual(tok.encode(''), [1]);
  for (const s of ['hello world', 'hi!', 'é', '  hello', 'héllo wörld 🦙\n\t', 'a  b  ']) t.is(tok.decode(tok.encode(s)), s);
  t.is(tok.decode([1, 271, 2, 276, 2]), 'hello world');
  t.is(tok.decode([]), '');
  t.throws(() => tok.decode([278]), { instanceOf: TypeError, message: 'Expected an integer in [0, 278) for ids[0] but received 278 of type number' });
  t.throws(() => tok.decode([1.5]), { instanceOf: TypeError });
});

test('the Metaspace form of the same tokenizer (newer Mistral/LLaMA files) encodes the same', async (t) => {
  const dir = tempDir('longrope-tok-');
  const json = JSON.parse(fs.readFileSync(path.join(BPE, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  json.normalizer = null;
  json.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
  json.decoder = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  const tok = await loadTokenizer(dir);
  t.deepEqual(tok.encode('hello world'), [1, 271, 276]);
  t.deepEqual(tok.encode('hi!'), [1, 259, 260, 3 + 0x69, 3 + 0x21]);
  t.is(tok.decode(tok.encode('hello world')), 'hello world');
});

test('tokenizer_config.json: add_bos_token false, no config at all', async (t) => {
  const dir = tempDir('longrope-tok-');
  fs.copyFileSync(path.join(BPE, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  t.deepEqual((await loadTokenizer(dir)).encode('hello'), [1, 271]);
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: false }));
  const tok = await loadTokenizer(dir);
  t.deepEqual(tok.encode('hello'), [271]);
  t.deepEqual(tok.encode('hello', { addBos: true }), [1, 271]);
});

test('loadTokenizer errors', async (t) => {
  const dir = tempDir('longrope-tok-');
  await t.throwsAsync(loadTokenizer(dir), {
    instanceOf: InputError, message: `tokenizer.json: no tokenizer.json in ${dir} (and tokenizer_config.json does not name LongropeByteTokenizer)`,
  });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ');
  await t.throwsAsync(loadTokenizer(dir), { instanceOf: InputError, message: /^tokenizer\.json: Expected valid JSON for tokenizer\.json but received a syntax error/ });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": {"type": "Magic"}}');
  await t.throwsAsync(loadTokenizer(dir), { instanceOf: InputError, message: /^tokenizer\.json: cannot build the tokenizer \(/ });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '[]');
  await t.throwsAsync(loadTokenizer(dir), { instanceOf: InputError, message: 'tokenizer.json: Expected an object for model but received an array of length 0' });
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '3');
  await t.throwsAsync(loadTokenizer(dir), { instanceOf: InputError, message: 'tokenizer_config.json: Expected a JSON object for tokenizer_config.json but received 3 of type number' });
});

test('ByteTokenizer: bytes, BOS/EOS, invalid UTF-8, range checks', async (t) => {
  const tok = new ByteTokenizer();
  t.is(tok.vocabSize, 258);
  t.deepEqual(tok.encode('Aé'), [256, 65, 0xc3, 0xa9]);
  t.deepEqual(tok.encode('Aé', { addBos: false }), [65, 0xc3, 0xa9]);
  t.is(tok.decode([256, 65, 0xc3, 0xa9, 257]), 'Aé');
  t.is(tok.decode([65, 0xc3, 66]), 'A\ufffdB');
  t.is(tok.decode([0xff]), '\ufffd');
  t.throws(() => tok.decode([258]), { instanceOf: TypeError, message: 'Expected an integer in [0, 258) for ids[0] but received 258 of type number' });
  t.throws(() => tok.decode([-1]), { instanceOf: TypeError });
  const s = 'Ge1:1 In the beginning God created the heaven and the earth. 🦙';
  t.is(tok.decode(tok.encode(s)), s);
  const loaded = await loadTokenizer(path.join(FIXTURES, 'byte-tokenizer'));
  t.true(loaded instanceof ByteTokenizer);
});

// --- The genuine LLaMA-2 vocabulary and merges, as packaged by llama-tokenizer-js (MIT). ---

const LLAMA_JS = require.resolve('llama-tokenizer-js');

/** LLaMA-2's tokenizer.json rebuilt from llama-tokenizer-js's data (vocab in id order, merges in rank order). */
function llama2TokenizerJson(): Record<string, unknown> {
  const src = fs.readFileSync(LLAMA_JS, 'utf8');
  const vocabList = Buffer.from(/const llama_vocab_base64 = "([^"]+)"/.exec(src)![1], 'base64').toString('utf8').split('\n');
  const mb = Buffer.from(/const llama_merges_binary = "([^"]+)"/.exec(src)![1], 'base64');
  const merges: string[] = [];
  for (let i = 0; i + 3 < mb.length; i += 4) merges.push(`${vocabList[mb.readUInt16LE(i)]} ${vocabList[mb.readUInt16LE(i + 2)]}`);
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const fixture = JSON.parse(fs.readFileSync(path.join(BPE, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  return {
    ...fixture,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    model: { ...(fixture.model as object), vocab: Object.fromEntries(vocabList.map((tk, i) => [tk, i])), merges },
  };
}

async function llama2(): Promise<Awaited<ReturnType<typeof loadTokenizer>>> {
  const dir = tempDir('longrope-llama2-');
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(llama2TokenizerJson()));
  fs.copyFileSync(path.join(BPE, 'tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
  return loadTokenizer(dir);
}

test('LLaMA-2: known encodings (llama-tokenizer-js README and test suite)', async (t) => {
  const tok = await llama2();
  t.is(tok.vocabSize, 32000);
  const cases: [string, number[]][] = [
    ['Hello world!', [1, 15043, 3186, 29991]],
    ['grabbed', [1, 2646, 1327, 287]],
    [' grabbed', [1, 29871, 2646, 1327, 287]],
    ['           grabbed', [1, 9651, 2646, 1327, 287]],
    ['\n', [1, 29871, 13]],
    [' \n', [1, 259, 13]],
    ['\ttabs\t\t\t\tout here', [1, 29871, 12, 21175, 12, 12, 12, 12, 449, 1244]],
    ['ax\n####\nboo', [1, 4853, 13, 4136, 13, 833, 29877]],
    ['镇', [1, 29871, 30411]],
    ['🦙', [1, 29871, 243, 162, 169, 156]],
    ['🦙Ꙋ', [1, 29871, 243, 162, 169, 156, 237, 156, 141]],
    ['Ꙋ🦙', [1, 29871, 237, 156, 141, 243, 162, 169, 156]],
  ];
  for (const [s, ids] of cases) {
    t.deepEqual(tok.encode(s), ids, JSON.stringify(s));
    t.is(tok.decode(ids), s);
  }
});

test('LLaMA-2: agrees with llama-tokenizer-js on varied text', async (t) => {
  const tok = await llama2();
  // llama-tokenizer-js is an ES module: import() it (a Function keeps ts-node from turning it into require).
  const esmImport = new Function('u', 'return import(u)') as (u: string) => Promise<{ default: { encode(s: string): number[] } }>;
  const ref = (await esmImport(pathToFileURL(LLAMA_JS).href)).default;
  const texts = [
    'In the beginning God created the heaven and the earth.',
    'The llama (/ˈlɑːmə/; Spanish pronunciation: [ˈʎama]) is a domesticated South American camelid.',
    'def f(x):\n    return x ** 2  # squares\n',
    '  leading and trailing  ', 'ÀÉÎÕÜ ñ ß ø 日本語のテキスト 한국어 العربية', '1234567890 3.14159 -42 1e-5',
    'Passkey: 68345. Remember it. 68345 is the pass key.',
  ];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = 'aeiou tnsrhl.,!?\n\t\'"ÄéЖ中🦙0123456789';
  for (let i = 0; i < 40; i++) {
    const chars = Array.from(alphabet);
    texts.push(Array.from({ length: 1 + Math.floor(rand() * 60) }, () => chars[Math.floor(rand() * chars.length)]).join(''));
  }
  for (const s of texts) {
    t.deepEqual(tok.encode(s), ref.encode(s), JSON.stringify(s));
    t.is(tok.decode(tok.encode(s)), s);
  }
});
