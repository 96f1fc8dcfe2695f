#include "rope/rope_op.h"

#include <torch/csrc/autograd/custom_function.h>

#include "rope/rope_kernels.h"

namespace longrope {
namespace {

void CheckInputs(const at::Tensor& q, const at::Tensor& k, const RopeAngles& angles) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4, "RoPE expects q and k as [batch, seq, heads, head_dim], got q ",
              q.sizes(), " and k ", k.sizes());
  TORCH_CHECK(q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3),
              "q ", q.sizes(), " and k ", k.sizes(), " must agree in batch, seq and head_dim");
  TORCH_CHECK(q.scalar_type() == k.scalar_type(), "q is ", q.scalar_type(), " but k is ", k.scalar_type());
  TORCH_CHECK(q.device() == k.device() && q.device() == angles.cos.device(),
              "q, k and the angle table must be on one device");
  TORCH_CHECK(angles.cos.size(0) == q.size(1), "angle table has ", angles.cos.size(0), " positions but seq is ",
              q.size(1));
  TORCH_CHECK(2 * angles.cos.size(1) <= q.size(3), "rotary dims ", 2 * angles.cos.size(1),
              " exceed head_dim ", q.size(3));
}

class FusedRopeFunction : public torch::autograd::Function<FusedRopeFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q,
                                                const at::Tensor& k, const at::Tensor& cos, const at::Tensor& sin,
                                                int64_t layout) {
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["layout"] = layout;
    // An output that does not reach the loss gets an undefined gradient; its stand-in zeros need
    // that input's shape (q and k differ in heads under GQA).
    ctx->saved_data["q_shape"] = q.sizes().vec();
    ctx->saved_data["k_shape"] = k.sizes().vec();
    auto out = FusedRopeNoGrad(q, k, {cos, sin}, false, static_cast<RopeLayout>(layout));
    return {out.first, out.second};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto layout = static_cast<RopeLayout>(ctx->saved_data["layout"].toInt());
    const at::TensorOptions options = (grads[0].defined() ? grads[0] : grads[1]).options();
    at::Tensor gq = grads[0].defined() ? grads[0] : at::zeros(ctx->saved_data["q_shape"].toIntVector(), options);
    at::Tensor gk = grads[1].defined() ? grads[1] : at::zeros(ctx->saved_data["k_shape"].toIntVector(), options);
    auto in = FusedRopeNoGrad(gq, gk, {saved[0], saved[1]}, true, layout);
    return {in.first, in.second, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

std::pair<at::Tensor, at::Tensor> FusedRopeNoGrad(const at::Tensor& q_in, const at::Tensor& k_in,
                                                  const RopeAngles& angles, bool inverse, RopeLayout layout,
                                                  at::Tensor q_out, at::Tensor k_out) {
  CheckInputs(q_in, k_in, angles);
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous();
  if (!q_out.defined()) q_out = at::empty_like(q);
  if (!k_out.defined()) k_out = at::empty_like(k);
  TORCH_CHECK(q_out.is_contiguous() && k_out.is_contiguous() && q_out.sizes() == q.sizes() &&
                  k_out.sizes() == k.sizes() && q_out.scalar_type() == q.scalar_type() &&
                  k_out.scalar_type() == k.scalar_type(),
              "RoPE outputs must be contiguous and match q and k in shape and dtype");
  const RopeAngles a{angles.cos.contiguous(), angles.sin.contiguous()};
  if (q.is_cuda()) {
#ifdef LONGROPE_WITH_CUDA
    RopeApplyCuda({q, k}, {q_out, k_out}, a, inverse, layout);
#else
    TORCH_CHECK(false, "this longrope addon was built without CUDA kernels");
#endif
  } else {
    RopeApplyCpu({q, k}, {q_out, k_out}, a, inverse, layout);
  }
  return {q_out, k_out};
}

std::pair<at::Tensor, at::Tensor> FusedRope(const at::Tensor& q, const at::Tensor& k, const RopeAngles& angles,
                                            RopeLayout layout) {
  if (!q.requires_grad() && !k.requires_grad()) return FusedRopeNoGrad(q, k, angles, false, layout);
  auto out = FusedRopeFunction::apply(q, k, angles.cos, angles.sin, static_cast<int64_t>(layout));
  return {out[0], out[1]};
}

}  // namespace longrope
