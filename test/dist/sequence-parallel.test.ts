/**
 * Sequence-parallel NLL of a whole (random-weight) LLaMA model over 2 and 4 CPU processes equals
 * the one-process NLL: zigzag positions through RoPE (a YaRN spec, so attention factor and
 * frequencies are not the identity), ring attention in every layer, padding of a length that is
 * not a multiple of 2N, a position offset and scoreFrom. And a SIGKILLed rank fails the others.
 */
import test from 'ava';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { writeRandomModel } from '../../scripts/lib/random-model';
import { freePort, launch } from '../../src/dist/launch';
import { readModelConfig } from '../../src/model/config';
import { Model } from '../../src/model/model';
import { native } from '../../src/native';
import { NllJob, nllJobTokens } from './nll-job';

const CHILD = path.join(__dirname, 'children', 'nll-child.ts');
const NODE_ARGS = ['-r', 'ts-node/register/transpile-only', CHILD];
/** Largest NLL difference allowed (seen: ~5e-7). */
const TOLERANCE = 1e-5;
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;

const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-sp-model-'));
writeRandomModel(modelDir, { numLayers: 2, hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, maxPositionEmbeddings: 128, vocabSize: 258 });

function job(length: number): NllJob {
  return {
    modelDir, length, vocabSize: 258,
    options: { rope: { ...readModelConfig(modelDir).rope, method: 'yarn', length: 512 }, positionOffset: 5, scoreFrom: 7, attentionTile: 16, chunk: 64 },
  };
}

test.after.always(() => fs.rmSync(modelDir, { recursive: true, force: true }));

for (const nproc of [2, 4]) {
  testGloo(`sequence-parallel NLL over ${nproc} processes equals the one-process NLL`, async (t) => {
    const j = job(203);
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-sp-'));
    const result = await launch({ nproc, command: process.execPath, args: [...NODE_ARGS, JSON.stringify({ ...j, outDir })] });
    t.is(result.exitCode, 0, JSON.stringify(result.ranks));
    const model = await Model.load(modelDir);
    const want = await model.nll(nllJobTokens(j), j.options);
    // The tolerance means something: RoPE without YaRN's frequencies (the positions' effect)
    // moves this model's NLL by 100 times more than it.
    const plainRope = await model.nll(nllJobTokens(j), { ...j.options, rope: { ...readModelConfig(modelDir).rope } });
    model.dispose();
    const ropeEffect = Math.max(...Array.from(want, (x, i) => Math.abs(x - plainRope[i])));
    t.log(`effect of the RoPE spec on the one-process NLL: ${ropeEffect.toExponential(2)}`);
    t.true(ropeEffect > 100 * TOLERANCE, `RoPE effect ${ropeEffect}`);
    t.is(want.length, 203 - 7);
    for (let r = 0; r < nproc; r++) {
      const got = JSON.parse(fs.readFileSync(path.join(outDir, `rank-${r}.json`), 'utf8')) as { nll: number[] };
      t.is(got.nll.length, want.length);
      const err = Math.max(...got.nll.map((x, i) => Math.abs(x - want[i])));
      t.log(`rank ${r}: max abs NLL difference ${err.toExponential(2)} (mean NLL ${(want.reduce((a, b) => a + b) / want.length).toFixed(3)})`);
      t.true(err < TOLERANCE, `rank ${r}: ${err}`);
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  });
}

testGloo('a rank killed with SIGKILL during a sequence-parallel NLL makes the others fail within the timeout', async (t) => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-sp-'));
  const port = await freePort();
  const arg = JSON.stringify({ ...job(2048), outDir, victim: 0 });
  const exits = [0, 1].map((rank) => new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, arg], {
      stdio: 'ignore', env: { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) },
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  }));
  const [r0, r1] = await Promise.all(exits);
  t.is(r0.signal, 'SIGKILL');
  t.is(r1.code, 3);
  const got = JSON.parse(fs.readFileSync(path.join(outDir, 'rank-1.json'), 'utf8')) as { error: string; ms: number };
  t.log(`rank 1 failed after ${got.ms} ms: ${got.error}`);
  t.regex(got.error, /process group \(gloo, rank 1 of 2\): .* failed: .*a peer process exited/);
  t.true(got.ms < 60_000);
  fs.rmSync(outDir, { recursive: true, force: true });
});
