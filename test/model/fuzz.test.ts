/**
 * Hostile input, seeded: thousands of mutated safetensors headers, config.json files and shard
 * indexes. Every case must end in a ModelFileError whose message starts with the file name and
 * follows the grammar, or in a result that is self-consistent. Anything else (a RangeError from
 * Buffer, a TypeError from undefined, a hang) fails the test with the seed to replay it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import test, { type ExecutionContext } from 'ava';

import { readCheckpoint } from '../../src/model/checkpoint';
import { modelConfigToJson, parseModelConfig, readModelConfig, type ModelConfig } from '../../src/model/config';
import { expectedTensorShapes } from '../../src/model/tensor-shapes';
import { buildSafetensorsHeader, DTYPE_BYTES, ModelFileError, parseSafetensorsHeader, type SafetensorsDtype } from '../../src/model/safetensors';
import { LLAMA2_7B, tempDir, tinyConfigJson, tinyTensors, writeTinyCheckpoint } from '../fixtures/checkpoint/make';

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const GRAMMAR = /Expected [\s\S]+ for [\s\S]+ but received /;

/** Records what went wrong instead of asserting thousands of times. */
class Outcomes {
  ok = 0;
  errors = 0;
  failures: string[] = [];
  expectError(e: unknown, prefixes: readonly string[], label: string, grammar = true): void {
    this.errors++;
    const msg = e instanceof Error ? e.message : String(e);
    if (!(e instanceof ModelFileError)) this.failures.push(`${label}: ${(e as Error)?.constructor?.name}: ${msg}`);
    else if (!prefixes.some((p) => msg.startsWith(`${p}: `)) || !msg.startsWith(`${e.file}: `)) this.failures.push(`${label}: bad prefix: ${msg}`);
    else if (grammar && !GRAMMAR.test(msg)) this.failures.push(`${label}: bad grammar: ${msg}`);
  }
  check(t: ExecutionContext, minOk: number, minErrors: number): void {
    // FUZZ_SHOW=1 lists every failure instead of the first five.
    t.deepEqual(this.failures.slice(0, process.env.FUZZ_SHOW ? 1000 : 5), [], `${this.failures.length} failures`);
    t.true(this.ok >= minOk, `only ${this.ok} valid cases`);
    t.true(this.errors >= minErrors, `only ${this.errors} errors`);
    t.log(`${this.ok} parsed, ${this.errors} refused`);
  }
}

// ---------------------------------------------------------------- safetensors headers

const W = 'fuzz.safetensors';
const DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];

function baseHeaders(): { json: Record<string, unknown>; dataSize: number }[] {
  const tiny = tinyTensors(tinyConfigJson()).map(({ name, dtype, shape }) => ({ name, dtype, shape }));
  const mixed = [
    { name: 'a', dtype: 'BF16' as const, shape: [3, 5] }, { name: 'scalar', dtype: 'F64' as const, shape: [] },
    { name: 'empty', dtype: 'I8' as const, shape: [0, 4] }, { name: 'b', dtype: 'BOOL' as const, shape: [7] },
    { name: 'c', dtype: 'I64' as const, shape: [2, 1, 2] },
  ];
  return [tiny, mixed, []].map((ts, i) => {
    const { header, offsets } = buildSafetensorsHeader(ts, i === 2 ? undefined : { format: 'pt' });
    const json = JSON.parse(header.subarray(8).toString('utf8')) as Record<string, unknown>;
    return { json, dataSize: offsets.length ? offsets[offsets.length - 1].end : 0 };
  });
}

const WEIRD: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, 1e300, '', 'F32', '0', [], [0], [1, 2, 3], {}, { a: 1 }];
const OFFSETS = (b: number, e: number, size: number): unknown[] => [
  [b, e + 1], [e, b], [b - 1, e - 1], [b, size + 1], [0, 2 ** 53], [-1, 3], [1.5, 2], ['0', e], [b], [b, e, 1], null, {}, [0, 0], [e, e + (e - b)],
];
const SHAPES: unknown[] = [[-1], [1.5], [2 ** 53], [2 ** 31, 2 ** 31], '4', [[1]], [], [0], [1, 1], null, [1e300], [2 ** 26, 2 ** 26, 2 ** 26]];

