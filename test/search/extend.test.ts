/**
 * `extend` end to end on tiny-llama (window 64): search at 128, fine-tune at 128, search for 256,
 * recover short factors at 64, export. Then the same job resumed: every stage is already done,
 * nothing is evaluated or trained again, and the exported model is unchanged.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { SegmentStream } from '../../src/data';
import { ByteTokenizer } from '../../src/data/tokenizer';
import { readModelConfig } from '../../src/model/config';
import { extend, type ExtendOptions } from '../../src/search';

const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');

test('progressive extension: stages, the final spec, the export, and a resume that repeats nothing', async (t) => {
  t.timeout(600_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-extend-'));
  const model = path.join(dir, 'base');
  fs.cpSync(TINY, model, { recursive: true });
  fs.writeFileSync(path.join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'LongropeByteTokenizer' }));
  const tok = new ByteTokenizer();
  const words = ['grass', 'green', 'sky', 'blue', 'sun', 'yellow', 'there', 'and', 'back', 'again'];
  const texts = Array.from({ length: 4 }, (_, d) => Array.from({ length: 150 }, (_, i) => words[(i * (d + 3) + (i >> 2)) % words.length]).join(' '));
  const documents = texts.map((x) => Int32Array.from(tok.encode(x, { addBos: false })));
  const stages: string[] = [];
  const options: ExtendOptions = {
    modelDir: model, out: path.join(dir, 'job'), finetuneLength: 128, targetLength: 256, documents, samples: 2, seed: 0,
    settings: { population: 4, parents: 2, mutations: 2, crossovers: 1, iterations: 1 },
    recoveryMaxFactor: 1.5,
    finetune: {
      steps: 2, schedule: { kind: 'constant', lr: 1e-3, warmupSteps: 0, totalSteps: 2 }, globalBatch: 1, microBatch: 1, checkpointEvery: 1,
      data: (position) => SegmentStream.fromDocuments(texts.map((text, i) => ({ id: `d${i}`, source: 'file' as const, text })), tok,
        position === undefined ? { length: 128, seed: 0 } : { length: 128, position: position as never }),
    },
    onStage: (stage, status) => stages.push(`${stage}:${status}`),
  };
  const r = await extend(options);
  t.deepEqual(stages, ['search:start', 'search:done', 'finetune:start', 'finetune:done', 'secondary-search:start', 'secondary-search:done',
    'recovery:start', 'recovery:done', 'export:start', 'export:done']);
  t.is(r.search.bestSpec.length, 128);
  t.is(r.finetune.steps, 2);
  t.is(r.secondary.bestSpec.length, 256);
  // The final spec: the secondary search's long factors, the recovery's short ones (<= 1.5).
  t.deepEqual(r.finalSpec.longFactors, r.secondary.bestSpec.longFactors);
  t.true(r.finalSpec.shortFactors!.every((v) => v >= 1 && v <= 1.5));
  const exported = readModelConfig(r.modelDir);
  t.like(exported.rope, { method: 'longrope', originalLength: 64, length: 256 });
  t.deepEqual(exported.rope.shortFactors, r.finalSpec.shortFactors);
  const weights = fs.readFileSync(path.join(r.modelDir, 'model.safetensors'));

  // A job in the folder is refused without resume; resumed, nothing runs again.
  await t.throwsAsync(extend({ ...options, onStage: undefined }), { message: /already holds files; pass --resume/ });
  stages.length = 0;
  const again = await extend({ ...options, resume: true });
  t.is(again.search.evaluations, r.search.evaluations);
  t.true(again.search.resumedFinished);
  t.true(again.finetune.alreadyFinished);
  t.true(stages.includes('export:skipped'));
  t.deepEqual(fs.readFileSync(path.join(r.modelDir, 'model.safetensors')), weights);
  fs.rmSync(dir, { recursive: true, force: true });
});
