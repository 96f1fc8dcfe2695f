#!/usr/bin/env node
'use strict';
// Checks one built addon file: every shared library it needs resolves (ldd), it loads in this
// Node, and it reports the libtorch version and CUDA support it was meant to have. CI runs it on
// the builds against PyTorch wheels; scripts/gpu-check.sh on the GPU machine's build.
//   node scripts/check-addon.js build-cuda/Release/longrope.node --torch 2.14.1 --cuda
//   node scripts/check-addon.js build-torch2/Release/longrope.node --torch 2.13.0 --no-cuda
// Prints one JSON line (the runtime info plus the checked expectations); exits 1 on a mismatch.
const path = require('path');
const { spawnSync } = require('child_process');

function parseArgs(argv) {
  const args = { file: null, torch: null, cuda: null, gpus: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--torch') args.torch = argv[++i];
    else if (a === '--cuda') args.cuda = true;
    else if (a === '--no-cuda') args.cuda = false;
    else if (a === '--gpu') args.gpus = true; // a GPU must be visible too (the GPU machine)
    else if (!args.file) args.file = path.resolve(a);
    else throw new Error(`Expected one addon file but received a second argument '${a}'`);
  }
  if (!args.file) throw new Error('Expected the path of a longrope.node but received nothing');
  return args;
}

/** Libraries ldd cannot resolve for `file` (empty when all resolve). */
function missingLibraries(file) {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ldd ${file} failed: ${r.stderr || r.stdout}`);
  return r.stdout.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim());
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const problems = [];
  const missing = missingLibraries(args.file);
  if (missing.length) problems.push(`ldd: unresolved libraries: ${missing.join('; ')}`);
  let info = null;
  try {
    info = require(args.file).runtimeInfo();
  } catch (e) {
    problems.push(`loading ${args.file} failed: ${e.message}`);
  }
  if (info) {
    const version = String(info.torchVersion).split('+')[0];
    if (args.torch && version !== args.torch) {
      problems.push(`Expected torch ${args.torch} but the addon reports ${info.torchVersion}`);
    }
    if (args.cuda !== null && info.cudaBuilt !== args.cuda) {
      problems.push(`Expected cudaBuilt ${args.cuda} but the addon reports ${info.cudaBuilt}`);
    }
    if (args.gpus && !(info.cudaDevices > 0)) problems.push(`Expected a visible GPU but cudaDevices is ${info.cudaDevices}`);
  }
  console.log(JSON.stringify({ file: args.file, ok: problems.length === 0, info, problems }));
  for (const p of problems) console.error(`check-addon: ${p}`);
  process.exitCode = problems.length ? 1 : 0;
}

main();
