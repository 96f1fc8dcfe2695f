// [async] attention({q, k, v, slidingWindow?, queryOffset?, tile?, impl?}) -> Promise<Float32Array>
// [async] attention({..., gradOut}) -> Promise<{out, dq, dk, dv}>: the training path's backward
// Causal attention on host arrays, for tests and tools; the model calls CausalAttention directly.
#pragma once

#include <napi.h>

namespace longrope {

void InitAttention(Napi::Env env, Napi::Object exports);

}  // namespace longrope
