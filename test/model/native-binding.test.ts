// The raw binding's own contract, below Model: the tensor-name table it exports, the dtype names
// info() reports, the one token-range check (nll, logits, generate, training steps), and classes
// that work from worker threads (each environment keeps its own constructors).
import test from 'ava';
import fs from 'fs';
import path from 'path';
import { Worker } from 'worker_threads';

import { readCheckpoint } from '../../src/model/checkpoint';
import { native, type NativeModel, type NativeTensorDim } from '../../src/native';

const ROOT = path.join(__dirname, '..', '..');
const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');
const rope = { invFreq: Float32Array.from({ length: 8 }, (_, i) => 10000 ** (-i / 8)), attentionFactor: 1, nHat: 0 };
const ropeParams = { ...rope, baseInvFreq: rope.invFreq };

function load(dtype?: 'float32' | 'bfloat16'): Promise<NativeModel> {
  const ckpt = readCheckpoint(TINY);
  return native().loadModel({ config: ckpt.config, tensors: ckpt.tensors, dtype });
}

/** Names and shapes stored in the fixture's safetensors header (read here, not through src/). */
function fixtureTensors(): Map<string, number[]> {
  const buf = fs.readFileSync(path.join(TINY, 'model.safetensors'));
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8'));
  delete header.__metadata__;
  return new Map(Object.entries(header).map(([name, e]) => [name, (e as { shape: number[] }).shape]));
}

test('tensorNames is the Hugging Face LLaMA table, frozen, and resolves to the fixture checkpoint', (t) => {
  const names = native().tensorNames;
  t.deepEqual(JSON.parse(JSON.stringify(names)), {
    embedTokens: { name: 'model.embed_tokens.weight', shape: ['vocab', 'hidden'] },
    layerPrefix: 'model.layers.',
    layer: [
      { name: 'self_attn.q_proj.weight', shape: ['q', 'hidden'] },
      { name: 'self_attn.k_proj.weight', shape: ['kv', 'hidden'] },
      { name: 'self_attn.v_proj.weight', shape: ['kv', 'hidden'] },
      { name: 'self_attn.o_proj.weight', shape: ['hidden', 'q'] },
      { name: 'mlp.gate_proj.weight', shape: ['intermediate', 'hidden'] },
      { name: 'mlp.up_proj.weight', shape: ['intermediate', 'hidden'] },
      { name: 'mlp.down_proj.weight', shape: ['hidden', 'intermediate'] },
      { name: 'input_layernorm.weight', shape: ['hidden'] },
      { name: 'post_attention_layernorm.weight', shape: ['hidden'] },
    ],
    finalNorm: { name: 'model.norm.weight', shape: ['hidden'] },
    lmHead: { name: 'lm_head.weight', shape: ['vocab', 'hidden'] },
  });
  t.true(Object.isFrozen(names) && Object.isFrozen(names.layer) && Object.isFrozen(names.layer[0].shape));
  // The fixture: vocab 300, hidden 64, intermediate 160, 4 heads and 2 KV heads of 16, 2 layers, untied.
  const dims: Record<NativeTensorDim, number> = { vocab: 300, hidden: 64, intermediate: 160, q: 64, kv: 32 };
  const resolved = new Map<string, number[]>([[names.embedTokens.name, names.embedTokens.shape.map((d) => dims[d])]]);
  for (let i = 0; i < 2; i++) {
    for (const s of names.layer) resolved.set(`${names.layerPrefix}${i}.${s.name}`, s.shape.map((d) => dims[d]));
  }
  for (const s of [names.finalNorm, names.lmHead]) resolved.set(s.name, s.shape.map((d) => dims[d]));
  const stored = fixtureTensors();
  t.deepEqual([...resolved.keys()].sort(), [...stored.keys()].sort());
  for (const [name, shape] of resolved) t.deepEqual(shape, stored.get(name), name);
});

test('info() lists the parameters in the table order and names its dtype as loadModel does', async (t) => {
  const f32 = await load();
  const info = f32.info();
  t.is(info.dtype, 'float32');
  const names = native().tensorNames;
  t.deepEqual(info.parameters.slice(0, 11).map((p) => p.name), [
    'model.embed_tokens.weight', ...names.layer.map((s) => `model.layers.0.${s.name}`), 'model.layers.1.self_attn.q_proj.weight',
  ]);
  t.deepEqual(info.parameters.slice(-2).map((p) => [p.name, p.shape]), [['model.norm.weight', [64]], ['lm_head.weight', [300, 64]]]);
  t.is(info.parameters.length, fixtureTensors().size);
  const bf16 = await load('bfloat16');
  t.is(bf16.info().dtype, 'bfloat16');
  t.is(bf16.info().parameterBytes * 2, info.parameterBytes);
  f32.dispose();
  bf16.dispose();
});

