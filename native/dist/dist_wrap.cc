#include "dist/dist_wrap.h"

#include <sstream>

#include "attention/ring_attention.h"
#include "common.h"
#include "dist/process_group_wrap.h"

namespace longrope {
namespace {

Napi::Value RingAttention(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    std::shared_ptr<Communicator> comm = ProcessGroupWrap::FromObject(info[0], "ringAttention group");
    const std::string where = "ringAttention options";
    Napi::Object opts = RequireObject(info[1], where);
    at::Tensor q = ParseHostTensor(opts, "q", where), k = ParseHostTensor(opts, "k", where),
               v = ParseHostTensor(opts, "v", where);
    AttentionOptions a;
    a.tile = GetInteger(opts, "tile", where, 256);
    if (a.tile < 16) ThrowRangeError(where + ".tile", "an integer >= 16", std::to_string(a.tile));
    if (q.dim() != 4 || k.dim() != 4 || v.sizes() != k.sizes() || q.size(0) != k.size(0) || q.size(1) != k.size(1) ||
        q.size(3) != k.size(3) || q.size(2) % k.size(2) != 0 || q.size(1) % 2 != 0) {
      std::ostringstream got;
      got << "q " << q.sizes() << ", k " << k.sizes() << ", v " << v.sizes();
      ThrowTypeError(where, "q [B, 2c, H, D] and k = v [B, 2c, KV, D] with H a multiple of KV (two zigzag chunks of c)",
                     got.str());
    }
    const bool backward = Has(opts, "gradOut");
    at::Tensor grad_out = backward ? TensorFromFloat32Array(opts.Get("gradOut"), q.sizes().vec(), where + ".gradOut")
                                   : at::Tensor();
    using Result = std::vector<at::Tensor>;
    return RunAsync<Result>(
        info.Env(),
        [=]() {
          const at::Device dev = comm->device();
          at::Tensor qd = q.to(dev), kd = k.to(dev), vd = v.to(dev);
          RingForward fwd = RingAttentionForward(*comm, qd, kd, vd, a);
          if (!backward) return Result{fwd.out};
          RingGrads d = RingAttentionBackward(*comm, qd, kd, vd, fwd, grad_out.to(dev), a);
          return Result{fwd.out, d.dq, d.dk, d.dv};
        },
        [](Napi::Env env, Result& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("out", Float32ArrayFromTensor(env, r[0]));
          if (r.size() == 4) {
            o.Set("dq", Float32ArrayFromTensor(env, r[1]));
            o.Set("dk", Float32ArrayFromTensor(env, r[2]));
            o.Set("dv", Float32ArrayFromTensor(env, r[3]));
          }
          return o;
        });
  });
}

}  // namespace

void InitDist(Napi::Env env, Napi::Object exports) {
  ProcessGroupWrap::Init(env, exports);
  exports.Set("ringAttention", Napi::Function::New(env, RingAttention, "ringAttention"));
}

}  // namespace longrope
