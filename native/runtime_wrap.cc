#include "runtime_wrap.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <thread>

#include "allocator.h"
#include "common.h"
#include "attention/attention_flash.h"
#include "attention/attention_tiled.h"
#include "device.h"
#include "model/forward_profile.h"

namespace longrope {
namespace {

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("torchVersion", TORCH_VERSION);
    out.Set("cudaBuilt", CudaBuilt());
    out.Set("cudaDevices", CudaDeviceCount());
    out.Set("threads", at::get_num_threads());
    out.Set("allocator", TuneAllocator());
    // OpenBLAS's chosen kernels, looked up by name: a libtorch on MKL has no such symbol.
    using CoreName = char* (*)();
    const auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    out.Set("blasCore", core_name ? Napi::Value(Napi::String::New(env, core_name())) : env.Null());
    return out;
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1) {
      ThrowTypeError("threads", "a positive integer", DescribeValue(info[0]));
    }
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

// [async] matmulBenchmark({m, n, k, iterations}) -> Promise<{gflops, ms}>: this machine's fp32 GEMM
// rate through libtorch (the denominator of the model benchmark's gemmFraction).
Napi::Value MatmulBenchmark(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "matmulBenchmark options";
    Napi::Object opts = RequireObject(info[0], where);
    const int64_t m = GetInteger(opts, "m", where, 1024), n = GetInteger(opts, "n", where, 1024),
                  k = GetInteger(opts, "k", where, 1024), iters = GetInteger(opts, "iterations", where, 10);
    return RunAsync<std::pair<double, double>>(
        info.Env(),
        [=]() {
          at::Tensor a = at::randn({m, k}), b = at::randn({k, n}), c = at::empty({m, n});
          at::mm_out(c, a, b);  // warm-up
          double best = 1e30;
          for (int64_t i = 0; i < iters; ++i) {
            const auto start = std::chrono::steady_clock::now();
            at::mm_out(c, a, b);
            best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          }
          return std::make_pair(2.0 * m * n * k / (best * 1e6), best);
        },
        [](Napi::Env env, std::pair<double, double>& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("gflops", r.first);
          out.Set("ms", r.second);
          return out;
        });
  });
}

// cudaMemory(device, {reset}) -> {allocated, peak, reserved} bytes of the CUDA caching allocator
// (zeros on CPU); reset: true starts a new peak after reading.
Napi::Value CudaMemoryInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) ThrowTypeError("device", "a device string", DescribeValue(info[0]));
    const at::Device device = ParseDevice(info[0].As<Napi::String>().Utf8Value(), "device");
    const bool reset = info[1].IsObject() && GetBool(info[1].As<Napi::Object>(), "reset", "cudaMemory options", false);
    const CudaMemory m = CudaMemoryStats(device);
    if (reset) ResetCudaPeak(device);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("allocated", static_cast<double>(m.allocated));
    out.Set("peak", static_cast<double>(m.peak));
    out.Set("reserved", static_cast<double>(m.reserved));
    return out;
  });
}

double ProcessCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// [async] cpuAttentionBenchmark({seq, heads, headDim, tile, iterations, impl: 'flash' | 'flash-avx2' | 'aten'})
// -> Promise<{ms, cpuMs, gflops}>: causal self-attention (batch 1, random fp32) through our AVX2
// kernel (AVX-512 where the CPU has it, or AVX2 only) or the ATen-tiled one, best of `iterations` by wall time and by process CPU time (the
// latter is what a loaded machine cannot inflate much); gflops counts the causal half, 4 S^2/2 H D.
Napi::Value CpuAttentionBenchmark(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "cpuAttentionBenchmark options";
    Napi::Object opts = RequireObject(info[0], where);
    const int64_t seq = GetInteger(opts, "seq", where, 4096), heads = GetInteger(opts, "heads", where, 4),
                  d = GetInteger(opts, "headDim", where, 64), tile = GetInteger(opts, "tile", where, 256),
                  iters = GetInteger(opts, "iterations", where, 3);
    const std::string impl = GetString(opts, "impl", where, std::string("flash"));
    if (impl != "flash" && impl != "flash-avx2" && impl != "aten") {
      ThrowTypeError(where + ".impl", "'flash', 'flash-avx2' or 'aten'", "'" + impl + "'");
    }
    return RunAsync<std::array<double, 3>>(
        info.Env(),
        [=]() {
          at::Tensor q = at::randn({1, seq, heads, d}), k = at::randn({1, seq, heads, d}), v = at::randn({1, seq, heads, d});
          AttentionOptions a;
          a.tile = tile;
          auto run = [&]() {
            if (impl != "aten") return FlashAttentionCpu(q, k, v, a, nullptr, nullptr, impl == "flash");
            const GroupedAttention g = GroupAttentionInputs(q, k, v, a);
            return UngroupQueries(TiledAttentionForward(g, a, nullptr, nullptr), g, at::kFloat);
          };
          run();  // warm-up
          double best = 1e30, best_cpu = 1e30;
          for (int64_t i = 0; i < iters; ++i) {
            const double c0 = ProcessCpuMs();
            const auto start = std::chrono::steady_clock::now();
            run();
            best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
            best_cpu = std::min(best_cpu, ProcessCpuMs() - c0);
          }
          return std::array<double, 3>{best, best_cpu, 4.0 * seq * seq / 2 * heads * d / (best * 1e6)};
        },
        [](Napi::Env env, std::array<double, 3>& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("ms", r[0]);
          out.Set("cpuMs", r[1]);
          out.Set("gflops", r[2]);
          return out;
        });
  });
}

// [sync] forwardProfile(reset?: boolean) -> {attentionMs, gemmMs, ropeNormMs, lmHeadLossMs,
// nativeCallMs}: wall time per kind of work summed over every model call since the last reset
// (model/forward_profile.h); `reset` zeroes the counters after reading them.
Napi::Value ForwardProfile(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const bool reset = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
    static const char* const kNames[] = {"attentionMs", "gemmMs", "ropeNormMs", "lmHeadLossMs", "nativeCallMs"};
    static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(ProfilePart::kCount), "one name per part");
    Napi::Object out = Napi::Object::New(info.Env());
    auto& counters = ProfileCounters();
    for (int i = 0; i < static_cast<int>(ProfilePart::kCount); ++i) {
      const int64_t ns = reset ? counters[i].exchange(0) : counters[i].load();
      out.Set(kNames[i], static_cast<double>(ns) / 1e6);
    }
    return out;
  });
}

}  // namespace

void InitRuntime(Napi::Env env, Napi::Object exports) {
  // libtorch starts with one intra-op thread on this kind of machine; use every core unless told.
  const char* env_threads = std::getenv("LONGROPE_NUM_THREADS");
  const int threads = env_threads ? std::atoi(env_threads) : static_cast<int>(std::thread::hardware_concurrency());
  if (threads > 0) at::set_num_threads(threads);
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("cpuAttentionBenchmark", Napi::Function::New(env, CpuAttentionBenchmark, "cpuAttentionBenchmark"));
  exports.Set("forwardProfile", Napi::Function::New(env, ForwardProfile, "forwardProfile"));
  exports.Set("matmulBenchmark", Napi::Function::New(env, MatmulBenchmark, "matmulBenchmark"));
  exports.Set("cudaMemory", Napi::Function::New(env, CudaMemoryInfo, "cudaMemory"));
}

}  // namespace longrope