function mutateJson(r: Rng, json: Record<string, unknown>, dataSize: number): void {
  const names = Object.keys(json).filter((k) => k !== '__metadata__');
  const name = names.length ? r.pick(names) : 'new';
  const current = json[name];
  const entry = (typeof current === 'object' && current !== null && !Array.isArray(current) ? current : { dtype: 'F32', shape: [1], data_offsets: [0, 4] }) as Record<string, unknown>;
  const [b, e] = Array.isArray(entry.data_offsets) ? (entry.data_offsets as number[]) : [0, 4];
  switch (r.int(10)) {
    case 0: entry.data_offsets = r.pick(OFFSETS(b, e, dataSize)); json[name] = entry; break;
    case 1: entry.shape = r.pick(SHAPES); json[name] = entry; break;
    case 2: entry.dtype = r.pick([...DTYPES, 'F8_E4M3', 'f32', '', 5, null]); json[name] = entry; break;
    case 3: delete entry[r.pick(['dtype', 'shape', 'data_offsets'])]; json[name] = entry; break;
    case 4: json[name] = r.pick(WEIRD); break;
    case 5: { // swap two tensors' offsets
      const other = json[r.pick(names.length ? names : ['x'])] as Record<string, unknown> | undefined;
      if (other && typeof other === 'object') [entry.data_offsets, other.data_offsets] = [other.data_offsets, entry.data_offsets];
      break;
    }
    case 6: json[`${name}.copy`] = { ...entry }; break; // overlaps the original
    case 7: json.__metadata__ = r.pick([{ k: 1 }, [], null, { k: { x: 'y' } }, { k: 'v', 'é': '✓' }, 'meta']); break;
    case 8: { // rename
      const to = r.pick(['__metadata__', '__proto__', '', 'constructor', 'toString', `${name} `]);
      Object.defineProperty(json, to, { value: entry, enumerable: true, configurable: true, writable: true });
      delete json[name];
      break;
    }
    default: delete json[name];
  }
}

function mutateText(r: Rng, text: string): string {
  const at = r.int(text.length + 1);
  switch (r.int(7)) {
    case 0: { // duplicate key
      const m = /"([^"\\]+)":\{[^{}]*\}/.exec(text);
      return m ? `{${m[0]},${text.slice(1)}` : text;
    }
    case 1: return text.slice(0, at);
    case 2: return text.slice(0, at) + r.pick(['{', '}', '[', ']', '"', ',', ':', '\\', 'NaN', '-', '1e999', '\u0000', '\ud800', ' ']) + text.slice(at);
    case 3: return r.pick(['[]', '"str"', '1', 'null', ' {}', '{}', '{"a":1}{}', '\ufeff{}', '{"__metadata__":{}}']);
    case 4: return text + r.pick(['        ', 'garbage', '\n', '\t ']);
    case 5: return `${text.slice(0, at)}${text.slice(at + 1 + r.int(8))}`;
    default: return text;
  }
}

