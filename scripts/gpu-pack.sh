#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no Node, npm or network, into
# .gpu-bundle/ (git-ignored; carry it along with the working tree, < 64 MiB):
#   node.tar.xz   this machine's Node binary
#   napi/         node-api headers and node-addon-api (the addon's only build inputs besides libtorch)
#   js/           src/, the GPU tests (test/gpu/*.gpu.ts) and the GPU benchmark compiled to JS
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu-bundle
mkdir -p "$out"
rm -rf "$out/napi" "$out/js" && mkdir -p "$out/napi"

# The Node archive is kept while it is newer than this machine's Node (xz takes a minute or more).
node_bin=$(readlink -f "$(command -v node)")
if [ ! "$out/node.tar.xz" -nt "$node_bin" ]; then
  tar -C "$(dirname "$node_bin")" -cf - "$(basename "$node_bin")" | xz -T0 -6 > "$out/node.tar.xz.tmp"
  mv "$out/node.tar.xz.tmp" "$out/node.tar.xz"
fi

cp -r node_modules/node-api-headers/include "$out/napi/node-api-headers"
mkdir -p "$out/napi/node-addon-api" && cp node_modules/node-addon-api/*.h "$out/napi/node-addon-api/"

# Everything the GPU tests and bench import, as CommonJS next to a copy of the layout
# (js/test/gpu/x.gpu.js finds ../fixtures through a link made by gpu-check.sh).
npx tsc --outDir "$out/js" --rootDir . --target ES2022 --module commonjs --moduleResolution node \
  --esModuleInterop --skipLibCheck --resolveJsonModule --types node --strict \
  test/gpu/*.gpu.ts scripts/gpu-bench.ts
# The bundle must run without node_modules: only Node built-ins may be required.
if grep -rhoE "require\(\"[^./][^\"]*\"\)" "$out/js" | grep -vE '"(node:)?(assert|assert/strict|fs|path|os|child_process|util|worker_threads|crypto|events|stream|zlib|perf_hooks|readline|url|module|test|node:test)"' | sort -u | grep .; then
  echo "gpu-pack: the compiled GPU tests require packages that will not be on the GPU machine" >&2
  exit 1
fi
du -sh "$out" "$out"/*
