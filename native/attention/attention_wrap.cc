#include "attention/attention_wrap.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <vector>

#include "attention/attention.h"
#include "attention/attention_tiled.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>
#include "common.h"
#include "device.h"

namespace longrope {
namespace {

Napi::Value Attention(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "attention options";
    Napi::Object opts = RequireObject(info[0], where);
    at::Tensor q = ParseHostTensor(opts, "q", where), k = ParseHostTensor(opts, "k", where),
               v = ParseHostTensor(opts, "v", where);
    AttentionOptions a;
    a.sliding_window = GetInteger(opts, "slidingWindow", where, 0);
    a.query_offset = GetInteger(opts, "queryOffset", where, 0);
    a.tile = GetInteger(opts, "tile", where, 256);
    a.causal = GetBool(opts, "causal", where, true);
    a.avx = GetBool(opts, "avx", where, true);
    a.sdpa_mask_elements = GetInteger(opts, "sdpaMaskElements", where, a.sdpa_mask_elements);
    if (a.sdpa_mask_elements < 1) {
      ThrowTypeError(where + ".sdpaMaskElements", "a positive integer", std::to_string(a.sdpa_mask_elements));
    }
    const at::Device device = ParseDevice(GetString(opts, "device", where, std::string("cpu")), where + ".device");
    // 'tiled' is the CPU kernel; on CUDA the default is what the model runs there ('auto': SDPA).
    const std::string impl = GetString(opts, "impl", where, std::string(device.is_cuda() ? "auto" : "tiled"));
    if (impl != "tiled" && impl != "naive" && impl != "auto" && impl != "sdpa") {
      ThrowTypeError(where + ".impl", "'tiled', 'naive', 'auto' or 'sdpa'", "'" + impl + "'");
    }
    if (impl == "tiled" && device.is_cuda()) {
      ThrowTypeError(where + ".impl", "'auto', 'sdpa' or 'naive' on CUDA (the tiled kernel is CPU-only)", "'tiled'");
    }
    if (!a.causal && impl != "tiled" && impl != "naive") {
      ThrowTypeError(where + ".causal", "true with impl '" + impl + "' (non-causal attention: 'tiled' or 'naive')",
                     "false");
    }
    if (impl == "sdpa" && !SdpaAvailable()) {
      ThrowTypeError(where + ".impl", "'tiled', 'naive' or 'auto' (SDPA needs libtorch >= 2.1; this addon has " +
                                          std::string(TORCH_VERSION) + ")", "'sdpa'");
    }
    if (q.dim() != 4 || k.dim() != 4 || v.sizes() != k.sizes() || q.size(0) != k.size(0) || q.size(3) != k.size(3) ||
        q.size(2) % k.size(2) != 0 || (a.causal && k.size(1) != a.query_offset + q.size(1))) {
      std::ostringstream got;
      got << "q " << q.sizes() << ", k " << k.sizes() << ", v " << v.sizes() << ", queryOffset " << a.query_offset;
      ThrowTypeError(where, "q [B, Sq, H, D] and k = v [B, queryOffset + Sq, KV, D] with H a multiple of KV", got.str());
    }
    // One implementation per name, on the tensors' device (autograd-capable for gradOut).
    auto run = [impl, a](const at::Tensor& qd, const at::Tensor& kd, const at::Tensor& vd, bool grad) {
      if (impl == "naive") return CausalAttentionNaive(qd, kd, vd, a);
      if (impl == "sdpa") return CausalAttentionSdpa(qd, kd, vd, a);
      if (impl == "tiled") return grad ? CausalAttentionTiledTrain(qd, kd, vd, a) : CausalAttentionTiledCpu(qd, kd, vd, a);
      return CausalAttention(qd, kd, vd, a);
    };
    if (Has(opts, "gradOut")) {
      // Backward check: gradients of sum(out * gradOut) with respect to q, k, v, on `device`.
      at::Tensor grad_out = TensorFromFloat32Array(opts.Get("gradOut"), q.sizes().vec(), where + ".gradOut");
      using Grads = std::vector<at::Tensor>;
      return RunAsync<Grads>(
          info.Env(),
          [=]() {
            at::AutoGradMode grad(true);
            at::Tensor qd = q.to(device).requires_grad_(true), kd = k.to(device).requires_grad_(true),
                       vd = v.to(device).requires_grad_(true);
            at::Tensor out = run(qd, kd, vd, true);
            torch::autograd::backward({out}, {grad_out.to(device)});
            return Grads{out.detach(), qd.grad(), kd.grad(), vd.grad()};
          },
          [](Napi::Env env, Grads& g) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("out", Float32ArrayFromTensor(env, g[0]));
            o.Set("dq", Float32ArrayFromTensor(env, g[1]));
            o.Set("dk", Float32ArrayFromTensor(env, g[2]));
            o.Set("dv", Float32ArrayFromTensor(env, g[3]));
            return o;
          });
    }
    return RunAsync<at::Tensor>(
        info.Env(),
        [=]() {
          c10::NoGradGuard no_grad;
          return run(q.to(device), k.to(device), v.to(device), false);
        },
        [](Napi::Env env, at::Tensor& out) -> Napi::Value { return Float32ArrayFromTensor(env, out); });
  });
}