/** Self-consistency of a header that parsed. */
function headerProblem(h: ReturnType<typeof parseSafetensorsHeader>, fileSize: number): string | null {
  if (h.dataStart !== 8 + h.headerBytes || h.fileSize !== fileSize) return 'sizes';
  let at = h.dataStart;
  const names = new Set<string>();
  for (const e of h.entries) {
    if (!DTYPES.includes(e.dtype)) return `dtype ${e.dtype}`;
    if (!e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `shape ${e.shape}`;
    if (e.begin !== at || e.end < e.begin) return `offsets of ${e.name}`;
    if (e.end - e.begin !== e.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[e.dtype]) return `size of ${e.name}`;
    if (names.has(e.name) || e.name === '__metadata__') return `name ${e.name}`;
    names.add(e.name);
    at = e.end;
  }
  if (at !== fileSize) return 'coverage';
  return Object.values(h.metadata).every((v) => typeof v === 'string') ? null : 'metadata';
}

test('3000 mutated safetensors headers', (t) => {
  const bases = baseHeaders();
  const out = new Outcomes();
  for (let seed = 0; seed < 3000; seed++) {
    const r = rng(seed);
    const base = r.pick(bases);
    const json = structuredClone(base.json);
    const jsonMutations = r.int(3);
    for (let i = 0; i < jsonMutations; i++) mutateJson(r, json, base.dataSize);
    let text = JSON.stringify(json);
    if (r.next() < 0.3) text = mutateText(r, text);
    const head = Buffer.from(text, 'utf8');
    let data = base.dataSize;
    if (r.next() < 0.1) data += r.pick([1, 7, -1, -base.dataSize]);
    const file = Buffer.alloc(8 + head.length + Math.max(0, data) + 16);
    file.writeBigUInt64LE(BigInt(head.length), 0);
    head.copy(file, 8);
    let bytes: Uint8Array = file.subarray(0, 8 + head.length + Math.max(0, data));
    let fileSize = bytes.length;
    switch (r.int(8)) {
      case 0: for (let i = 0, n = 1 + r.int(4); i < n; i++) file[r.int(Math.min(bytes.length, 8 + head.length))] ^= 1 << r.int(8); break;
      case 1: file.writeBigUInt64LE(r.pick([0n, 1n, BigInt(head.length - 1), BigInt(head.length + 1), 2n ** 40n, 2n ** 64n - 1n, BigInt(fileSize - 8), BigInt(fileSize - 7), BigInt(r.int(2 ** 32))]), 0); break;
      case 2: bytes = bytes.subarray(0, r.int(bytes.length + 1)); break;
      case 3: fileSize = r.pick([0, 7, 8, fileSize - 1, fileSize + 1, 2 ** 40]); break;
      case 4: bytes = file.subarray(0, bytes.length + 16); fileSize = bytes.length; break; // trailing bytes
      case 5: { // a view with a non-zero byteOffset
        const shifted = Buffer.alloc(bytes.length + 3);
        Buffer.from(bytes).copy(shifted, 3);
        bytes = shifted.subarray(3);
        break;
      }
      default: break;
    }
    try {
      const h = parseSafetensorsHeader(bytes, fileSize, W);
      out.ok++;
      const problem = headerProblem(h, fileSize);
      if (problem) out.failures.push(`seed ${seed}: parsed but inconsistent: ${problem}`);
    } catch (e) {
      out.expectError(e, [W], `seed ${seed}`);
    }
  }
  out.check(t, 200, 2000);
});

// ---------------------------------------------------------------- config.json

const MISTRAL = { ...LLAMA2_7B, architectures: ['MistralForCausalLM'], model_type: 'mistral', num_key_value_heads: 8, sliding_window: 4096, max_position_embeddings: 32768 };
const CONFIG_BASES: Record<string, unknown>[] = [
  tinyConfigJson(), LLAMA2_7B, MISTRAL,
  tinyConfigJson({ max_position_embeddings: 256, rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 } }),
  tinyConfigJson({ max_position_embeddings: 256, original_max_position_embeddings: 64, rope_scaling: { rope_type: 'longrope', long_factor: [1, 4], short_factor: [1, 1] } }),
  tinyConfigJson({ rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } }),
  tinyConfigJson({ rope_scaling: { type: 'linear', factor: 2 } }),
  tinyConfigJson({ head_dim: 8, tie_word_embeddings: true, eos_token_id: [2, 3] }),
];
const TOP_KEYS = [
  'architectures', 'model_type', 'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
  'num_key_value_heads', 'head_dim', 'hidden_act', 'rms_norm_eps', 'rope_theta', 'max_position_embeddings',
  'original_max_position_embeddings', 'rope_scaling', 'sliding_window', 'tie_word_embeddings', 'torch_dtype', 'dtype',
  'bos_token_id', 'eos_token_id', 'attention_bias', 'partial_rotary_factor', 'rope_parameters',
];
const ROPE_KEYS = ['rope_type', 'type', 'factor', 'original_max_position_embeddings', 'long_factor', 'short_factor', 'low_freq_factor', 'high_freq_factor', 'beta_fast', 'attention_factor', 'mscale'];
const VALUES: unknown[] = [
  null, 0, -1, 1, 2, 3, 4, 7, 1.5, -0, 1e300, 2 ** 53, 2 ** 31, 1e-5, 'NaN', 'Infinity', '-1', '4096', '', 'llama', 'silu', 'gelu',
  true, false, [], [1], [1, 2], ['LlamaForCausalLM'], ['MistralForCausalLM'], ['BertModel'], {}, { rope_type: 'yarn' }, { rope_type: 'dynamic', factor: 2 },
  'float16', 'bfloat16', 'float64', 'yarn', 'longrope', 'su', 'llama3', 'linear', 'default', [1, 2, 3], [0.5, 1],
];

