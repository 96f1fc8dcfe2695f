// The GPU suite, from the main test run: test/gpu/*.gpu.ts use node:test (no dependencies, so
// scripts/gpu-check.sh runs them compiled to JS on a GPU machine that has no npm). Here they
// run through ts-node. Where a GPU exists the addon must have been built with CUDA and see it:
// a failed CUDA build must fail, not skip.
import test from 'ava';
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';

import { native } from '../../src/native';
import { gpuPresent } from '../helpers/gpu';

const gpu = gpuPresent();
const gpuTest = gpu ? test : test.skip;

gpuTest('a machine with a GPU has a CUDA build that sees it', (t) => {
  const info = native().runtimeInfo();
  t.true(info.cudaBuilt, 'this machine has a GPU but the addon was built without CUDA');
  t.true(info.cudaDevices > 0, `cudaDevices is ${info.cudaDevices}`);
});

gpuTest('the GPU suite (test/gpu/*.gpu.ts) passes', (t) => {
  t.timeout(10 * 60 * 1000);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.gpu.ts')).map((f) => path.join(__dirname, f));
  t.true(files.length > 0);
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '--test', ...files], { encoding: 'utf8' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
