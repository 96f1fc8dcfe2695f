#include "attention/attention_wrap.h"

#include <sstream>

#include "attention/attention.h"
#include "attention/attention_tiled.h"

#include <torch/csrc/autograd/autograd.h>
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
    const std::string impl = GetString(opts, "impl", where, std::string("tiled"));
    if (impl != "tiled" && impl != "naive" && impl != "auto") {
      ThrowTypeError(where + ".impl", "'tiled', 'naive' or 'auto'", "'" + impl + "'");
    }
    const at::Device device = ParseDevice(GetString(opts, "device", where, std::string("cpu")), where + ".device");
    if (q.dim() != 4 || k.dim() != 4 || v.sizes() != k.sizes() || q.size(0) != k.size(0) || q.size(3) != k.size(3) ||
        q.size(2) % k.size(2) != 0 || k.size(1) != a.query_offset + q.size(1)) {
      std::ostringstream got;
      got << "q " << q.sizes() << ", k " << k.sizes() << ", v " << v.sizes() << ", queryOffset " << a.query_offset;
      ThrowTypeError(where, "q [B, Sq, H, D] and k = v [B, queryOffset + Sq, KV, D] with H a multiple of KV", got.str());
    }
    if (Has(opts, "gradOut")) {
      // Backward check: gradients of sum(out * gradOut) with respect to q, k, v.
      at::Tensor grad_out = TensorFromFloat32Array(opts.Get("gradOut"), q.sizes().vec(), where + ".gradOut");
      if (impl == "auto") ThrowTypeError(where + ".impl", "'tiled' or 'naive' with gradOut", "'auto'");
      using Grads = std::vector<at::Tensor>;
      return RunAsync<Grads>(
          info.Env(),
          [=]() {
            at::AutoGradMode grad(true);
            at::Tensor qd = q.clone().requires_grad_(true), kd = k.clone().requires_grad_(true),
                       vd = v.clone().requires_grad_(true);
            at::Tensor out = impl == "naive" ? CausalAttentionNaive(qd, kd, vd, a) : CausalAttentionTiledTrain(qd, kd, vd, a);
            torch::autograd::backward({out}, {grad_out});
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
          at::NoGradGuard no_grad;
          at::Tensor qd = q.to(device), kd = k.to(device), vd = v.to(device);
          if (impl == "naive") return CausalAttentionNaive(qd, kd, vd, a);
          if (impl == "tiled") return CausalAttentionTiledCpu(qd, kd, vd, a);
          return CausalAttention(qd, kd, vd, a);
        },
        [](Napi::Env env, at::Tensor& out) -> Napi::Value { return Float32ArrayFromTensor(env, out); });
  });
}

}  // namespace

void InitAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
}

}  // namespace longrope
