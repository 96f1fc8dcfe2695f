/**
 * Mixed context window training (LongRoPE2): every n-th step trains on segments cut to the
 * original window, where a longrope spec's short factors apply (the RoPE tables follow the
 * sequence length), the other steps on full segments with the long factors.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { SegmentStream } from '../../src/data';
import { ByteTokenizer } from '../../src/data/tokenizer';
import { Model } from '../../src/model/model';
import type { RopeSpec } from '../../src/rope/types';
import { finetune } from '../../src/train/finetune';

const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');
const SPEC: RopeSpec = {
  method: 'longrope', headDim: 16, base: 10000, originalLength: 64, length: 128,
  longFactors: [1, 1.5, 2, 2, 2.5, 3, 3, 4], shortFactors: [1, 1, 1, 1, 1, 1, 1, 1],
};

test('every second step trains on the original window with the short factors', async (t) => {
  t.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-mixed-'));
  const tok = new ByteTokenizer();
  const text = Array.from({ length: 600 }, (_, i) => ['sky', 'blue', 'grass', 'green', 'sun'][(i * 3 + (i >> 2)) % 5]).join(' ');
  const seen: { step: number; tokens: number }[] = [];
  const r = await finetune({
    modelDir: TINY, out: path.join(dir, 'run'), length: 128, rope: SPEC, steps: 4, globalBatch: 2, microBatch: 1, checkpointEvery: 4,
    schedule: { kind: 'constant', lr: 1e-3, warmupSteps: 0, totalSteps: 4 }, mixedShort: { length: 64, every: 2 },
    data: () => SegmentStream.fromDocuments([{ id: 'a', source: 'file', text }], tok, { length: 128, seed: 0 }),
    onStep: (m) => seen.push({ step: m.step, tokens: m.tokens }),
  });
  t.is(r.steps, 4);
  // Tokens trained per step (2 segments; the loss scores n - 1 of n tokens): 127 x 2, then 63 x 2, ...
  const perStep = seen.map((s, i) => s.tokens - (i ? seen[i - 1].tokens : 0));
  t.deepEqual(perStep, [254, 126, 254, 126]);
  // The tables a 64-token sequence gets from this spec are the short factors' (here: no scaling).
  const model = await Model.load(TINY);
  try {
    const short = model.ropeTables(SPEC, 64);
    const none = model.ropeTables({ ...SPEC, method: 'none', length: 64 }, 64);
    t.deepEqual(Array.from(short.invFreq), Array.from(none.invFreq));
    t.notDeepEqual(Array.from(model.ropeTables(SPEC, 128).invFreq), Array.from(none.invFreq));
  } finally {
    model.dispose();
  }
  await t.throwsAsync(finetune({
    modelDir: TINY, out: path.join(dir, 'bad'), length: 128, rope: SPEC, steps: 1, globalBatch: 1, microBatch: 1, checkpointEvery: 1,
    schedule: { kind: 'constant', lr: 1e-3, warmupSteps: 0, totalSteps: 1 }, mixedShort: { length: 128, every: 2 },
    data: () => SegmentStream.fromDocuments([{ id: 'a', source: 'file', text }], tok, { length: 128, seed: 0 }),
  }), { message: 'Expected {length: 2..127, every: a positive integer} for mixedShort but received {"length":128,"every":2}' });
  fs.rmSync(dir, { recursive: true, force: true });
});
