/**
 * Sequence-parallel training over 2 and 3 CPU processes (Gloo) equals one process: each rank runs
 * its zigzag share of every segment with ring attention (forward, and backward through autograd),
 * the loss is summed and the gradients all-reduced, so every rank takes the one-process AdamW
 * step: same loss, gradient norm and parameters after a plain step and a checkpointed one.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { writeRandomModel } from '../../scripts/lib/random-model';
import { launch } from '../../src/dist/launch';
import { native } from '../../src/native';
import { runTrainJob, TrainJob } from './train-job';

const CHILD = path.join(__dirname, 'children', 'train-child.ts');
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;

const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-sp-train-model-'));
writeRandomModel(modelDir, { numLayers: 2, hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, maxPositionEmbeddings: 128, vocabSize: 258 });
// 101 tokens: not a multiple of 2N, so the zigzag layout pads and the padding must stay out of the loss.
const job: TrainJob = { modelDir, vocabSize: 258, seq: 101 };
const one = runTrainJob(job);

test.after.always(() => fs.rmSync(modelDir, { recursive: true, force: true }));

for (const nproc of [2, 3]) {
  testGloo(`a training step sequence-parallel over ${nproc} processes equals the one-process step`, async (t) => {
    const { initial, steps: want } = await one;
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-sp-train-'));
    const result = await launch({ nproc, command: process.execPath, args: ['-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify({ ...job, outDir })] });
    t.is(result.exitCode, 0, JSON.stringify(result.ranks));
    for (let r = 0; r < nproc; r++) {
      const got = JSON.parse(fs.readFileSync(path.join(outDir, `rank-${r}.json`), 'utf8')) as { loss: number; gradNorm: number; tokens: number }[];
      for (const [i, w] of want.entries()) {
        t.is(got[i].tokens, w.tokens);
        t.true(Math.abs(got[i].loss - w.loss) < 1e-5, `rank ${r} step ${i}: loss ${got[i].loss} vs ${w.loss}`);
        t.true(Math.abs(got[i].gradNorm - w.gradNorm) < 1e-5 * w.gradNorm, `rank ${r} step ${i}: gradient norm ${got[i].gradNorm} vs ${w.gradNorm}`);
        const buf = fs.readFileSync(path.join(outDir, `rank-${r}-step-${i}.f32`));
        const params = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        t.is(params.length, w.params.length);
        const before = i === 0 ? initial : want[i - 1].params;
        let err = 0;
        let moved = 0;
        for (let k = 0; k < params.length; k++) {
          err = Math.max(err, Math.abs(params[k] - w.params[k]));
          moved = Math.max(moved, Math.abs(w.params[k] - before[k]));
        }
        if (r === 0) t.log(`step ${i}${i ? ' (checkpointed)' : ''}: loss ${w.loss.toFixed(6)} vs ${got[i].loss.toFixed(6)}, gradient norm ${w.gradNorm.toFixed(6)} vs ${got[i].gradNorm.toFixed(6)}, max parameter difference ${err.toExponential(2)} (the step moved parameters by up to ${moved.toExponential(2)})`);
        t.true(err < 1e-5, `rank ${r} step ${i}: parameters differ by ${err}`);
        t.true(moved > 1000 * 1e-5, `the step moved parameters by ${moved} only`);
      }
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  });
}
