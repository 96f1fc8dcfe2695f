/** Checkpoint directories: single and sharded, every refusal with its message. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import test from 'ava';

import { parseModelConfig } from '../../src/model/config';
import { expectedTensorShapes } from '../../src/model/tensor-shapes';
import { readCheckpoint } from '../../src/model/checkpoint';
import { ModelFileError, writeSafetensors } from '../../src/model/safetensors';
import { tempDir, tinyConfigJson, writeTinyCheckpoint } from '../fixtures/checkpoint/make';

const Q0 = 'model.layers.0.self_attn.q_proj.weight';

function setup(opts: Parameters<typeof writeTinyCheckpoint>[1] = {}) {
  const dir = tempDir();
  return { dir, ...writeTinyCheckpoint(dir, opts) };
}

function throwsMessage(t: import('ava').ExecutionContext, dir: string, message: string | RegExp): void {
  const err = t.throws(() => readCheckpoint(dir), { instanceOf: ModelFileError });
  if (typeof message === 'string') t.is(err?.message, message);
  else t.regex(err?.message ?? '', message);
}

/** Every location must point at the bytes written for that tensor. */
function checkData(t: import('ava').ExecutionContext, dir: string): void {
  const ckpt = readCheckpoint(dir);
  const names = [...expectedTensorShapes(ckpt.config).keys()];
  t.deepEqual(ckpt.tensors.map((x) => x.name), names);
  ckpt.tensors.forEach((loc, i) => {
    t.true(path.isAbsolute(loc.file));
    const fd = fs.openSync(loc.file, 'r');
    const buf = Buffer.alloc(loc.byteLength);
    fs.readSync(fd, buf, 0, loc.byteLength, loc.offset);
    fs.closeSync(fd);
    t.is(loc.byteLength, loc.shape.reduce((a, b) => a * b, 1) * 4);
    t.is(buf[1], (31 + i * 7) & 0xff, loc.name);
  });
}

test('single model.safetensors', (t) => {
  const { dir } = setup();
  const ckpt = readCheckpoint(dir);
  t.is(ckpt.dir, fs.realpathSync(dir));
  t.is(ckpt.tensors.length, 21);
  t.deepEqual(ckpt.ignored, []);
  // The state_dict order of the native name table: embeddings, then q_proj first in each layer.
  t.deepEqual(ckpt.tensors[1], {
    name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [16, 16],
    file: path.join(fs.realpathSync(dir), 'model.safetensors'), offset: ckpt.tensors[1].offset, byteLength: 1024,
  });
  checkData(t, dir);
});

test('sharded checkpoint with an index (3 shards)', (t) => {
  const { dir } = setup({ shards: 3 });
  const ckpt = readCheckpoint(dir);
  t.is(new Set(ckpt.tensors.map((x) => x.file)).size, 3);
  checkData(t, dir);
});

test('F16 and BF16 weights are accepted', (t) => {
  for (const dtype of ['F16', 'BF16'] as const) {
    const { dir } = setup({ dtype });
    t.true(readCheckpoint(dir).tensors.every((x) => x.dtype === dtype && x.byteLength === x.shape.reduce((a, b) => a * b, 1) * 2));
  }
});

test('wrong shape names the file, the tensor and both shapes', (t) => {
  const { dir } = setup({ edit: (ts) => ts.map((x) => (x.name === Q0 ? { ...x, shape: [8, 32] } : x)) });
  throwsMessage(t, dir, `model.safetensors: Expected shape [16, 16] for ${Q0} but received [8, 32]`);
});

test('non-float dtype', (t) => {
  const { dir } = setup({ edit: (ts) => ts.map((x) => (x.name === 'model.norm.weight' ? { ...x, dtype: 'I32' } : x)) });
  throwsMessage(t, dir, 'model.safetensors: Expected dtype F32, F16 or BF16 for model.norm.weight but received "I32" of type string');
});

test('missing tensors: the first few by name and the count', (t) => {
  const { dir } = setup({ edit: (ts) => ts.filter((x) => !x.name.startsWith('model.layers.1.')) });
  throwsMessage(t, dir, 'model.safetensors: Expected every tensor of a 2-layer llama for weights but received 9 missing: ' +
    'model.layers.1.self_attn.q_proj.weight, model.layers.1.self_attn.k_proj.weight, model.layers.1.self_attn.v_proj.weight, ' +
    'model.layers.1.self_attn.o_proj.weight, model.layers.1.mlp.gate_proj.weight (and 4 more)');
  const tied = setup({ edit: (ts) => ts.filter((x) => x.name !== 'lm_head.weight') });
  throwsMessage(t, tied.dir, 'model.safetensors: Expected every tensor of a 2-layer llama for weights but received 1 missing: lm_head.weight');
});

