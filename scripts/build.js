#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js against the libtorch that find-torch.js picks.
// Incremental by default; --force (or a different libtorch than last time) rebuilds from scratch.
// It is also the package's install script: a packed tarball carries the binary it was packed with
// (build/Release/longrope.node, no CMake build tree); when that binary loads here (same libtorch,
// same platform) the install keeps it instead of a many-minute build. Anywhere else (another
// libtorch, another OS, LONGROPE_BUILD_FROM_SOURCE=1) it builds from the shipped sources.
// --out DIR builds elsewhere than ./build (CI's second and third builds against PyTorch wheels;
// pick the wheel with PYTHON=/path/to/venv/bin/python or LIBTORCH, see scripts/lib/find-torch.js).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findTorch, INSTALL_HELP } = require('./lib/find-torch');

const root = path.resolve(__dirname, '..');

/** The value after `--out`, resolved against the working directory; ./build by default. */
function outDir(argv) {
  const i = argv.indexOf('--out');
  if (i < 0) return path.join(root, 'build');
  if (!argv[i + 1]) {
    console.error('longrope: expected a folder after --out but received nothing');
    process.exit(2);
  }
  return path.resolve(argv[i + 1]);
}

/**
 * True when a prebuilt binary came with the package and it loads on this machine. A checkout
 * (it has src/) always builds from its sources, as does a package that built once (a CMake tree).
 */
function prebuiltLoads(buildDir) {
  const binary = path.join(buildDir, 'Release', 'longrope.node');
  if (fs.existsSync(path.join(root, 'src')) || fs.existsSync(path.join(buildDir, 'CMakeCache.txt'))) return false;
  if (!fs.existsSync(binary)) return false;
  // A child process: a binary that fails to load (missing libtorch, other ABI) may abort instead of throw.
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(binary)})`], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  const why = `${probe.stderr || ''}`.split('\n').find((l) => /Error/.test(l)) || `exit ${probe.status ?? probe.signal}`;
  console.error(`longrope: the prebuilt addon does not load here (${why.trim()}); building from source.`);
  return false;
}

function main() {
  const buildDir = outDir(process.argv);
  const stampFile = path.join(buildDir, 'torch-location.json');
  const forced = process.argv.includes('--force');
  if (!forced && !process.env.LONGROPE_BUILD_FROM_SOURCE && prebuiltLoads(buildDir)) {
    console.error(`longrope: using the prebuilt addon ${path.relative(root, path.join(buildDir, 'Release', 'longrope.node'))} (LONGROPE_BUILD_FROM_SOURCE=1 builds from source)`);
    return;
  }
  const torch = findTorch();
  if (!torch) {
    console.error(`longrope: cannot build the native addon.\n${INSTALL_HELP}`);
    process.exit(1);
  }
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  } catch {
    console.error('longrope: cmake-js is not installed; run `npm install` first.');
    process.exit(1);
  }
  const previous = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8') : null;
  const stamp = JSON.stringify({ cmakePrefix: torch.cmakePrefix, cuda: torch.cuda });
  // No stamp: a first build, or an earlier one that failed (its half-configured folder would make
  // cmake-js skip the configure step).
  const force = forced || previous !== stamp;
  const args = [cmakeJs, force ? 'rebuild' : 'build', '--out', buildDir,
    `--CDCMAKE_PREFIX_PATH=${torch.cmakePrefix}`, `--CDLONGROPE_TORCH_LIB_DIR=${torch.libDir}`];
  if (process.env.LONGROPE_CUDA) args.push(`--CDLONGROPE_CUDA=${process.env.LONGROPE_CUDA}`);
  console.error(`longrope: building the addon against libtorch from ${torch.source} (${torch.libDir})`);
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error('longrope: the native build failed (see the compiler output above).');
    process.exit(run.status || 1);
  }
  fs.writeFileSync(stampFile, stamp);
}

main();
