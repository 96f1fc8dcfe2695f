/**
 * Bad input through the real `longrope` binary: every case ends in one line on stderr naming the
 * problem and a non-zero exit (2 where the command defines it), never a raw system error, a hang,
 * a partial file, or a silently wrong number. (Issue 10's "nothing silently wrong".)
 */
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';

import test from 'ava';

import { readSafetensorsHeader } from '../../src/model/safetensors';
import { TINY, tinyModelCopy } from '../helpers/tiny-model';

const run = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'longrope.js');

interface Ran { stdout: string; stderr: string; code: number }

async function longrope(...args: string[]): Promise<Ran> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 300_000 });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number; killed?: boolean };
    if (err.killed) throw new Error(`longrope ${args.join(' ')} hung (killed after 300 s)`);
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

/** A copy of tiny-llama with the byte tokenizer, and a 3,000-byte document. */
function setup(): { dir: string; model: string; doc: string } {
  const { dir, model } = tinyModelCopy('longrope-bad-');
  const doc = path.join(dir, 'doc.txt');
  fs.writeFileSync(doc, 'the sky is blue and the grass is green. '.repeat(75));
  return { dir, model, doc };
}

/** One stderr line starting `longrope: `, with no raw errno text and no stack. */
function oneLine(t: { is: (a: unknown, b: unknown, m?: string) => void; false: (v: boolean, m?: string) => void }, r: Ran): string {
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('longrope: warning'));
  t.is(lines.length, 1, r.stderr);
  t.false(/^\s+at /m.test(r.stderr), 'no stack trace');
  return lines[0];
}

