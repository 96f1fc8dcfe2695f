'use strict';
// Locates a libtorch for the native build, in the order the README documents:
//   1. LIBTORCH or Torch_DIR in the environment (an unpacked libtorch zip or any CMake config dir),
//   2. a Python torch install (the usual case on GPU machines: torch.utils.cmake_prefix_path),
//   3. the system (Debian/Ubuntu libtorch-dev).
// Plain JS with no dependencies: it runs before `npm install` has put anything in node_modules,
// and binding.gyp calls it too, so both builds see the same libtorch.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const CONFIG = path.join('Torch', 'TorchConfig.cmake');

function isDir(p) {
  try { return fs.statSync(p).isDirectory(); } catch { return false; }
}

/** Describes a libtorch rooted at `root` whose CMake config lives under `cmakePrefix`. */
function describe(source, cmakePrefix, root, includeDir, libDir) {
  const hasCuda = fs.existsSync(path.join(libDir, 'libc10_cuda.so'));
  return {
    source,
    cmakePrefix,
    root,
    includeDirs: [includeDir, path.join(includeDir, 'torch', 'csrc', 'api', 'include')],
    libDir,
    cuda: hasCuda,
  };
}

/** A libtorch tree laid out like the official zip or a pip wheel: include/, lib/, share/cmake/. */
function fromRoot(source, root) {
  const cmakePrefix = path.join(root, 'share', 'cmake');
  if (!fs.existsSync(path.join(cmakePrefix, CONFIG))) return null;
  return describe(source, cmakePrefix, root, path.join(root, 'include'), path.join(root, 'lib'));
}

function fromEnv(env) {
  if (env.LIBTORCH) {
    const found = fromRoot('LIBTORCH', path.resolve(env.LIBTORCH));
    if (!found) throw new Error(`LIBTORCH=${env.LIBTORCH} does not contain share/cmake/${CONFIG}`);
    return found;
  }
  if (env.Torch_DIR) {
    // Torch_DIR points at the folder holding TorchConfig.cmake: <root>/share/cmake/Torch.
    const root = path.resolve(env.Torch_DIR, '..', '..', '..');
    const found = fromRoot('Torch_DIR', root);
    if (!found) throw new Error(`Torch_DIR=${env.Torch_DIR} does not contain TorchConfig.cmake`);
    return found;
  }
  return null;
}

function fromPython() {
  const pythons = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const py of pythons) {
    let prefix;
    try {
      prefix = execFileSync(py, ['-c', 'import torch.utils; print(torch.utils.cmake_prefix_path)'], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000,
      }).trim();
    } catch { continue; }
    // Debian's python3-torch has no CMake config; its libtorch comes from libtorch-dev (system).
    if (prefix && fs.existsSync(path.join(prefix, CONFIG))) {
      return fromRoot(`python (${py})`, path.resolve(prefix, '..', '..'));
    }
  }
  return null;
}

function fromSystem() {
  const libRoots = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib',
    '/usr/local/lib'];
  for (const libDir of libRoots) {
    const cmakePrefix = path.join(libDir, 'cmake');
    if (!fs.existsSync(path.join(cmakePrefix, CONFIG))) continue;
    const includeDir = libDir.startsWith('/usr/local') ? '/usr/local/include' : '/usr/include';
    if (!isDir(path.join(includeDir, 'torch'))) continue;
    return describe('system', cmakePrefix, path.dirname(libDir), includeDir, libDir);
  }
  return null;
}

/** {major, minor} of a found libtorch, from its torch/version.h (0.0 when unreadable). */
function torchVersion(torch) {
  const header = torch.includeDirs.map((d) => path.join(d, 'torch', 'version.h')).find((f) => fs.existsSync(f));
  const text = header ? fs.readFileSync(header, 'utf8') : '';
  const major = Number((/TORCH_VERSION_MAJOR (\d+)/.exec(text) || [])[1] || 0);
  const minor = Number((/TORCH_VERSION_MINOR (\d+)/.exec(text) || [])[1] || 0);
  return { major, minor };
}

/** The C++ dialect for this libtorch: torch's headers require C++20 from 2.12 on (CMakeLists.txt agrees). */
function cxxStandard(torch) {
  const { major, minor } = torchVersion(torch);
  return major > 2 || (major === 2 && minor >= 12) ? 'c++20' : 'c++17';
}

/** The libtorch to build against, or null when none is installed. */
function findTorch(env = process.env) {
  return fromEnv(env) || fromPython() || fromSystem();
}

const INSTALL_HELP = [
  'libtorch was not found. Install one of:',
  '  Debian/Ubuntu (CPU):  sudo apt-get install -y libtorch-dev libopenblas0-pthread',
  '  Python (CPU or CUDA): pip install torch   (the build reads torch.utils.cmake_prefix_path)',
  '  Any libtorch zip:     export LIBTORCH=/path/to/libtorch   (or Torch_DIR=<dir with TorchConfig.cmake>)',
].join('\n');

module.exports = { findTorch, cxxStandard, INSTALL_HELP };

// binding.gyp asks for single fields: `node scripts/lib/find-torch.js include|libdir|cxxstd|json`.
if (require.main === module) {
  const torch = findTorch();
  if (!torch) {
    process.stderr.write(INSTALL_HELP + '\n');
    process.exit(1);
  }
  const what = process.argv[2] || 'json';
  if (what === 'include') process.stdout.write(torch.includeDirs.join(' '));
  else if (what === 'libdir') process.stdout.write(torch.libDir);
  else if (what === 'cxxstd') process.stdout.write(cxxStandard(torch));
  else process.stdout.write(JSON.stringify(torch, null, 2) + '\n');
}
