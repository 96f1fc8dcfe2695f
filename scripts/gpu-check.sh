#!/usr/bin/env bash
# The GPU check, for a GPU machine with no Node, npm or network (PyTorch with CUDA installed):
# unpacks the Node from .gpu-bundle/ (scripts/gpu-pack.sh makes it here), builds the addon against
# the Python torch's libtorch with LONGROPE_CUDA=ON, checks ldd and the load, runs the GPU tests
# (test/gpu/*.gpu.ts compiled to JS) and the GPU benchmarks, and writes logs and JSON to $OUT.
#
#   scripts/gpu-check.sh             on the GPU machine (fails when no GPU is visible)
#   scripts/gpu-check.sh --dry-run   here, without a GPU: every step up to running on the GPU,
#                                    tests skipped and the benchmarks at toy sizes on the CPU
# Environment: OUT (default ./gpu-out), PYTHON (default python3: its torch is the libtorch),
# GPU_CHECK_BUILD (build folder, default build-gpu), JOBS (build jobs, default nproc).
# Aims to finish in under 8 minutes on the GPU machine (16 cores) so that one rerun fits.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
out=$(mkdir -p "${OUT:-$root/gpu-out}" && cd "${OUT:-$root/gpu-out}" && pwd)
build=${GPU_CHECK_BUILD:-$root/build-gpu}
python=${PYTHON:-python3}
jobs=${JOBS:-$(nproc)}
bundle=$root/.gpu-bundle
log=$out/gpu-check.log
: > "$log"
started=$(date +%s)
steps=()

say() { echo "[gpu-check $(( $(date +%s) - started ))s] $*" | tee -a "$log"; }
record() {  # name status seconds
  steps+=("{\"step\":\"$1\",\"ok\":$2,\"seconds\":$3}")
}
finish() {
  local ok=$1
  printf '{"dryRun":%s,"ok":%s,"seconds":%s,"steps":[%s]}\n' "$([ $dry = 1 ] && echo true || echo false)" "$ok" \
    "$(( $(date +%s) - started ))" "$(IFS=,; echo "${steps[*]}")" > "$out/summary.json"
  say "summary: $out/summary.json (ok: $ok)"
  [ "$ok" = true ]
  exit $?
}
# run NAME TIMEOUT_S CMD...: one step, its output in $out/NAME.log, fatal on failure.
run() {
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  say "$name: $*"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  if [ $rc -ne 0 ]; then
    record "$name" false "$dt"
    tail -40 "$out/$name.log" | tee -a "$log"
    say "$name FAILED (exit $rc after ${dt}s; $out/$name.log)"
    finish false
  fi
  record "$name" true "$dt"
  say "$name ok (${dt}s)"
}

# 1. Node: the carried one, else (dry run here) this machine's.
node=$(command -v node || true)
if [ -f "$bundle/node.tar.xz" ] && { [ $dry = 0 ] || [ -z "$node" ]; }; then
  mkdir -p /tmp/longrope-node && tar -C /tmp/longrope-node -xJf "$bundle/node.tar.xz"
  node=/tmp/longrope-node/node
fi
[ -x "$node" ] || { say "no Node: run scripts/gpu-pack.sh on a machine with Node and carry .gpu-bundle"; finish false; }
[ -f "$bundle/js/scripts/gpu-bench.js" ] || { say "no $bundle/js: run scripts/gpu-pack.sh first"; finish false; }
say "node $("$node" --version), bundle $(du -sh "$bundle" | cut -f1)"

# 2. libtorch from the Python torch.
torch_info=$("$python" -c 'import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__.split("+")[0]); print(torch.version.cuda)' 2>>"$log") \
  || { say "$python cannot import torch"; finish false; }
cmake_prefix=$(sed -n 1p <<<"$torch_info"); torch_version=$(sed -n 2p <<<"$torch_info"); torch_cuda=$(sed -n 3p <<<"$torch_info")
torch_lib=$(cd "$cmake_prefix/../../lib" && pwd)
say "torch $torch_version (CUDA $torch_cuda) at $torch_lib"
nvidia-smi > "$out/nvidia-smi.log" 2>&1 || [ $dry = 1 ] || { say "nvidia-smi failed: no GPU visible"; finish false; }

# 3. Build with CUDA (the same CMakeLists.txt as npm's build, without cmake-js).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# node-api headers: the bundle's; in a dry run node_modules' (the same files, as npm's build uses
# them, so ccache can reuse CI's build-cuda objects).
napi="$bundle/napi/node-api-headers;$bundle/napi/node-addon-api"
if [ $dry = 1 ] && [ -d node_modules/node-api-headers/include ]; then
  napi="$root/node_modules/node-api-headers/include;$root/node_modules/node-addon-api"
fi
run configure 300 cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$cmake_prefix" -DLONGROPE_TORCH_LIB_DIR="$torch_lib" -DLONGROPE_CUDA=ON \
  -DCMAKE_JS_INC="$napi" -DCMAKE_JS_SRC= -DCMAKE_JS_LIB= \
  -DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$build"
run build 420 cmake --build "$build" -j "$jobs"
addon=$build/longrope.node
gpu_flag=(--gpu); [ $dry = 1 ] && gpu_flag=()
run addon-check 120 "$node" scripts/check-addon.js "$addon" --torch "$torch_version" --cuda "${gpu_flag[@]}"
readelf -SW "$addon" | grep -q '\.nv_fatbin' || { say "$addon holds no CUDA device code"; record device-code false 0; finish false; }
record device-code true 0

# 4. GPU tests (skipped without a GPU) and benchmarks (toy sizes on the CPU in a dry run).
ln -sfn "$root/test/fixtures" "$bundle/js/test/fixtures"
export LONGROPE_ADDON=$addon
run gpu-tests 300 "$node" --test --test-reporter=spec "$bundle"/js/test/gpu/*.gpu.js
# GPU_BENCH_LAYERS: decoder layers of the 7B-shaped model (default 32, the real depth).
bench_args=(--out "$out/bench.json" --layers "${GPU_BENCH_LAYERS:-32}"); [ $dry = 1 ] && bench_args=(--out "$out/bench.json" --dry-run)
run gpu-bench 300 "$node" "$bundle/js/scripts/gpu-bench.js" "${bench_args[@]}"
finish true
