#include "runtime_wrap.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cstdlib>
#include <thread>

#include "common.h"
#include "device.h"

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

}  // namespace

void InitRuntime(Napi::Env env, Napi::Object exports) {
  // libtorch starts with one intra-op thread on this kind of machine; use every core unless told.
  const char* env_threads = std::getenv("LONGROPE_NUM_THREADS");
  const int threads = env_threads ? std::atoi(env_threads) : static_cast<int>(std::thread::hardware_concurrency());
  if (threads > 0) at::set_num_threads(threads);
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
}

}  // namespace longrope
