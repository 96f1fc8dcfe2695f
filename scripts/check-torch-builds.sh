#!/usr/bin/env bash
# CI's builds of the addon against PyTorch's own libtorch (the main suite runs on Debian's 1.13):
#   cuda  torch 2.14.1 (CUDA 13 wheel) with LONGROPE_CUDA=ON into build-cuda/: configure, compile
#         (kernels for cmake/cuda-archs.txt, SDPA, autocast, the model), link, ldd, load in Node,
#         cudaBuilt must be true. No GPU here, so nothing runs on CUDA.
#   cpu   torch 2.13.0 (CPU wheel) into build-torch2/, then the native tests against that build
#         (LONGROPE_ADDON): the SDPA path, the torch >= 2.4 autocast API and the model fixtures.
# The wheels live in venvs outside the clone (scripts/torch-venv.sh), reused between runs.
# Exit 0 when every step passes; the last line says which step failed otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:?usage: check-torch-builds.sh cuda|cpu}
# ccache (kept in ~/.cache like the venvs) makes a rerun of an unchanged tree a relink; paths
# relative to the clone, so clones in other folders share the cache.
if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_CUDA_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi
step() { echo "== check-torch-builds $kind: $*"; }
fail() { echo "FAILED check-torch-builds $kind: $*"; exit 1; }

case "$kind" in
  cuda)
    step "venv with torch 2.14.1 (CUDA 13)"
    python=$(scripts/torch-venv.sh cuda) || fail "could not create the torch 2.14.1 venv"
    out=build-cuda
    step "build into $out with LONGROPE_CUDA=ON"
    PYTHON=$python LONGROPE_CUDA=ON node scripts/build.js --out "$out" 2>&1 | tee "$out.log" \
      || fail "the CUDA build failed (see $out.log)"
    addon=$out/Release/longrope.node
    # CUDA silently dropped would still give a loadable CPU addon: check the build itself.
    readelf -SW "$addon" | grep -q '\.nv_fatbin' || fail "$addon holds no CUDA device code (.nv_fatbin)"
    step "device code for the shipped architectures ($(cat cmake/cuda-archs.txt))"
    want=$(node -e "console.log(require('./scripts/lib/cuda-archs').gencodeFlags().join(' '))")
    grep -q -- "$want" "$out/build.ninja" || fail "nvcc flags in $out/build.ninja lack: $want"
    step "ldd and load ($addon)"
    node scripts/check-addon.js "$addon" --torch 2.14.1 --cuda || fail "the CUDA addon does not load as expected"
    ;;
  cpu)
    step "venv with torch 2.13.0 (CPU) and transformers 5.18.0"
    python=$(scripts/torch-venv.sh cpu) || fail "could not create the torch 2.13.0 venv"
    out=build-torch2
    step "build into $out"
    PYTHON=$python LONGROPE_CUDA=OFF node scripts/build.js --out "$out" 2>&1 | tee "$out.log" \
      || fail "the torch 2.13 build failed (see $out.log)"
    addon=$out/Release/longrope.node
    step "ldd and load ($addon)"
    node scripts/check-addon.js "$addon" --torch 2.13.0 --no-cuda || fail "the torch 2.13 addon does not load as expected"
    step "native tests against $addon"
    LONGROPE_ADDON=$PWD/$addon npx ava ${LONGROPE_TORCH2_TESTS:-test/attention test/model test/rope test/train} \
      || fail "native tests failed against the torch 2.13 build"
    ;;
  *) fail "expected cuda or cpu but received '$kind'" ;;
esac
echo "ok check-torch-builds $kind"