// [async] attentionBenchmark({batch, seq, heads, kvHeads, headDim, slidingWindow, dtype, device,
// iterations, warmup}) -> Promise<{ms, tflops}>: causal self-attention through the model's path
// (CausalAttention) on random tensors made on the device; median time, causal FLOPs.
Napi::Value AttentionBenchmark(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "attentionBenchmark options";
    Napi::Object opts = RequireObject(info[0], where);
    const int64_t batch = GetInteger(opts, "batch", where, 1), seq = GetInteger(opts, "seq", where, 4096),
                  heads = GetInteger(opts, "heads", where, 32), kv_heads = GetInteger(opts, "kvHeads", where, heads),
                  head_dim = GetInteger(opts, "headDim", where, 128), iters = GetInteger(opts, "iterations", where, 5),
                  warmup = GetInteger(opts, "warmup", where, 1);
    if (batch < 1 || seq < 1 || heads < 1 || kv_heads < 1 || heads % kv_heads != 0 || head_dim < 1 || iters < 1 || warmup < 0) {
      ThrowTypeError(where, "positive sizes with heads a multiple of kvHeads", "batch " + std::to_string(batch) + ", seq " +
                     std::to_string(seq) + ", heads " + std::to_string(heads) + ", kvHeads " + std::to_string(kv_heads));
    }
    AttentionOptions a;
    a.sliding_window = GetInteger(opts, "slidingWindow", where, 0);
    const std::string dtype = GetString(opts, "dtype", where, std::string("bfloat16"));
    if (dtype != "float32" && dtype != "bfloat16") ThrowTypeError(where + ".dtype", "'float32' or 'bfloat16'", "'" + dtype + "'");
    const at::ScalarType type = dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
    const at::Device device = ParseDevice(GetString(opts, "device", where, std::string("cpu")), where + ".device");
    return RunAsync<std::pair<double, double>>(
        info.Env(),
        [=]() {
          c10::NoGradGuard no_grad;
          const auto o = at::TensorOptions().dtype(type).device(device);
          at::Tensor q = at::randn({batch, seq, heads, head_dim}, o), k = at::randn({batch, seq, kv_heads, head_dim}, o),
                     v = at::randn({batch, seq, kv_heads, head_dim}, o);
          for (int64_t i = 0; i < warmup; ++i) CausalAttention(q, k, v, a);
          Synchronize(device);
          std::vector<double> times;
          for (int64_t i = 0; i < iters; ++i) {
            const auto start = std::chrono::steady_clock::now();
            CausalAttention(q, k, v, a);
            Synchronize(device);
            times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          }
          std::sort(times.begin(), times.end());
          const double ms = times[times.size() / 2];
          // Causal: half of the S x S scores (window: S x window); QK^T and PV, 2 FLOPs per MAC.
          const double pairs = a.sliding_window > 0 && a.sliding_window < seq
                                   ? static_cast<double>(seq) * a.sliding_window
                                   : static_cast<double>(seq) * seq / 2.0;
          const double flops = 4.0 * batch * heads * pairs * head_dim;
          return std::make_pair(ms, flops / (ms * 1e9));
        },
        [](Napi::Env env, std::pair<double, double>& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("ms", r.first);
          out.Set("tflops", r.second);
          return out;
        });
  });
}

}  // namespace

void InitAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionBenchmark", Napi::Function::New(env, AttentionBenchmark, "attentionBenchmark"));
}

}  // namespace longrope
