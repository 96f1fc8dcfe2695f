// The CPU memory tuning (native/allocator.h, src/blas-core.ts): freed tensor blocks are reused
// whatever thread asks, so windows after the first at one length do not page-fault their
// activations again; and the OpenBLAS kernel choice for AMD CPUs with AVX-512.
import test from 'ava';
import path from 'path';

import { blasCoreFor, tuneBlasCore, tuneBlasThreadTimeout } from '../../src/blas-core';
import { Model } from '../../src/model/model';
import { native } from '../../src/native';

const TINY = path.join(__dirname, '..', '..', 'models', 'tiny-base');

const cpuinfo = (vendor: string, flags: string) => `processor\t: 0\nvendor_id\t: ${vendor}\nflags\t\t: ${flags}\n`;
const AVX512 = 'fpu sse avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16';

test('OpenBLAS gets its AVX-512 kernels on AMD CPUs that have AVX-512, and only there', (t) => {
  t.is(blasCoreFor(cpuinfo('AuthenticAMD', AVX512)), 'SkylakeX');
  t.is(blasCoreFor(cpuinfo('AuthenticAMD', 'fpu sse avx2 fma')), null, 'Zen 3: AVX2 only');
  t.is(blasCoreFor(cpuinfo('AuthenticAMD', 'avx2 avx512f avx512cd')), null, 'partial AVX-512');
  t.is(blasCoreFor(cpuinfo('GenuineIntel', AVX512)), null, 'OpenBLAS knows Intel CPUs itself');
  t.is(blasCoreFor(''), null);
});

test('a core type the user set wins, and LONGROPE_BLAS_TUNING=0 turns the choice off', (t) => {
  const set: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Haswell' };
  t.is(tuneBlasCore(set), null);
  t.is(set.OPENBLAS_CORETYPE, 'Haswell');
  const off: NodeJS.ProcessEnv = { LONGROPE_BLAS_TUNING: '0' };
  t.is(tuneBlasCore(off), null);
  t.false('OPENBLAS_CORETYPE' in off);
});

test('OpenBLAS workers sleep right after a GEMM unless the user set a timeout or turned the tuning off', (t) => {
  const fresh: NodeJS.ProcessEnv = {};
  t.is(tuneBlasThreadTimeout(fresh), '4');
  t.is(fresh.OPENBLAS_THREAD_TIMEOUT, '4');
  const set: NodeJS.ProcessEnv = { OPENBLAS_THREAD_TIMEOUT: '20' };
  t.is(tuneBlasThreadTimeout(set), null);
  t.is(set.OPENBLAS_THREAD_TIMEOUT, '20');
  const off: NodeJS.ProcessEnv = { LONGROPE_BLAS_TUNING: '0' };
  t.is(tuneBlasThreadTimeout(off), null);
  t.false('OPENBLAS_THREAD_TIMEOUT' in off);
});

test('windows after the first at one length reuse warm memory: far fewer page faults, same NLL', async (t) => {
  t.timeout(120_000);
  t.regex(native().runtimeInfo().allocator, /tensor blocks >= 1 MB cached/);
  const model = await Model.load(TINY);
  try {
    const n = 4096;
    const tokens = Int32Array.from({ length: n }, (_, i) => 32 + ((i * 7919 + 13) % 90));
    const rope = { ...model.config.rope, method: 'yarn' as const, length: n };
    const faults: number[] = [];
    const sums: number[] = [];
    for (let call = 0; call < 4; call++) {
      const before = process.resourceUsage().minorPageFault;
      const nll = await model.nll(tokens, { rope });
      faults.push(process.resourceUsage().minorPageFault - before);
      sums.push(nll.reduce((a, b) => a + b, 0));
    }
    t.log(`minor page faults per call: ${faults.join(', ')}`);
    // The first call at this length faults its activations in (thousands of 4 KiB pages); the
    // last ones find them in the cache. Without the cache (LONGROPE_MALLOC_TUNING=0) calls on a
    // different libuv worker thread landed in a cold glibc arena and faulted again.
    t.true(faults[0] > 2000, `first call: ${faults[0]} faults`);
    t.true(Math.max(faults[2], faults[3]) < faults[0] / 10, `later calls: ${faults.slice(1).join(', ')}`);
    for (const s of sums) t.is(s, sums[0], 'reused blocks change nothing');
  } finally {
    model.dispose();
  }
});
