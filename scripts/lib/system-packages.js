'use strict';
// The Debian packages the project needs, and when. One list so later parts add theirs here.
const { findTorch } = require('./find-torch');

let torchCache;
function torch() {
  if (torchCache === undefined) torchCache = findTorch();
  return torchCache;
}

/** Each entry: apt package name, why, and whether this machine needs it. */
const SYSTEM_PACKAGES = [
  // CPU libtorch, unless the user brought their own (LIBTORCH, Torch_DIR or a Python torch).
  { name: 'libtorch-dev', why: 'libtorch (CPU)', needed: () => !torch() || torch().source === 'system' },
  // Without it Debian's libtorch uses the reference BLAS: matrix products run ~30x slower.
  { name: 'libopenblas0-pthread', why: 'fast BLAS for libtorch', needed: () => !torch() || torch().source === 'system' },
  // gloo's headers: c10d's Gloo process group (multi-process CPU runs, `longrope launch`) includes them;
  // the library itself is already inside libtorch.
  { name: 'libgloo-dev', why: 'Gloo process groups (native/dist)', needed: () => true },
  // The King James Bible (`bible -f ...`): training/evaluation text of the bundled corpora.
  { name: 'bible-kjv', why: 'King James Bible corpus (src/data)', needed: () => true },
];

module.exports = { SYSTEM_PACKAGES };
