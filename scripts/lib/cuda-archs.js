'use strict';
// The CUDA architectures we ship, read from cmake/cuda-archs.txt (TORCH_CUDA_ARCH_LIST spelling,
// e.g. "8.0;9.0a"), the list CMakeLists.txt hands to torch's cuda.cmake. The compile check
// (scripts/check-cuda.js) and CI's look at the real build use these same -gencode flags.
const fs = require('fs');
const path = require('path');

const FILE = path.join(__dirname, '..', '..', 'cmake', 'cuda-archs.txt');

/** ['8.0', '9.0a'] */
function cudaArchs() {
  return fs.readFileSync(FILE, 'utf8').trim().split(';').filter(Boolean);
}

/** The nvcc flags torch derives from the list: one `-gencode arch=compute_XY,code=sm_XY` each. */
function gencodeFlags() {
  return cudaArchs().flatMap((a) => {
    const n = a.replace('.', '');
    return ['-gencode', `arch=compute_${n},code=sm_${n}`];
  });
}

module.exports = { cudaArchs, gencodeFlags };
