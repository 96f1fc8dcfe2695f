#!/usr/bin/env node
'use strict';
// Compiles src/ to dist/ (JavaScript + declarations, tsconfig.build.json): what `main`, `types`
// and the CLI use. Skips the work when dist/ is current (scripts/lib/dist-state.js); --force
// rebuilds. Builds into a fresh folder and swaps it in, so dist/ never holds a half build or
// the output of a source file that no longer exists. Run by `npm run setup` (and so by
// `npm test`), by `prepare` (`npm install` in a checkout, `npm pack`, `npm publish`).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { STAMP, distIsFresh } = require('./lib/dist-state');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function main() {
  // An installed package (npm runs `prepare` for tarball and git installs) has dist/ and no src/.
  if (!fs.existsSync(path.join(root, 'src'))) return;
  if (!process.argv.includes('--force') && distIsFresh(root)) return;
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    console.error('longrope: typescript is not installed; run `npm install` first.');
    process.exit(1);
  }
  const started = new Date();
  const tmp = `${dist}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  console.error('longrope: compiling src/ to dist/ (tsc -p tsconfig.build.json)');
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', tmp],
    { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    console.error('longrope: tsc failed (see the errors above); dist/ is unchanged.');
    process.exit(run.status || 1);
  }
  const stamp = path.join(tmp, path.relative('dist', STAMP));
  fs.writeFileSync(stamp, `${started.toISOString()}\n`);
  fs.utimesSync(stamp, started, started);
  // Two renames: the window in which dist/ is missing is a few microseconds.
  const old = `${dist}.old-${process.pid}`;
  if (fs.existsSync(dist)) fs.renameSync(dist, old);
  fs.renameSync(tmp, dist);
  fs.rmSync(old, { recursive: true, force: true });
}

main();