test('ppl: --output on a directory, under a file, on /proc: refused before any work, nothing left behind', async (t) => {
  const s = setup();
  const asDir = await longrope('ppl', '--model', s.model, '--data', s.doc, '--lengths', '64', '--output', s.dir);
  t.is(asDir.code, 1);
  t.regex(oneLine(t, asDir), /^longrope: Expected a file path for --output but received ".*", which is a directory$/);
  const underFile = await longrope('ppl', '--model', s.model, '--data', s.doc, '--lengths', '64', '--output', path.join(s.doc, 'x.json'));
  t.is(underFile.code, 1);
  t.regex(oneLine(t, underFile), /^longrope: Expected a path whose parents are directories for --output but received .*doc\.txt is a file\)$/);
  const proc = await longrope('ppl', '--model', s.model, '--data', s.doc, '--lengths', '64', '--output', '/proc/longrope/ppl.json');
  t.is(proc.code, 1);
  t.regex(oneLine(t, proc), /Expected a path on a regular file system for --output/);
  t.deepEqual(fs.readdirSync(s.dir).sort(), ['doc.txt', 'model']);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('ppl: a length beyond every document warns; none at all exits non-zero', async (t) => {
  const s = setup();
  const none = await longrope('ppl', '--model', s.model, '--data', s.doc, '--lengths', '8192', '--json');
  t.is(none.code, 1);
  t.regex(none.stderr, /warning: no document has enough tokens for length 8192/);
  t.regex(none.stderr, /Expected a document of at least 8192 tokens in --data but received none \(the longest has 3000\)/);
  const some = await longrope('ppl', '--model', s.model, '--data', s.doc, '--lengths', '64,8192', '--json');
  t.is(some.code, 0, some.stderr);
  t.regex(some.stderr, /warning: no document has enough tokens for length 8192/);
  const out = JSON.parse(some.stdout);
  t.true(out.results[0].ppl > 1);
  t.is(out.results[1].windows, 0);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('ppl and passkey: weights holding NaN fail at load, naming the tensor', async (t) => {
  const s = setup();
  const file = path.join(s.model, 'model.safetensors');
  const header = readSafetensorsHeader(file);
  const bytes = fs.readFileSync(file);
  const victim = header.entries.find((e) => e.name === 'model.layers.1.mlp.up_proj.weight')!;
  const start = header.dataStart + victim.begin;
  bytes.writeFloatLE(NaN, start + 4 * 7);
  fs.writeFileSync(file, bytes);
  for (const args of [['ppl', '--data', s.doc, '--lengths', '64'], ['passkey', '--lengths', '300', '--trials', '1']]) {
    const r = await longrope(args[0], '--model', s.model, ...args.slice(1));
    t.is(r.code, 1);
    t.regex(oneLine(t, r), /model\.safetensors: tensor model\.layers\.1\.mlp\.up_proj\.weight holds non-finite values/);
  }
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('ppl: a byte-level model reads an invalid UTF-8 file as its bytes, not as U+FFFD', async (t) => {
  const s = setup();
  // Latin-1 text: every "é" is the lone byte 0xE9, invalid as UTF-8.
  const latin1 = path.join(s.dir, 'latin1.txt');
  const text = 'caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, '.repeat(40);
  fs.writeFileSync(latin1, Buffer.from(text, 'latin1'));
  const r = await longrope('ppl', '--model', s.model, '--data', latin1, '--lengths', '64', '--truncate', '--json');
  t.is(r.code, 0, r.stderr);
  t.is(JSON.parse(r.stdout).results[0].tokens, 63);
  // The tokens are the file's bytes (U+FFFD would be the three bytes EF BF BD per "é").
  const viaApi = await import('../../src/data');
  const docs = [];
  for await (const d of viaApi.readDocuments([latin1])) docs.push(d);
  const ids = viaApi.encodeDocument(new viaApi.ByteTokenizer(), docs[0]);
  t.deepEqual(Array.from(ids), Array.from(Buffer.from(text, 'latin1')));
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('estimate: --json exits 2 when it does not fit; bad numbers name their flag', async (t) => {
  const s = setup();
  const tooBig = await longrope('estimate', '--model', s.model, '--length', '1000000', '--memory', '0.001', '--json');
  t.is(tooBig.code, 2);
  t.false(JSON.parse(tooBig.stdout).fits);
  const fits = await longrope('estimate', '--model', s.model, '--length', '64', '--memory', '100', '--json');
  t.is(fits.code, 0);
  for (const [flag, value, message] of [
    ['--memory', '-1', 'Expected a finite number greater than 0 for --memory but received "-1" of type string'],
    ['--memory', 'lots', 'Expected a finite number greater than 0 for --memory but received "lots" of type string'],
    ['--length', '1e3', 'Expected a positive integer for --length but received "1e3" of type string'],
    ['--mode', 'decode', 'Expected one of "nll", "generate", "train" for --mode but received "decode" of type string'],
  ]) {
    const args = ['estimate', '--model', s.model, '--length', '64', '--json'];
    const i = args.indexOf(flag);
    if (i >= 0) args[i + 1] = value;
    else args.push(flag, value);
    const r = await longrope(...args);
    t.is(r.code, 1, `${flag} ${value}`);
    t.is(oneLine(t, r), `longrope: ${message}`);
  }
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('report: --out that is a file, or on /proc, is refused with the flag named', async (t) => {
  const s = setup();
  const result = path.join(s.dir, 'r.json');
  fs.writeFileSync(result, JSON.stringify({ kind: 'perplexity', method: 'x', results: [{ length: 64, ppl: 2 }] }));
  const onFile = await longrope('report', result, '--out', s.doc);
  t.is(onFile.code, 1);
  t.regex(oneLine(t, onFile), /Expected a directory path for --out but received ".*doc\.txt", which is a file/);
  const proc = await longrope('report', result, '--out', '/proc/self/longrope-report');
  t.is(proc.code, 1);
  t.regex(oneLine(t, proc), /Expected a path on a regular file system for --out/);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('the API: short RoPE tables, positions past 2^31 and a NaN memory limit are refused', async (t) => {
  const { Model } = await import('../../src/model/model');
  const { computeRopeTables } = await import('../../src/rope');
  await t.throwsAsync(Model.load(TINY, { memoryLimitBytes: NaN }), {
    message: 'Expected a number greater than 0 (Infinity: no limit) for memoryLimitBytes but received NaN of type number',
  });
  const model = await Model.load(TINY);
  try {
    const spec = model.config.rope;
    const short = computeRopeTables({ ...spec, headDim: spec.headDim - 2 });
    await t.throwsAsync(model.nll([1, 2, 3], { rope: short }), {
      message: `Expected ${spec.headDim / 2} frequencies (the model's rotary dims / 2) for rope.invFreq but received ${spec.headDim / 2 - 1}`,
    });
    await t.throwsAsync(model.nll([1, 2, 3], { positionOffset: 2 ** 31 }), {
      message: 'Expected a non-negative integer with positionOffset + tokens <= 2147483647 for positionOffset but received 2147483648 of type number',
    });
    t.is((await model.nll([1, 2, 3], { positionOffset: 2 ** 31 - 4 })).length, 2);
  } finally {
    model.dispose();
  }
});
