// CUDA kernels against the CPU references. Skipped unless the loaded binding reports a GPU
// (a CUDA build on a machine with one): decided by the binding, not by environment variables.
import test from 'ava';

import { applyRotary, rotaryGradients } from '../../src/model/rotary';
import { native } from '../../src/native';
import { computeRopeTables } from '../../src/rope';
import { maxErrors, randomArray, randomTensor, roundToBf16 } from '../helpers/reference-rope';

const gpu = native().runtimeInfo().cudaDevices > 0;
const gpuTest = gpu ? test : test.skip;

const LONG = Array.from({ length: 64 }, (_, i) => 1 + (31 * i) / 63);
const tables = computeRopeTables({ method: 'longrope', headDim: 128, base: 10000, originalLength: 4096, length: 131072, longFactors: LONG, nHat: 4 });

gpuTest('CUDA fused RoPE equals the CPU references (fp32, GQA, offsets, interleaved)', async (t) => {
  for (const layout of ['half', 'interleaved'] as const) {
    const q = randomTensor([2, 300, 8, 128], 1);
    const k = randomTensor([2, 300, 2, 128], 2);
    const options = { positionOffset: 5000, layout };
    const cuda = await applyRotary(q, k, tables, { ...options, device: 'cuda' });
    const cpu = await applyRotary(q, k, tables, { ...options, impl: 'naive' });
    t.true(maxErrors(cuda.q.data, cpu.q.data).abs < 1e-4, layout);
    t.true(maxErrors(cuda.k.data, cpu.k.data).abs < 1e-4, layout);
  }
});

gpuTest('CUDA fused RoPE backward equals the CPU autograd reference', async (t) => {
  const q = randomTensor([1, 64, 4, 128], 3);
  const k = randomTensor([1, 64, 4, 128], 4);
  const gq = randomArray(q.data.length, 5);
  const gk = randomArray(k.data.length, 6);
  const cuda = await rotaryGradients(q, k, tables, gq, gk, { device: 'cuda' });
  const cpu = await rotaryGradients(q, k, tables, gq, gk, { impl: 'naive' });
  t.true(maxErrors(cuda.gradQ, cpu.gradQ).abs < 1e-4);
  t.true(maxErrors(cuda.gradK, cpu.gradK).abs < 1e-4);
});

gpuTest('CUDA bf16 matches the CPU fused bf16 path', async (t) => {
  const q = randomTensor([1, 128, 4, 128], 7);
  const cuda = await applyRotary(q, q, tables, { device: 'cuda', dtype: 'bfloat16' });
  const cpu = await applyRotary(q, q, tables, { dtype: 'bfloat16' });
  t.deepEqual(cuda.q.data, roundToBf16(cuda.q.data));
  t.true(maxErrors(cuda.q.data, cpu.q.data).rel <= 2 ** -7);
});
