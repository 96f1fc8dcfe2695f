#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js against the libtorch that find-torch.js picks.
// Incremental by default; --force (or a different libtorch than last time) rebuilds from scratch.
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

function main() {
  const buildDir = outDir(process.argv);
  const stampFile = path.join(buildDir, 'torch-location.json');
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
  const force = process.argv.includes('--force') || previous !== stamp;
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
