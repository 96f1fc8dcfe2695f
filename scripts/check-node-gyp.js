#!/usr/bin/env node
'use strict';
// Builds the CPU addon a second way, with node-gyp from binding.gyp (what electron-rebuild and
// other node-gyp-only tools use), in a scratch copy so it never clobbers the cmake-js build, then
// loads it and checks one rotary apply against the hand-computed value. CI runs it once.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-gyp-'));
  for (const p of ['binding.gyp', 'package.json', 'native', 'scripts/lib']) {
    fs.cpSync(path.join(root, p), path.join(work, p), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
  const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  const args = [gyp, 'rebuild', '--jobs', String(os.cpus().length)];
  // Build against this Node's own headers when it ships them (no download: CI has no internet).
  const nodeDir = path.resolve(process.execPath, '..', '..');
  if (fs.existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
  const build = spawnSync(process.execPath, args, { cwd: work, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('node-gyp build FAILED');
    process.exit(1);
  }
  const addon = require(path.join(work, 'build', 'Release', 'longrope.node'));
  // d = 2, inv = [1], position 1: (1, 0) rotates to (cos 1, sin 1).
  const one = new Float32Array([1, 0]);
  addon.ropeApply({ q: { data: one, shape: [1, 1, 1, 2] }, k: { data: one, shape: [1, 1, 1, 2] },
    invFreq: new Float32Array([1]), baseInvFreq: new Float32Array([1]), attentionFactor: 1, nHat: 0, positionOffset: 1 })
    .then((r) => {
      const ok = Math.abs(r.q[0] - Math.cos(1)) < 1e-6 && Math.abs(r.q[1] - Math.sin(1)) < 1e-6;
      console.log(`node-gyp build: ${ok ? 'ok' : 'WRONG RESULT'} (torch ${addon.runtimeInfo().torchVersion})`);
      fs.rmSync(work, { recursive: true, force: true });
      process.exit(ok ? 0 : 1);
    })
    .catch((e) => {
      console.error(`node-gyp build: the addon failed: ${e.message}`);
      process.exit(1);
    });
}

main();