test('token ids are checked once, in the binding (synchronously), with the index of the first bad one', async (t) => {
  const model = await load();
  const bad = (ids: number[]) => Int32Array.from(ids);
  t.throws(() => model.nll(bad([1, 2, 300]), { rope: ropeParams }), {
    instanceOf: RangeError, message: 'Expected token ids in [0, 300) for tokens[2] but received 300',
  });
  t.throws(() => model.logits(bad([-1, 2]), { rope: ropeParams }), {
    instanceOf: RangeError, message: 'Expected token ids in [0, 300) for tokens[0] but received -1',
  });
  t.throws(() => model.generate(bad([5, 299, 1000, -7]), { rope: ropeParams, maxNewTokens: 1 }), {
    instanceOf: RangeError, message: 'Expected token ids in [0, 300) for prompt[2] but received 1000',
  });
  t.throws(() => model.nll([1, 2] as unknown as Int32Array, { rope: ropeParams }), {
    instanceOf: TypeError, message: 'Expected an Int32Array of token ids for tokens but received an array',
  });
  // The edges of the range are accepted: 0 and vocab - 1.
  t.is((await model.nll(bad([0, 299, 0]), { rope: ropeParams })).length, 2);
  const trainer = native().createTrainer(model);
  const flat = Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 7) % 300);
  flat[11] = 300;
  t.throws(() => trainer.step(flat, { microBatches: 1, batch: 2, seq: 8, rope: ropeParams, lr: 1e-3 }), {
    instanceOf: RangeError, message: 'Expected token ids in [0, 300) for tokens[11] but received 300',
  });
  trainer.dispose();
  model.dispose();
});

// A worker that loads the addon in its own environment, trains one step and exits. With the
// trainer's constructor in a process-wide global, the worker's exit freed the main thread's.
const WORKER = `
const { parentPort, workerData } = require('worker_threads');
const b = require('bindings')({ bindings: 'longrope', module_root: workerData.root });
(async () => {
  const model = await b.loadModel({ config: workerData.config, tensors: workerData.tensors });
  const trainer = b.createTrainer(model);
  const r = await trainer.step(workerData.tokens, workerData.options);
  trainer.dispose();
  model.dispose();
  parentPort.postMessage(r.loss);
})().catch((e) => parentPort.postMessage('error: ' + e.message));
`;

// Known limit: with PyTorch 2.13's libtorch (CI's second build) a worker thread that used the addon
// aborts the process when it exits (std::system_error from libtorch's thread teardown); with
// Debian's 1.13, the quick start's libtorch, it works. Skipped there, saying so, until fixed.
const workerSafe = native().runtimeInfo().torchVersion.startsWith('1.');
(workerSafe ? test : test.skip)(`trainers work from a worker thread and in the main thread after the worker exits${workerSafe ? '' : ' [skipped: libtorch 2.x aborts at worker exit, a known open issue]'}`, async (t) => {
  const ckpt = readCheckpoint(TINY);
  const tokens = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 31 + 5) % 300);
  const options = { microBatches: 1, batch: 2, seq: 16, rope: ropeParams, lr: 1e-3 };
  native();  // the main environment has the addon before the worker loads it
  const worker = new Worker(WORKER, { eval: true, workerData: { root: ROOT, config: ckpt.config, tensors: ckpt.tensors, tokens, options } });
  const fromWorker = await new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('exit', resolve));
  t.is(typeof fromWorker, 'number', String(fromWorker));
  const model = await load();
  const trainer = native().createTrainer(model);
  const r = await trainer.step(tokens, options);
  t.true(Math.abs(r.loss - (fromWorker as number)) < 1e-5, `main ${r.loss} vs worker ${fromWorker}`);
  t.true(r.loss > 5 && r.loss < 6.5, `the fixture (random weights, vocab 300) scores near ln 300 = 5.70: ${r.loss}`);
  trainer.dispose();
  model.dispose();
});