function mutateConfig(r: Rng, json: Record<string, unknown>): void {
  if (r.next() < 0.25) {
    let rs = json.rope_scaling;
    if (typeof rs !== 'object' || rs === null || Array.isArray(rs)) rs = json.rope_scaling = { rope_type: r.pick(['yarn', 'longrope', 'llama3', 'dynamic']) };
    const k = r.pick(ROPE_KEYS);
    if (r.next() < 0.2) delete (rs as Record<string, unknown>)[k];
    else (rs as Record<string, unknown>)[k] = r.pick(VALUES);
    return;
  }
  const k = r.pick(TOP_KEYS);
  if (r.next() < 0.3) delete json[k];
  else json[k] = r.pick(VALUES);
}

const strip = ({ raw: _raw, ...c }: ModelConfig) => c;

function configProblem(c: ModelConfig): string | null {
  const sizes = [c.vocabSize, c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim, c.maxPositionEmbeddings, c.originalMaxPositionEmbeddings];
  if (!sizes.every((n) => Number.isSafeInteger(n) && n > 0)) return `sizes ${sizes}`;
  if (c.numHeads % c.numKvHeads !== 0) return 'kv heads';
  if (c.raw.head_dim == null && c.headDim * c.numHeads !== c.hiddenSize) return 'head dim';
  if (!(c.rmsNormEps > 0) || !Number.isFinite(c.ropeTheta)) return 'eps/theta';
  for (const [name, shape] of expectedTensorShapes(c)) if (!shape.every((d) => Number.isSafeInteger(d) && d > 0)) return `shape of ${name}`;
  // Writing back may move max_position_embeddings into HF's form for the method; all else, RoPE
  // included, must come back unchanged.
  const back = parseModelConfig(modelConfigToJson(c));
  const norm = (x: ModelConfig) => JSON.stringify({ ...strip(x), maxPositionEmbeddings: 0 });
  if (norm(back) !== norm(c)) return `round trip: ${norm(back)} vs ${norm(c)}`;
  return null;
}

test('1000 mutated config.json objects', (t) => {
  const out = new Outcomes();
  for (let seed = 0; seed < 1000; seed++) {
    const r = rng(10_000 + seed);
    let json: unknown = structuredClone(r.pick(CONFIG_BASES));
    for (let i = 0, n = 1 + r.int(3); i < n; i++) mutateConfig(r, json as Record<string, unknown>);
    if (r.next() < 0.02) json = r.pick([null, [], 'config', 3]);
    try {
      const c = parseModelConfig(json);
      out.ok++;
      let problem: string | null;
      try {
        problem = configProblem(c);
      } catch (e) {
        problem = `writing back failed: ${(e as Error).message}`;
      }
      if (problem) out.failures.push(`seed ${seed}: parsed but ${problem}`);
    } catch (e) {
      out.expectError(e, ['config.json'], `seed ${seed}`);
    }
  }
  out.check(t, 100, 500);
});

test('300 mutated config.json files on disk', (t) => {
  const dir = tempDir('longrope-fuzz-cfg-');
  const out = new Outcomes();
  for (let seed = 0; seed < 300; seed++) {
    const r = rng(20_000 + seed);
    fs.writeFileSync(path.join(dir, 'config.json'), mutateText(r, JSON.stringify(r.pick(CONFIG_BASES))));
    try {
      readModelConfig(dir);
      out.ok++;
    } catch (e) {
      out.expectError(e, ['config.json'], `seed ${seed}`);
    }
  }
  out.check(t, 20, 100);
});

// ---------------------------------------------------------------- shard indexes