test('extra tensors: inv_freq silently, others listed; a tied lm_head is ignored', (t) => {
  const extra = (name: string) => ({ name, dtype: 'F32' as const, shape: [2], data: new Uint8Array(8) });
  const { dir } = setup({
    config: tinyConfigJson({ tie_word_embeddings: true }),
    edit: (ts) => [...ts, extra('model.layers.0.self_attn.rotary_emb.inv_freq'), extra('zz.extra'), extra('lm_head.weight')],
  });
  const ckpt = readCheckpoint(dir);
  t.deepEqual(ckpt.ignored, ['lm_head.weight', 'zz.extra']);
  t.is(ckpt.tensors.length, 20);
});

test('missing config, missing weights, pytorch_model.bin only, not a directory', (t) => {
  const dir = tempDir();
  throwsMessage(t, dir, `config.json: no config.json in ${fs.realpathSync(dir)}`);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(tinyConfigJson()));
  throwsMessage(t, dir, `model.safetensors: no model.safetensors or model.safetensors.index.json in ${fs.realpathSync(dir)}`);
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
  throwsMessage(t, dir, /^.*: holds pytorch_model\.bin, but longrope reads safetensors only .*save_pretrained\('OUT', safe_serialization=True\)/);
  throwsMessage(t, path.join(dir, 'nope'), `${path.join(dir, 'nope')}: no such directory`);
  throwsMessage(t, path.join(dir, 'config.json'), `${path.join(dir, 'config.json')}: not a directory`);
});

test('truncated weights file', (t) => {
  const { dir } = setup();
  const file = path.join(dir, 'model.safetensors');
  fs.truncateSync(file, fs.statSync(file).size - 100);
  throwsMessage(t, dir, /^model\.safetensors: Expected end <= \d+ \(the data size; is the file truncated\?\) for "lm_head\.weight"\.data_offsets/);
  fs.truncateSync(file, 20);
  throwsMessage(t, dir, /^model\.safetensors: Expected at most 12 bytes \(the file size - 8; is the file truncated\?\) for header length/);
});

