// The rope benchmark's measurements, taken natively so no N-API copy sits inside a timed region.
// Three paths on the same q/k: the fused kernel, the naive libtorch rotate_half path (tables
// precomputed for both, as a model computes them once per forward), and a plain copy of q and k,
// which moves the same bytes and so measures this machine's achievable memory bandwidth.
#include <c10/core/GradMode.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>

#include "common.h"
#include "device.h"
#include "rope/rope_op.h"
#include "rope/rope_wrap.h"

namespace longrope {
namespace {

struct BenchConfig {
  int64_t batch, seq, heads, kv_heads, head_dim, iterations, warmup;
  at::ScalarType dtype;
  at::Device device = at::kCPU;
  RopeParams params;
};

struct BenchResult {
  double fused_ms, fused_in_place_ms, fused_alloc_ms, naive_ms, copy_ms, tables_ms;
  double bytes;  // read + written by one rope apply (= by one copy of q and k)
  int threads;
};

template <typename Fn>
double MedianMs(const BenchConfig& c, Fn&& fn) {
  for (int64_t i = 0; i < c.warmup; ++i) fn();
  Synchronize(c.device);
  std::vector<double> times;
  for (int64_t i = 0; i < c.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    Synchronize(c.device);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

BenchResult Run(const BenchConfig& c) {
  c10::NoGradGuard no_grad;
  const auto opts = at::TensorOptions().dtype(c.dtype).device(c.device);
  at::Tensor q = at::randn({c.batch, c.seq, c.heads, c.head_dim}, opts);
  at::Tensor k = at::randn({c.batch, c.seq, c.kv_heads, c.head_dim}, opts);
  at::Tensor positions = at::arange(c.seq, at::TensorOptions().dtype(at::kLong).device(c.device));
  RopeParams params = c.params;
  RopeAngles angles, full;
  BenchResult r{};
  r.tables_ms = MedianMs(c, [&] { angles = ComputeRopeAngles(positions, params); });
  full = NaiveRopeTables(positions, params, RopeLayout::kHalf);
  at::Tensor q_dst = at::empty_like(q), k_dst = at::empty_like(k);
  // The kernel proper writes into buffers that exist already (as the copy does). Allocating fresh
  // 64 MB outputs adds page faults that no kernel can avoid, so that variant is reported apart.
  r.fused_ms = MedianMs(c, [&] { FusedRopeNoGrad(q, k, angles, false, RopeLayout::kHalf, q_dst, k_dst); });
  r.fused_in_place_ms = MedianMs(c, [&] { FusedRopeNoGrad(q, k, angles, false, RopeLayout::kHalf, q, k); });
  r.fused_alloc_ms = MedianMs(c, [&] { FusedRopeNoGrad(q, k, angles, false, RopeLayout::kHalf); });
  r.naive_ms = MedianMs(c, [&] { NaiveRopeApply(q, k, full, RopeLayout::kHalf); });
  r.copy_ms = MedianMs(c, [&] {
    q_dst.copy_(q);
    k_dst.copy_(k);
  });
  r.bytes = 2.0 * static_cast<double>((q.numel() + k.numel()) * q.element_size());
  r.threads = at::get_num_threads();
  return r;
}

}  // namespace

Napi::Value RopeBenchmark(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "ropeBenchmark options";
    Napi::Object opts = RequireObject(info[0], where);
    BenchConfig c{GetInteger(opts, "batch", where, 1), GetInteger(opts, "seq", where, 4096),
                  GetInteger(opts, "heads", where, 32), GetInteger(opts, "kvHeads", where, 32),
                  GetInteger(opts, "headDim", where, 128), GetInteger(opts, "iterations", where, 20),
                  GetInteger(opts, "warmup", where, 3), at::kFloat, at::Device(at::kCPU), RopeParams{}};
    const std::string dtype = GetString(opts, "dtype", where, std::string("float32"));
    if (dtype != "float32" && dtype != "bfloat16") ThrowTypeError(where + ".dtype", "'float32' or 'bfloat16'", "'" + dtype + "'");
    c.dtype = dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
    c.device = ParseDevice(GetString(opts, "device", where, std::string("cpu")), where + ".device");
    c.params = ParseRopeParams(opts, where);
    if (c.iterations < 1) ThrowTypeError(where + ".iterations", "a positive integer", std::to_string(c.iterations));
    return RunAsync<BenchResult>(
        info.Env(), [c]() { return Run(c); },
        [](Napi::Env env, BenchResult& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("fusedMs", r.fused_ms);
          out.Set("fusedInPlaceMs", r.fused_in_place_ms);
          out.Set("fusedAllocMs", r.fused_alloc_ms);
          out.Set("naiveMs", r.naive_ms);
          out.Set("copyMs", r.copy_ms);
          out.Set("tablesMs", r.tables_ms);
          out.Set("bytes", r.bytes);
          out.Set("threads", r.threads);
          return out;
        });
  });
}

}  // namespace longrope