test('300 mutated shard indexes and shards', (t) => {
  const dir = fs.realpathSync(tempDir('longrope-fuzz-ckpt-'));
  const outside = fs.realpathSync(tempDir('longrope-fuzz-out-'));
  const { weightMap } = writeTinyCheckpoint(dir, { shards: 2 });
  const shards = [...new Set(Object.values(weightMap))];
  fs.copyFileSync(path.join(dir, shards[1]), path.join(outside, shards[1]));
  fs.symlinkSync(path.join(outside, shards[1]), path.join(dir, 'escape.safetensors'));
  fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.safetensors'));
  fs.symlinkSync('/dev/zero', path.join(dir, 'zero.safetensors'));
  fs.symlinkSync(path.join(dir, shards[0]), path.join(dir, 'alias.safetensors'));
  fs.mkdirSync(path.join(dir, 'subdir'));
  const names: unknown[] = [
    `../${shards[0]}`, '/etc/passwd', 'escape.safetensors', 'passwd.safetensors', 'zero.safetensors', 'alias.safetensors', 'subdir',
    `subdir/../${shards[0]}`, `./${shards[0]}`, '', 'nope.safetensors', 'a\u0000b', '..\\x', 'C:\\x', `${outside}/${shards[1]}`, 5, null, {}, [],
    ...shards,
  ];
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const originalIndex = fs.readFileSync(indexFile, 'utf8');
  const originalShards = shards.map((s) => fs.readFileSync(path.join(dir, s)));
  const prefixes = ['config.json', 'model.safetensors.index.json', dir, 'b', ...shards, ...names.filter((n): n is string => typeof n === 'string' && n !== '')];
  const out = new Outcomes();
  for (let seed = 0; seed < 300; seed++) {
    const r = rng(30_000 + seed);
    const index = JSON.parse(originalIndex) as { weight_map: Record<string, unknown> };
    const map = index.weight_map;
    const keys = Object.keys(map);
    let text: string | null = null;
    let shardEdit = -1;
    for (let i = 0, n = 1 + r.int(2); i < n; i++) {
      switch (r.int(7)) {
        case 0: case 1: map[r.pick(keys)] = r.pick(names); break;
        case 2: delete map[r.pick(keys)]; break;
        case 3: Object.defineProperty(map, r.pick(['__proto__', 'constructor', 'extra.weight']), { value: r.pick(names), enumerable: true, writable: true, configurable: true }); break;
        case 4: index.weight_map = r.pick([null, [], 'x', { a: 'b' }]) as Record<string, unknown>; break;
        case 5: text = mutateText(r, JSON.stringify(index)); break;
        default: shardEdit = r.int(shards.length);
      }
    }
    fs.writeFileSync(indexFile, text ?? JSON.stringify(index));
    if (shardEdit >= 0) {
      const bytes = Buffer.from(originalShards[shardEdit]);
      if (r.next() < 0.5) bytes[r.int(Math.min(bytes.length, 600))] ^= 1 << r.int(8);
      fs.writeFileSync(path.join(dir, shards[shardEdit]), r.next() < 0.5 ? bytes : bytes.subarray(0, r.int(bytes.length)));
    }
    try {
      const ckpt = readCheckpoint(dir);
      out.ok++;
      const expected = [...expectedTensorShapes(ckpt.config)];
      ckpt.tensors.forEach((loc, i) => {
        const size = fs.statSync(loc.file).size;
        const ok = loc.name === expected[i][0] && loc.file.startsWith(dir + path.sep) && loc.offset >= 8 && loc.offset + loc.byteLength <= size &&
          loc.byteLength === loc.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[loc.dtype] && loc.shape.join() === expected[i][1].join();
        if (!ok) out.failures.push(`seed ${seed}: inconsistent location ${JSON.stringify(loc)}`);
      });
    } catch (e) {
      // "no such file" / "holds pytorch_model.bin" style messages name the file but are not "Expected" sentences.
      // A missing shard is named as the (possibly mangled) index spells it.
      const missing = e instanceof ModelFileError && / no such file in /.test(e.message);
      out.expectError(e, missing ? [e.file] : prefixes, `seed ${seed}`, !missing);
    }
    if (shardEdit >= 0) fs.writeFileSync(path.join(dir, shards[shardEdit]), originalShards[shardEdit]);
  }
  out.check(t, 10, 200);
});
