/**
 * OpenBLAS picks its kernels from the CPU model when it loads, and the 0.3.21 of Debian 12 (the
 * quick start's libtorch) does not know AMD's Zen 4/5: it runs them with its AVX2 "Haswell"
 * kernels although they have AVX-512. Measured here (Zen 5, 2 vCPUs): one thread's fp32 GEMM
 * 103 GFLOP/s with Haswell kernels, 194 with SkylakeX ones; in a model forward at 8k tokens the
 * GEMMs took 242 instead of 360-385 ms with 2 threads. So before the addon loads (OpenBLAS reads
 * OPENBLAS_CORETYPE in its constructor) we name the AVX-512 kernels for an AMD CPU that has
 * AVX-512, the mapping newer OpenBLAS releases make themselves. A value the user set wins, and
 * LONGROPE_BLAS_TUNING=0 turns this off. Builds on MKL (PyTorch's wheels) ignore the variable.
 */
import fs from 'fs';

const AVX512_FLAGS = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'];

/** The OPENBLAS_CORETYPE to use for a CPU described by /proc/cpuinfo's text, or null for OpenBLAS's own choice. */
export function blasCoreFor(cpuinfo: string): string | null {
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(cpuinfo)?.[1];
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/));
  return vendor === 'AuthenticAMD' && AVX512_FLAGS.every((f) => flags.has(f)) ? 'SkylakeX' : null;
}

/** Sets OPENBLAS_CORETYPE for this process where `blasCoreFor` says so; returns what it set. */
export function tuneBlasCore(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.platform !== 'linux' || env.OPENBLAS_CORETYPE || env.LONGROPE_BLAS_TUNING === '0') return null;
  let cpuinfo: string;
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
  const core = blasCoreFor(cpuinfo);
  if (core) env.OPENBLAS_CORETYPE = core;
  return core;
}

/**
 * OpenBLAS's worker threads spin for 2^28 cycles (~90 ms here) after each GEMM before they sleep.
 * Our attention, RMSNorm and SwiGLU kernels run right after a GEMM on an OpenMP team of one
 * thread per core, so a spinning OpenBLAS worker takes the core from the team's second thread: at
 * 2048 tokens the attention ran as fast on two threads as on one (58-63 ms per window), with the
 * workers told to sleep at once 39-41 ms. So we set the shortest timeout (2^4 cycles) unless the
 * user set one; LONGROPE_BLAS_TUNING=0 turns this off too. MKL builds ignore the variable.
 */
export function tuneBlasThreadTimeout(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.OPENBLAS_THREAD_TIMEOUT || env.LONGROPE_BLAS_TUNING === '0') return null;
  env.OPENBLAS_THREAD_TIMEOUT = '4';
  return env.OPENBLAS_THREAD_TIMEOUT;
}
