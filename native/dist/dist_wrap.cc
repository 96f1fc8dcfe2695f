#include "dist/dist_wrap.h"

#include <sstream>

#include "attention/ring_attention.h"
#include "common.h"
#include "dist/sequence_parallel.h"
#include "job_wrap.h"
#include "model/model_args.h"
#include "model/model_wrap.h"
#include "rope/rope_wrap.h"
#include "dist/process_group_wrap.h"

namespace longrope {
namespace {

Napi::Value RingAttentionBinding(const Napi::CallbackInfo& info) {
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

Napi::Value SequenceParallelNllBinding(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "sequenceParallelNll options";
    std::shared_ptr<const LlamaModel> model = ModelWrap::FromObject(info[0], "sequenceParallelNll model");
    std::shared_ptr<Communicator> comm = ProcessGroupWrap::FromObject(info[1], "sequenceParallelNll group");
    at::Tensor tokens = ParseTokens(info[2], "tokens", model->config().vocab);
    Napi::Object opts = RequireObject(info[3], where);
    RopeParams rope = ParseRopeParams(RequireObject(opts.Get("rope"), where + ".rope"), where + ".rope");
    const int64_t offset = GetInteger(opts, "positionOffset", where, 0);
    const int64_t score_from = GetInteger(opts, "scoreFrom", where, 1);
    ForwardOptions fwd = ParseForwardOptions(opts, where);
    Control control = ParseControl(opts, where);
    return RunAsync<at::Tensor>(
        info.Env(),
        [=]() { return SequenceParallelNll(*model, *comm, tokens, offset, score_from, rope, fwd, &control.job); },
        [control](Napi::Env env, at::Tensor& nll) -> Napi::Value { return Float32ArrayFromTensor(env, nll); });
  });
}

}  // namespace

void InitDist(Napi::Env env, Napi::Object exports) {
  ProcessGroupWrap::Init(env, exports);
  exports.Set("ringAttention", Napi::Function::New(env, RingAttentionBinding, "ringAttention"));
  exports.Set("sequenceParallelNll", Napi::Function::New(env, SequenceParallelNllBinding, "sequenceParallelNll"));
}

}  // namespace longrope
