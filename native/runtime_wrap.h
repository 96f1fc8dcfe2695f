// [sync] runtimeInfo() -> {torchVersion, cudaBuilt, cudaDevices, threads}
// [sync] setNumThreads(n): libtorch intra-op threads (defaults to the core count at load).
#pragma once

#include <napi.h>

namespace longrope {

void InitRuntime(Napi::Env env, Napi::Object exports);

}  // namespace longrope
