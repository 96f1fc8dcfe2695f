// Ring attention as an autograd function, so a training step's backward runs the ring backward
// (ring_attention.cc) where the model's graph reaches attention. The communicator is held by
// address: it outlives the step (the caller owns it for the whole native call), and the saved
// context only lives until that step's backward has run.
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>

#include "attention/ring_attention.h"

namespace longrope {
namespace {

class RingAttentionFunction : public torch::autograd::Function<RingAttentionFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q,
                                                const at::Tensor& k, const at::Tensor& v, int64_t comm, double scale,
                                                int64_t tile) {
    AttentionOptions o;
    o.scale = scale;
    o.tile = tile;
    RingForward fwd = RingAttentionForward(*reinterpret_cast<Communicator*>(comm), q, k, v, o);
    ctx->save_for_backward({q, k, v, fwd.out, fwd.lse});
    ctx->saved_data["comm"] = comm;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["tile"] = tile;
    return {fwd.out};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    c10::NoGradGuard no_grad;
    auto saved = ctx->get_saved_variables();
    AttentionOptions o;
    o.scale = ctx->saved_data["scale"].toDouble();
    o.tile = ctx->saved_data["tile"].toInt();
    auto* comm = reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
    // Every rank reaches this node in the same order: the graphs are identical and the engine
    // orders nodes by their creation, so the ring's messages pair up layer by layer.
    const RingGrads d = RingAttentionBackward(*comm, saved[0], saved[1], saved[2], RingForward{saved[3], saved[4]},
                                              grads[0].contiguous(), o);
    return {d.dq, d.dk, d.dv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor RingAttention(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                         const AttentionOptions& opts) {
  const bool grad = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (!grad) return RingAttentionForward(comm, q, k, v, opts).out;
  return RingAttentionFunction::apply(q, k, v, static_cast<int64_t>(reinterpret_cast<std::intptr_t>(&comm)), opts.scale,
                                      opts.tile)[0];
}

}  // namespace longrope
