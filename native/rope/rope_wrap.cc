#include "rope/rope_wrap.h"

#include "common.h"
#include "device.h"
#include "rope/rope_op.h"

#include <torch/csrc/autograd/autograd.h>

#include <vector>

namespace longrope {
namespace {

at::Tensor ParseFloatVector(const Napi::Object& obj, const char* key, const std::string& where) {
  Napi::Value v = obj.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowTypeError(where + "." + key, "a Float32Array", DescribeValue(v));
  }
  const int64_t n = static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength());
  return TensorFromFloat32Array(v, {n}, where + "." + key);
}

struct RopeApplyJob {
  at::Tensor q, k, grad_q, grad_k, positions;
  RopeParams params;
  RopeLayout layout = RopeLayout::kHalf;
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  bool naive = false;
};

struct RopeApplyResult {
  at::Tensor q, k, grad_q, grad_k;
};

RopeApplyResult RunRopeApply(RopeApplyJob job) {
  auto prepare = [&](const at::Tensor& t) { return t.to(job.device).to(job.dtype); };
  const bool backward = job.grad_q.defined() || job.grad_k.defined();
  at::Tensor q = prepare(job.q).requires_grad_(backward), k = prepare(job.k).requires_grad_(backward);
  RopeParams params = job.params;
  at::Tensor positions = job.positions.to(job.device);
  std::pair<at::Tensor, at::Tensor> out;
  if (job.naive) {
    out = NaiveRopeApply(q, k, NaiveRopeTables(positions, params, job.layout), job.layout);
  } else {
    out = FusedRope(q, k, ComputeRopeAngles(positions, params), job.layout);
  }
  RopeApplyResult result{out.first, out.second, {}, {}};
  if (backward) {
    // Only the outputs given a gradient reach the loss (the other one's gradient is undefined).
    std::vector<at::Tensor> outputs, grads;
    if (job.grad_q.defined()) outputs.push_back(out.first), grads.push_back(prepare(job.grad_q));
    if (job.grad_k.defined()) outputs.push_back(out.second), grads.push_back(prepare(job.grad_k));
    torch::autograd::backward(outputs, grads);
    result.grad_q = q.grad().defined() ? q.grad() : at::zeros_like(q);
    result.grad_k = k.grad().defined() ? k.grad() : at::zeros_like(k);
  }
  return result;
}

Napi::Value RopeApply(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "ropeApply options";
    Napi::Object opts = RequireObject(info[0], where);
    RopeApplyJob job;
    job.q = ParseHostTensor(opts, "q", where);
    job.k = ParseHostTensor(opts, "k", where);
    job.params = ParseRopeParams(opts, where);
    job.layout = ParseRopeLayout(GetString(opts, "layout", where, std::string("half")));
    const std::string dtype = GetString(opts, "dtype", where, std::string("float32"));
    if (dtype != "float32" && dtype != "bfloat16") ThrowTypeError(where + ".dtype", "'float32' or 'bfloat16'", "'" + dtype + "'");
    job.dtype = dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
    job.device = ParseDevice(GetString(opts, "device", where, std::string("cpu")), where + ".device");
    const std::string impl = GetString(opts, "impl", where, std::string("fused"));
    if (impl != "fused" && impl != "naive") ThrowTypeError(where + ".impl", "'fused' or 'naive'", "'" + impl + "'");
    job.naive = impl == "naive";
    if (job.q.dim() != 4) ThrowTypeError(where + ".q.shape", "[batch, seq, heads, headDim]", std::to_string(job.q.dim()) + " dimensions");
    const int64_t seq = job.q.size(1);
    if (Has(opts, "positions")) {
      job.positions = TensorFromInt32Array(opts.Get("positions"), where + ".positions");
      if (job.positions.numel() != seq) {
        ThrowTypeError(where + ".positions", "an Int32Array of " + std::to_string(seq) + " positions (seq)",
                       "one of length " + std::to_string(job.positions.numel()));
      }
      if (seq > 0 && job.positions.min().item<int64_t>() < 0) ThrowTypeError(where + ".positions", "non-negative positions", "a negative one");
    } else {
      const int64_t offset = GetInteger(opts, "positionOffset", where, 0);
      if (offset < 0) ThrowTypeError(where + ".positionOffset", "a non-negative integer", std::to_string(offset));
      job.positions = at::arange(offset, offset + seq, at::kLong);
    }
    // gradQ and/or gradK: the gradients of sum(q_out * gradQ + k_out * gradK), a missing one 0.
    if (Has(opts, "gradQ")) job.grad_q = TensorFromFloat32Array(opts.Get("gradQ"), job.q.sizes().vec(), where + ".gradQ");
    if (Has(opts, "gradK")) job.grad_k = TensorFromFloat32Array(opts.Get("gradK"), job.k.sizes().vec(), where + ".gradK");
    return RunAsync<RopeApplyResult>(
        info.Env(), [job]() { return RunRopeApply(job); },
        [](Napi::Env env, RopeApplyResult& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("q", Float32ArrayFromTensor(env, r.q));
          out.Set("k", Float32ArrayFromTensor(env, r.k));
          if (r.grad_q.defined()) {
            out.Set("gradQ", Float32ArrayFromTensor(env, r.grad_q));
            out.Set("gradK", Float32ArrayFromTensor(env, r.grad_k));
          }
          return out;
        });
  });
}

}  // namespace

RopeParams ParseRopeParams(const Napi::Object& opts, const std::string& where) {
  RopeParams p;
  p.inv_freq = ParseFloatVector(opts, "invFreq", where);
  p.base_inv_freq = ParseFloatVector(opts, "baseInvFreq", where);
  p.attention_factor = GetNumber(opts, "attentionFactor", where, 1.0);
  p.n_hat = GetInteger(opts, "nHat", where, 0);
  if (p.base_inv_freq.numel() != p.inv_freq.numel()) {
    ThrowTypeError(where + ".baseInvFreq", "a Float32Array of " + std::to_string(p.inv_freq.numel()) + " entries (as invFreq)",
                   "one of " + std::to_string(p.base_inv_freq.numel()));
  }
  if (p.attention_factor <= 0) ThrowTypeError(where + ".attentionFactor", "a positive number", std::to_string(p.attention_factor));
  if (p.n_hat < 0) ThrowTypeError(where + ".nHat", "a non-negative integer", std::to_string(p.n_hat));
  CheckRopeParams(p);
  return p;
}

void InitRope(Napi::Env env, Napi::Object exports) {
  exports.Set("ropeApply", Napi::Function::New(env, RopeApply, "ropeApply"));
  exports.Set("ropeBenchmark", Napi::Function::New(env, RopeBenchmark, "ropeBenchmark"));
}

}  // namespace longrope