function editIndex(dir: string, edit: (map: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'model.safetensors.index.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { weight_map: Record<string, unknown> };
  edit(json.weight_map);
  fs.writeFileSync(file, JSON.stringify(json));
}

test('shard names may not leave the directory', (t) => {
  const cases: [unknown, string][] = [
    ['../model-00001-of-00002.safetensors', 'no ".." segments'],
    ['sub/../../x.safetensors', 'no ".." segments'],
    ['..\\x.safetensors', 'no ".." segments'],
    ['/etc/passwd', 'not an absolute path'],
    ['C:\\Windows\\x', 'not an absolute path'],
    ['a\0b', 'no NUL bytes'],
    ['', 'a non-empty string'],
  ];
  for (const [name, why] of cases) {
    const { dir } = setup({ shards: 2 });
    editIndex(dir, (m) => { m['model.norm.weight'] = name; });
    throwsMessage(t, dir, `model.safetensors.index.json: Expected a file name inside the model directory (${why}) for weight_map["model.norm.weight"] but received ${JSON.stringify(name)} of type string`);
  }
  const { dir } = setup({ shards: 2 });
  editIndex(dir, (m) => { m['model.norm.weight'] = 7; });
  throwsMessage(t, dir, 'model.safetensors.index.json: Expected a shard file name for weight_map["model.norm.weight"] but received 7 of type number');
});

test('a symlinked shard escaping the directory is refused; one inside is fine', (t) => {
  const { dir } = setup({ shards: 2 });
  const outside = tempDir();
  const shard = 'model-00002-of-00002.safetensors';
  fs.renameSync(path.join(dir, shard), path.join(outside, shard));
  fs.symlinkSync(path.join(outside, shard), path.join(dir, shard));
  throwsMessage(t, dir, new RegExp(`^model\\.safetensors\\.index\\.json: Expected a file name inside the model directory \\(it resolves to ${fs.realpathSync(outside)}/${shard}\\)`));
  fs.unlinkSync(path.join(dir, shard));
  fs.mkdirSync(path.join(dir, 'blobs'));
  fs.renameSync(path.join(outside, shard), path.join(dir, 'blobs', 'abc'));
  fs.symlinkSync(path.join('blobs', 'abc'), path.join(dir, shard));
  t.notThrows(() => readCheckpoint(dir));
  // A directory or a dangling name is not a shard.
  editIndex(dir, (m) => { m['model.norm.weight'] = 'blobs'; });
  throwsMessage(t, dir, /^blobs: Expected a regular file for file but received /);
  editIndex(dir, (m) => { m['model.norm.weight'] = 'gone.safetensors'; });
  throwsMessage(t, dir, /^gone\.safetensors: no such file in .* \(named by model\.safetensors\.index\.json for weight_map\["model\.norm\.weight"\]\)$/);
});

test('the Hugging Face cache layout (snapshot symlinks into ../../blobs) is accepted', (t) => {
  const repo = tempDir('models--org--tiny-');
  const snap = path.join(repo, 'snapshots', 'rev1');
  fs.mkdirSync(snap, { recursive: true });
  fs.mkdirSync(path.join(repo, 'blobs'));
  writeTinyCheckpoint(snap, { shards: 2 });
  for (const f of fs.readdirSync(snap)) {
    fs.renameSync(path.join(snap, f), path.join(repo, 'blobs', `h-${f}`));
    fs.symlinkSync(path.join('..', '..', 'blobs', `h-${f}`), path.join(snap, f));
  }
  checkData(t, snap);
});

test('index and shards must agree', (t) => {
  const a = setup({ shards: 2 });
  editIndex(a.dir, (m) => { m['model.norm.weight'] = 'model-00001-of-00002.safetensors'; });
  throwsMessage(t, a.dir, 'model-00001-of-00002.safetensors: Expected the tensor model.safetensors.index.json maps to this shard for "model.norm.weight" but received no such tensor');
  const b = setup({ shards: 2 });
  const q0Shard = b.weightMap[Q0];
  const other = q0Shard.startsWith('model-00001') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
  editIndex(b.dir, (m) => {
    delete m['model.embed_tokens.weight'];
    m[Q0] = other;
  });
  throwsMessage(t, b.dir, new RegExp(`^${other.replace(/\./g, '\\.')}: Expected the tensor model\\.safetensors\\.index\\.json maps to this shard for "${Q0.replace(/\./g, '\\.')}"`));
  const c = setup({ shards: 2 });
  editIndex(c.dir, (m) => { delete m['model.embed_tokens.weight']; });
  throwsMessage(t, c.dir, /^model\.safetensors\.index\.json: Expected every tensor of a 2-layer llama for weights but received 1 missing: model\.embed_tokens\.weight$/);
});

test('a tensor in a shard but mapped to another shard is an error', (t) => {
  const dir = tempDir();
  const config = tinyConfigJson();
  const shapes = expectedTensorShapes(parseModelConfig(config));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const all = [...shapes].map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, data: new Uint8Array(shape.reduce((x, y) => x * y, 1) * 4) }));
  writeSafetensors(path.join(dir, 'a.safetensors'), all);
  writeSafetensors(path.join(dir, 'b.safetensors'), all.filter((x) => x.name === 'model.norm.weight'));
  const map = Object.fromEntries(all.map((x) => [x.name, x.name === 'model.norm.weight' ? 'b.safetensors' : 'a.safetensors']));
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
  throwsMessage(t, dir, 'a.safetensors: Expected no tensor mapped to "b.safetensors" by model.safetensors.index.json for "model.norm.weight" but received a copy in this shard');
});

test('malformed index files', (t) => {
  const { dir } = setup({ shards: 2 });
  const file = path.join(dir, 'model.safetensors.index.json');
  fs.writeFileSync(file, '[]');
  throwsMessage(t, dir, 'model.safetensors.index.json: Expected a JSON object {"metadata", "weight_map"} for model.safetensors.index.json but received an array of length 0');
  fs.writeFileSync(file, '{"weight_map": null}');
  throwsMessage(t, dir, 'model.safetensors.index.json: Expected an object {tensor name: shard file} for weight_map but received null');
  fs.writeFileSync(file, '{"weight_map": ');
  throwsMessage(t, dir, /^model\.safetensors\.index\.json: Expected valid JSON for model\.safetensors\.index\.json but received a syntax error/);
  fs.writeFileSync(file, '{"weight_map": {"constructor": "x"}}');
  throwsMessage(t, dir, /^x: no such file in /);
});
