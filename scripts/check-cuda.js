#!/usr/bin/env node
'use strict';
// Compile-only check of the CUDA code, for machines without a GPU (CI): every native .cu file
// through nvcc for the architectures we ship (sm_80, sm_90a), and every .cc file with a
// LONGROPE_WITH_CUDA branch through g++ -fsyntax-only with that branch on. A CUDA syntax error
// then fails here instead of on the first GPU machine that builds the addon.
// Exit 0 when all compile; prints one line per file. `--json` prints a summary object instead.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { findTorch, cxxStandard } = require('./lib/find-torch');
const { gencodeFlags } = require('./lib/cuda-archs');

const root = path.resolve(__dirname, '..');
// The same -gencode flags torch's cuda.cmake derives for the real build (cmake/cuda-archs.txt).
const ARCHS = gencodeFlags();

function findNvcc() {
  const candidates = [process.env.NVCC, process.env.CUDA_HOME && path.join(process.env.CUDA_HOME, 'bin', 'nvcc'),
    '/usr/local/cuda/bin/nvcc', 'nvcc'].filter(Boolean);
  for (const c of candidates) {
    if (spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) return c;
  }
  return null;
}

function listFiles(dir, pred) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p, pred));
    else if (pred(p)) out.push(p);
  }
  return out.sort();
}

function main() {
  const json = process.argv.includes('--json');
  const nvcc = findNvcc();
  if (!nvcc) {
    const msg = 'nvcc not found (set NVCC or CUDA_HOME): CUDA compile check skipped';
    if (json) console.log(JSON.stringify({ skipped: msg, results: [] }));
    else console.log(msg);
    return;
  }
  const cudaHome = path.resolve(path.dirname(fs.realpathSync(spawnSync('which', [nvcc], { encoding: 'utf8' }).stdout.trim() || nvcc)), '..');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-cuda-'));
  // Debian's CPU libtorch ships the c10/cuda headers but not this generated one; an empty
  // stand-in is enough for a syntax check.
  const shim = path.join(out, 'shim', 'c10', 'cuda', 'impl');
  fs.mkdirSync(shim, { recursive: true });
  fs.writeFileSync(path.join(shim, 'cuda_cmake_macros.h'), '#define C10_CUDA_BUILD_SHARED_LIBS\n');
  const torch = findTorch();
  const native = path.join(root, 'native');
  const results = [];
  for (const file of listFiles(native, (p) => p.endsWith('.cu'))) {
    const r = spawnSync(nvcc, ['-std=c++17', '-O3', '--use_fast_math', ...ARCHS, '-I', native, '-c', file, '-o', path.join(out, path.basename(file) + '.o')], { encoding: 'utf8' });
    results.push({ file: path.relative(root, file), compiler: 'nvcc', ok: r.status === 0, output: (r.stderr || '') + (r.stdout || '') });
  }
  const cudaSources = listFiles(native, (p) => p.endsWith('.cc') && fs.readFileSync(p, 'utf8').includes('LONGROPE_WITH_CUDA'));
  const cudaOnly = listFiles(native, (p) => p.endsWith('_cuda_dispatch.cc'));
  for (const file of [...new Set([...cudaSources, ...cudaOnly])]) {
    if (!torch) {
      results.push({ file: path.relative(root, file), compiler: 'g++', ok: false, output: 'libtorch headers not found' });
      continue;
    }
    const includes = [native, path.join(out, 'shim'), path.join(cudaHome, 'include'), ...torch.includeDirs].flatMap((d) => ['-I', d]);
    const r = spawnSync('g++', [`-std=gnu++${cxxStandard(torch).slice(3)}`, '-fsyntax-only', '-DLONGROPE_WITH_CUDA=1', '-DNAPI_VERSION=8',
      '-D_GLIBCXX_USE_CXX11_ABI=1', ...includes, '-I', path.join(root, 'node_modules', 'node-addon-api'),
      '-I', path.join(root, 'node_modules', 'node-api-headers', 'include'), file], { encoding: 'utf8' });
    results.push({ file: path.relative(root, file), compiler: 'g++ (CUDA branch)', ok: r.status === 0, output: r.stderr || '' });
  }
  fs.rmSync(out, { recursive: true, force: true });
  if (json) {
    console.log(JSON.stringify({ nvcc, results }));
  } else {
    for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.compiler} ${r.file}${r.ok ? '' : '\n' + r.output}`);
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main();
