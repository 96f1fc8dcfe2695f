#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js against the libtorch that find-torch.js picks.
// Incremental by default; --force (or a different libtorch than last time) rebuilds from scratch.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findTorch, INSTALL_HELP } = require('./lib/find-torch');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build');
const stampFile = path.join(buildDir, 'torch-location.json');

function main() {
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
  const force = process.argv.includes('--force') || (previous !== null && previous !== stamp);
  const args = [cmakeJs, force ? 'rebuild' : 'build', '--out', buildDir,
    `--CDCMAKE_PREFIX_PATH=${torch.cmakePrefix}`];
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
