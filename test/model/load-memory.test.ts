// Loading converts a bf16 checkpoint to fp32 tensor by tensor from a memory map and releases
// each mapped range at once, so the process never holds the checkpoint twice: the peak RSS grows
// by the fp32 weights plus at most one tensor, not by fp32 + the whole bf16 file.
import test from 'ava';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { writeRandomModel } from '../../scripts/lib/random-model';

test('a bf16 checkpoint loads into fp32 without a second copy in memory', (t) => {
  t.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-load-'));
  // ~60M parameters: 120 MB of bf16 on disk, 240 MB of fp32 in memory.
  writeRandomModel(dir, { vocabSize: 4096, hiddenSize: 1024, intermediateSize: 2816, numLayers: 5, numHeads: 8, dtype: 'BF16' });
  const fileBytes = fs.statSync(path.join(dir, 'model.safetensors')).size;
  const child = path.join(__dirname, '..', '..', 'scripts', 'lib', 'load-rss-child.ts');
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', child, dir], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!);
  fs.rmSync(dir, { recursive: true, force: true });
  const grew = r.peak - r.before;
  const largest = 4096 * 1024 * 4;  // the biggest fp32 tensor (embeddings / lm_head)
  t.log(`fp32 weights ${(r.parameterBytes / 1e6).toFixed(0)} MB, bf16 file ${(fileBytes / 1e6).toFixed(0)} MB, peak RSS grew ${(grew / 1e6).toFixed(0)} MB`);
  t.true(r.parameterBytes > 2 * fileBytes * 0.99, 'weights are fp32 in memory');
  t.true(grew < r.parameterBytes + 0.25 * fileBytes + largest, `peak growth ${grew} must stay below fp32 weights + a quarter of the file`);
});
