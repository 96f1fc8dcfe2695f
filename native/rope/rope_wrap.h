// [async] ropeApply(options) -> Promise<{q, k, gradQ?, gradK?}>: the fused (or naive reference) RoPE on
//         host arrays, optionally with a backward pass for given upstream gradients.
// [async] ropeBenchmark(options) -> Promise<timings>: fused vs naive vs copy, measured natively.
#pragma once

#include <napi.h>

#include "rope/rope_tables.h"

namespace longrope {

void InitRope(Napi::Env env, Napi::Object exports);

// Reads {invFreq, baseInvFreq, attentionFactor, nHat} (the TypeScript RopeTables) from options.
RopeParams ParseRopeParams(const Napi::Object& options, const std::string& where);

// Benchmark binding (rope_bench.cc).
Napi::Value RopeBenchmark(const Napi::CallbackInfo& info);

}  // namespace longrope
