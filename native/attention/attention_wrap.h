// [async] attention({q, k, v, slidingWindow?, queryOffset?, tile?, impl?}) -> Promise<Float32Array>
// Causal attention on host arrays, for tests and tools; the model calls CausalAttention directly.
#pragma once

#include <napi.h>

namespace longrope {

void InitAttention(Napi::Env env, Napi::Object exports);

}  // namespace longrope
