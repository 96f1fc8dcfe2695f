/** The safetensors header rules, each with its exact message, and build/write round trips. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import test from 'ava';

import {
  buildSafetensorsHeader,
  MAX_HEADER_BYTES,
  ModelFileError,
  parseSafetensorsHeader,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../src/model/safetensors';
import { patternBytes, rawSafetensors, tempDir } from '../fixtures/checkpoint/make';

const W = 'x.safetensors';
const parse = (buf: Buffer, fileSize = buf.length) => parseSafetensorsHeader(buf, fileSize, W);
const entry = (dtype: string, shape: unknown, offs: unknown) => ({ dtype, shape, data_offsets: offs });
const hdr = (obj: Record<string, unknown>) => JSON.stringify(obj);

function throwsMessage(t: import('ava').ExecutionContext, fn: () => unknown, message: string): void {
  const err = t.throws(fn, { instanceOf: ModelFileError });
  t.is(err?.message, message);
}

test('a valid header parses: file order, absolute offsets, metadata', (t) => {
  const text = hdr({ __metadata__: { format: 'pt' }, b: entry('F16', [2, 3], [8, 20]), a: entry('F32', [2], [0, 8]) });
  const buf = rawSafetensors(text, 20);
  const h = parse(buf);
  const start = 8 + Buffer.byteLength(text);
  t.is(h.headerBytes, Buffer.byteLength(text));
  t.is(h.dataStart, start);
  t.deepEqual(h.metadata, { format: 'pt' });
  t.deepEqual(h.entries, [
    { name: 'a', dtype: 'F32', shape: [2], begin: start, end: start + 8 },
    { name: 'b', dtype: 'F16', shape: [2, 3], begin: start + 8, end: start + 20 },
  ]);
});

test('scalars, zero-size tensors, every dtype and odd names are accepted', (t) => {
  // "__proto__" as an own key: a JS object literal would set the prototype instead.
  const text = '{"__proto__":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]},' + hdr({
    constructor: entry('F64', [0, 5], [1, 1]), 'e\u00e9': entry('I64', [1], [1, 9]),
    i32: entry('I32', [1], [9, 13]), i16: entry('I16', [1], [13, 15]), i8: entry('I8', [1], [15, 16]), u8: entry('U8', [1], [16, 17]),
    bf: entry('BF16', [1], [17, 19]),
  }).slice(1);
  const h = parse(rawSafetensors(text, 19));
  t.deepEqual(h.entries.map((e) => e.name), ['__proto__', 'constructor', 'e\u00e9', 'i32', 'i16', 'i8', 'u8', 'bf']);
  t.deepEqual(h.metadata, {});
});

test('file shorter than 8 bytes', (t) => {
  throwsMessage(t, () => parse(Buffer.alloc(3)), `${W}: Expected at least 8 bytes (the header length) for file size but received 3 bytes`);
});

test('header length over 100 MB (2^40), refused before any allocation', (t) => {
  const buf = rawSafetensors('{}', 0, 2n ** 40n);
  throwsMessage(t, () => parse(buf, 2 ** 50), `${W}: Expected at most ${MAX_HEADER_BYTES} bytes for header length but received 1099511627776 bytes`);
  throwsMessage(t, () => parse(rawSafetensors('{}', 0, 2n ** 64n - 1n)), `${W}: Expected at most ${MAX_HEADER_BYTES} bytes for header length but received 18446744073709551615 bytes`);
});

test('header length past the end of the file', (t) => {
  throwsMessage(t, () => parse(rawSafetensors('{}', 0, 100n)), `${W}: Expected at most 2 bytes (the file size - 8; is the file truncated?) for header length but received 100 bytes`);
});

test('fewer header bytes given than the length says', (t) => {
  const buf = rawSafetensors('{"a":1}', 0);
  throwsMessage(t, () => parse(buf.subarray(0, 10), buf.length), `${W}: Expected 7 bytes for header but received 2 bytes (truncated)`);
});

test('invalid UTF-8, not starting with "{", invalid JSON', (t) => {
  const bad = rawSafetensors('{"a":"xx"}', 0);
  bad[14] = 0xff;
  throwsMessage(t, () => parse(bad), `${W}: Expected valid UTF-8 for header but received invalid bytes`);
  throwsMessage(t, () => parse(rawSafetensors('[1, 2]', 0)), `${W}: Expected JSON starting with "{" for header but received "[1, 2]" of type string`);
  throwsMessage(t, () => parse(rawSafetensors(' {}', 0)), `${W}: Expected JSON starting with "{" for header but received " {}" of type string`);
  const err = t.throws(() => parse(rawSafetensors('{"a": ', 0)), { instanceOf: ModelFileError });
  t.regex(err!.message, /^x\.safetensors: Expected valid JSON for header but received a syntax error \(/);
});

test('trailing space padding is accepted (HF pads the header)', (t) => {
  t.is(parse(rawSafetensors('{}      ', 0)).entries.length, 0);
});

test('unknown dtype', (t) => {
  throwsMessage(t, () => parse(rawSafetensors(hdr({ w: entry('F8_E4M3', [1], [0, 1]) }), 1)),
    `${W}: Expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL for "w".dtype but received "F8_E4M3" of type string`);
});

test('bad shapes: negative, fractional, huge, not an array', (t) => {
  const m = (shape: unknown, got: string) =>
    throwsMessage(t, () => parse(rawSafetensors(hdr({ w: entry('F32', shape, [0, 4]) }), 4)), `${W}: Expected an array of non-negative integers for "w".shape but received ${got}`);
  m([-1], 'an element -1 of type number');
  m([1.5], 'an element 1.5 of type number');
  m([2 ** 60], 'an element 1152921504606847000 of type number');
  m(['1'], 'an element "1" of type string');
  m(4, '4 of type number');
});

test('bad data_offsets: arity, order, past the end, size mismatch, overflow', (t) => {
  const m = (shape: number[], offs: unknown, data: number, msg: string) =>
    throwsMessage(t, () => parse(rawSafetensors(hdr({ w: entry('F32', shape, offs) }), data)), `${W}: Expected ${msg}`);
  m([1], [0], 4, 'two non-negative integers [begin, end] for "w".data_offsets but received [0 of type number]');
  m([1], [-4, 0], 4, 'two non-negative integers [begin, end] for "w".data_offsets but received [-4 of type number, 0 of type number]');
  m([1], [4, 0], 4, 'begin <= end for "w".data_offsets but received [4, 0]');
  m([2], [0, 8], 4, 'end <= 4 (the data size; is the file truncated?) for "w".data_offsets but received [0, 8]');
  m([2], [0, 4], 4, '8 bytes (shape [2] of F32) for "w".data_offsets but received [0, 4] (4 bytes)');
  m([2 ** 30, 2 ** 30], [0, 4], 4, 'a size that fits in 2^53 bytes for "w".data_offsets but received [0, 4] (4 bytes)');
});

test('overlap, gap, and trailing bytes break the "no holes" rule', (t) => {
  throwsMessage(t, () => parse(rawSafetensors(hdr({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }), 8)),
    `${W}: Expected begin 8 (tensors cover the data contiguously) for "b".data_offsets but received [4, 8], which overlaps the previous tensor`);
  throwsMessage(t, () => parse(rawSafetensors(hdr({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }), 12)),
    `${W}: Expected begin 4 (tensors cover the data contiguously) for "b".data_offsets but received [8, 12], which leaves a gap of 4 bytes`);
  throwsMessage(t, () => parse(rawSafetensors(hdr({ a: entry('F32', [1], [4, 8]) }), 8)),
    `${W}: Expected begin 0 (tensors cover the data contiguously) for "a".data_offsets but received [4, 8], which leaves a gap of 4 bytes`);
  throwsMessage(t, () => parse(rawSafetensors(hdr({ a: entry('F32', [1], [0, 4]) }), 6)),
    `${W}: Expected 4 bytes (the end of the last tensor) for data but received 6 bytes (2 trailing bytes)`);
});

test('duplicate keys are caught, even where JSON.parse would hide them', (t) => {
  const e = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  throwsMessage(t, () => parse(rawSafetensors(`{"a":${e},"a":${e}}`, 4)), `${W}: Expected unique keys for header but received "a" twice`);
  throwsMessage(t, () => parse(rawSafetensors(`{"a":${e},"\\u0061":${e}}`, 4)), `${W}: Expected unique keys for header but received "a" twice`);
  throwsMessage(t, () => parse(rawSafetensors('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"dtype":"F16"}}', 4)),
    `${W}: Expected unique keys for "a" but received "dtype" twice`);
  throwsMessage(t, () => parse(rawSafetensors('{"__metadata__":{"k":"1","k":"2"}}', 0)), `${W}: Expected unique keys for "__metadata__" but received "k" twice`);
  // Keys equal to strings elsewhere (values, arrays, escaped quotes) are not duplicates.
  t.notThrows(() => parse(rawSafetensors(`{"__metadata__":{"x\\"y":"a","a":"x\\"y"},"a":${e}}`, 4)));
});

test('metadata values must be strings; null metadata is none', (t) => {
  throwsMessage(t, () => parse(rawSafetensors('{"__metadata__":{"n":1}}', 0)), `${W}: Expected a string for __metadata__."n" but received 1 of type number`);
  throwsMessage(t, () => parse(rawSafetensors('{"__metadata__":[]}', 0)), `${W}: Expected an object of strings for __metadata__ but received an array of length 0`);
  t.deepEqual(parse(rawSafetensors('{"__metadata__":null}', 0)).metadata, {});
});

test('an entry must be an object', (t) => {
  throwsMessage(t, () => parse(rawSafetensors('{"w":[1]}', 0)), `${W}: Expected an object {dtype, shape, data_offsets} for "w" but received an array of length 1`);
});

test('build -> parse round trip, padded to 8 like HF', (t) => {
  const tensors = [
    { name: 'z.weight', dtype: 'BF16' as const, shape: [3, 5] },
    { name: 'a', dtype: 'F32' as const, shape: [] },
    { name: 'empty', dtype: 'I8' as const, shape: [0] },
    { name: '__proto__', dtype: 'U8' as const, shape: [7] },
  ];
  const { header, offsets } = buildSafetensorsHeader(tensors, { format: 'pt', note: 'é' });
  t.is(header.length % 8, 0);
  t.is(Number(header.readBigUInt64LE(0)), header.length - 8);
  t.deepEqual(offsets, [
    { name: 'z.weight', begin: 0, end: 30 },
    { name: 'a', begin: 30, end: 34 },
    { name: 'empty', begin: 34, end: 34 },
    { name: '__proto__', begin: 34, end: 41 },
  ]);
  const file = Buffer.concat([header, Buffer.alloc(41)]);
  const h = parse(file);
  t.deepEqual(h.metadata, { format: 'pt', note: 'é' });
  t.deepEqual(
    h.entries.map((e) => [e.name, e.dtype, e.shape, e.begin - h.dataStart, e.end - h.dataStart]),
    [['z.weight', 'BF16', [3, 5], 0, 30], ['a', 'F32', [], 30, 34], ['empty', 'I8', [0], 34, 34], ['__proto__', 'U8', [7], 34, 41]],
  );
});

test('buildSafetensorsHeader refuses bad input', (t) => {
  t.throws(() => buildSafetensorsHeader([{ name: 'a', dtype: 'F32', shape: [1] }, { name: 'a', dtype: 'F32', shape: [1] }]), {
    instanceOf: TypeError, message: 'Expected a unique tensor name other than "__metadata__" for tensors[1].name but received "a" of type string',
  });
  t.throws(() => buildSafetensorsHeader([{ name: '__metadata__', dtype: 'F32', shape: [1] }]), { instanceOf: TypeError });
  t.throws(() => buildSafetensorsHeader([{ name: 'a', dtype: 'Q4' as never, shape: [1] }]), {
    message: 'Expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL for tensors[0].dtype but received "Q4" of type string',
  });
  t.throws(() => buildSafetensorsHeader([{ name: 'a', dtype: 'F32', shape: [-1] }]), {
    message: 'Expected non-negative integers of safe total size for tensors[0].shape but received an array of length 1',
  });
});

test('writeSafetensors writes atomically and readSafetensorsHeader reads it back', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'w.safetensors');
  const a = patternBytes(24, 1);
  const b = patternBytes(6, 2);
  writeSafetensors(file, [{ name: 'a', dtype: 'F32', shape: [2, 3], data: a }, { name: 'b', dtype: 'F16', shape: [3], data: b }], { k: 'v' });
  t.deepEqual(fs.readdirSync(dir), ['w.safetensors']);
  const h = readSafetensorsHeader(file);
  t.is(h.file, file);
  t.is(h.fileSize, fs.statSync(file).size);
  const bytes = fs.readFileSync(file);
  const [ea, eb] = h.entries;
  t.deepEqual(new Uint8Array(bytes.subarray(ea.begin, ea.end)), a);
  t.deepEqual(new Uint8Array(bytes.subarray(eb.begin, eb.end)), b);
  t.deepEqual(h.metadata, { k: 'v' });
  t.throws(() => writeSafetensors(file, [{ name: 'a', dtype: 'F32', shape: [2], data: new Uint8Array(7) }]), {
    instanceOf: TypeError, message: 'Expected 8 bytes for tensors[0].data (a) but received 7 bytes',
  });
  t.deepEqual(fs.readdirSync(dir), ['w.safetensors']);
});

test('readSafetensorsHeader: truncated file, huge claimed length, missing file, directory', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'm.safetensors');
  writeSafetensors(file, [{ name: 'a', dtype: 'F32', shape: [4], data: new Uint8Array(16) }]);
  fs.truncateSync(file, fs.statSync(file).size - 4);
  t.throws(() => readSafetensorsHeader(file), {
    instanceOf: ModelFileError, message: 'm.safetensors: Expected end <= 12 (the data size; is the file truncated?) for "a".data_offsets but received [0, 16]',
  });
  fs.writeFileSync(file, rawSafetensors('{}', 0, 2n ** 40n));
  t.throws(() => readSafetensorsHeader(file, 'shard-1'), { message: `shard-1: Expected at most ${MAX_HEADER_BYTES} bytes for header length but received 1099511627776 bytes` });
  fs.writeFileSync(file, Buffer.alloc(5));
  t.throws(() => readSafetensorsHeader(file), { message: 'm.safetensors: Expected at least 8 bytes (the header length) for file size but received 5 bytes' });
  t.throws(() => readSafetensorsHeader(path.join(dir, 'nope.safetensors')), { instanceOf: ModelFileError, message: /^nope\.safetensors: cannot open .* \(ENOENT\)$/ });
  t.throws(() => readSafetensorsHeader(dir, 'd'), { instanceOf: ModelFileError, message: /^d: / });
});

test('readSafetensorsHeader allocates nothing proportional to a claimed length the file cannot back', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'liar.safetensors');
  fs.writeFileSync(file, rawSafetensors('{}', 64, 90_000_000n));
  const original = Buffer.alloc;
  let largest = 0;
  Buffer.alloc = ((size: number, ...rest: never[]) => {
    largest = Math.max(largest, size);
    return original(size, ...rest);
  }) as typeof Buffer.alloc;
  try {
    t.throws(() => readSafetensorsHeader(file), { message: /^liar\.safetensors: Expected at most 66 bytes \(the file size - 8; is the file truncated\?\) for header length/ });
  } finally {
    Buffer.alloc = original;
  }
  t.true(largest <= 8, `allocated ${largest} bytes`);
});
