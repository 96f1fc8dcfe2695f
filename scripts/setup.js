#!/usr/bin/env node
'use strict';
// One step that makes a fresh machine ready: system packages (apt-get, when missing and we are
// root; otherwise the exact command to run), npm dependencies, the compiled JavaScript in dist/
// (when src/ changed since the last build), then the native build.
// `npm test`, `npm run demo` and the benches run it first, so the README's two commands suffice.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const { SYSTEM_PACKAGES } = require('./lib/system-packages');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status === 0;
}

function isInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function ensureSystemPackages() {
  const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
  if (!hasDpkg) {
    console.error('longrope: not a Debian-style system; skipping apt packages (see README: Install).');
    return;
  }
  const missing = SYSTEM_PACKAGES.filter((p) => p.needed() && !isInstalled(p.name)).map((p) => p.name);
  if (missing.length === 0) return;
  const line = `apt-get install -y ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`longrope: missing system packages. Run:\n  sudo apt-get update && sudo ${line}`);
    process.exit(1);
  }
  console.error(`longrope: installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', ...missing], { env })) {
    console.error(`longrope: apt-get failed. Run by hand:\n  apt-get update && ${line}`);
    process.exit(1);
  }
}

function mtime(p) {
  try { return fs.statSync(p).mtimeMs; } catch { return -1; }
}

function ensureNpmDependencies() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (mtime(marker) >= Math.max(mtime(lock), mtime(path.join(root, 'package.json')))) return;
  console.error('longrope: installing npm dependencies');
  // --ignore-scripts: our own install script is the native build, which runs next, after apt.
  const args = fs.existsSync(lock) ? ['ci', '--ignore-scripts'] : ['install', '--ignore-scripts'];
  if (!run('npm', args)) process.exit(1);
}

function main() {
  ensureSystemPackages();
  ensureNpmDependencies();
  if (!run(process.execPath, [path.join(__dirname, 'build-dist.js')])) process.exit(1);
  if (!run(process.execPath, [path.join(__dirname, 'build.js')])) process.exit(1);
}

main();
