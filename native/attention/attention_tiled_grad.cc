// Backward of the tiled attention (FlashAttention-2's recurrence): probabilities are recomputed
// per tile from the saved log-sum-exp instead of stored, so training memory stays O(seq) and
// causal blocks above the diagonal cost nothing, forward or backward. On x86-64 with AVX2 the
// work goes to our micro-kernels (attention_flash_cpu_grad.cc); below is the BLAS-tile version
// for other CPUs and head sizes.
//   P = exp(S - lse), dV += P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dO * O)),
//   dQ += dS K * scale, dK += dS^T Q * scale.
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "attention/attention_flash.h"
#include "attention/attention_tiled.h"

namespace longrope {

GroupedGrads TiledAttentionBackward(const GroupedAttention& g, const AttentionOptions& o, const at::Tensor& d_out,
                                    const at::Tensor& delta, const at::Tensor& lse) {
  at::NoGradGuard no_grad;
  if (o.avx && FlashAttentionCpuAvailable(g.q)) return FlashAttentionCpuBackwardGrouped(g, o, d_out, delta, lse);
  const int64_t bk = g.batch * g.kv_heads, tile = std::max<int64_t>(16, o.tile);
  at::Tensor dq = at::empty_like(g.q), dk = at::zeros_like(g.k), dv = at::zeros_like(g.v);
  for (int64_t q0 = 0; q0 < g.sq; q0 += tile) {
    const int64_t tq = std::min(tile, g.sq - q0);
    const KeyRange keys = VisibleKeys(q0, tq, tile, o, g.sk);
    at::Tensor qb = g.q.narrow(2, q0, tq).reshape({bk, g.group * tq, g.d}).mul(g.scale);
    at::Tensor dob = d_out.narrow(2, q0, tq).reshape({bk, g.group * tq, g.d});
    at::Tensor lse_b = lse.narrow(2, q0, tq).reshape({bk, g.group * tq, 1});
    at::Tensor delta_b = delta.narrow(2, q0, tq).reshape({bk, g.group * tq, 1});
    at::Tensor dq_acc = at::zeros({bk, g.group * tq, g.d}, g.q.options());
    for (int64_t k0 = keys.first; k0 < keys.end; k0 += tile) {
      const int64_t tk = std::min(tile, keys.end - k0);
      at::Tensor kb = g.k.narrow(1, k0, tk), vb = g.v.narrow(1, k0, tk);
      at::Tensor p = at::bmm(qb, kb.transpose(1, 2));
      MaskBlock(p, g, q0, tq, k0, tk, o);
      p.sub_(lse_b).exp_();
      dv.narrow(1, k0, tk).baddbmm_(p.transpose(1, 2), dob);
      at::Tensor ds = at::bmm(dob, vb.transpose(1, 2)).sub_(delta_b).mul_(p);
      dq_acc.baddbmm_(ds, kb);
      dk.narrow(1, k0, tk).baddbmm_(ds.transpose(1, 2), qb);  // qb already carries the scale
    }
    dq.narrow(2, q0, tq).copy_(dq_acc.mul_(g.scale).view({bk, g.group, tq, g.d}));
  }
  return {dq, dk, dv};
}

namespace {

AttentionOptions OptionsFrom(torch::autograd::AutogradContext* ctx) {
  AttentionOptions o;
  o.scale = ctx->saved_data["scale"].toDouble();
  o.sliding_window = ctx->saved_data["window"].toInt();
  o.query_offset = ctx->saved_data["offset"].toInt();
  o.tile = ctx->saved_data["tile"].toInt();
  o.causal = ctx->saved_data["causal"].toBool();
  o.avx = ctx->saved_data["avx"].toBool();
  return o;
}

void SaveOptions(torch::autograd::AutogradContext* ctx, double scale, int64_t window, int64_t offset, int64_t tile,
                 bool causal, bool avx) {
  ctx->saved_data["scale"] = scale;
  ctx->saved_data["causal"] = causal;
  ctx->saved_data["avx"] = avx;
  ctx->saved_data["window"] = window;
  ctx->saved_data["offset"] = offset;
  ctx->saved_data["tile"] = tile;
}

class TiledAttentionFunction : public torch::autograd::Function<TiledAttentionFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q,
                                                const at::Tensor& k, const at::Tensor& v, double scale, int64_t window,
                                                int64_t offset, int64_t tile, bool causal, bool avx) {
    AttentionOptions o{scale, window, offset, tile, causal, avx};
    at::Tensor lse, out;
    if (causal && avx && FlashAttentionCpuAvailable(q)) {
      // The AVX kernels work in the model's layout: out [B, S, H, D] and lse [B, H, S] as they are.
      at::Tensor flat = FlashAttentionCpu(q, k, v, o, nullptr, &lse);
      ctx->save_for_backward({q, k, v, flat, lse});
      SaveOptions(ctx, scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(q.size(3))), window, offset, tile,
                  causal, avx);
      ctx->saved_data["flash"] = true;
      return {flat};
    }
    const GroupedAttention g = GroupAttentionInputs(q, k, v, o);
    out = TiledAttentionForward(g, o, nullptr, &lse);
    ctx->save_for_backward({q, k, v, out, lse});
    SaveOptions(ctx, g.scale, window, offset, tile, causal, avx);
    return {UngroupQueries(out, g, q.scalar_type())};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    c10::NoGradGuard no_grad;
    auto saved = ctx->get_saved_variables();
    const AttentionOptions o = OptionsFrom(ctx);
    if (ctx->saved_data.count("flash") != 0) {
      // delta = rowsum(dO * O) [B, S, H], read as [B, H, S] through its strides.
      const at::Tensor d_out = grads[0].to(at::kFloat);
      const at::Tensor delta = (d_out * saved[3].to(at::kFloat)).sum(-1).transpose(1, 2);
      const FlashGrads d = FlashAttentionCpuBackward(saved[0], saved[1], saved[2], d_out, saved[4], delta, o);
      return {d.dq.to(saved[0].scalar_type()), d.dk.to(saved[1].scalar_type()), d.dv.to(saved[2].scalar_type()),
              at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
    const GroupedAttention g = GroupAttentionInputs(saved[0], saved[1], saved[2], o);
    const at::Tensor& out = saved[3];  // [bk, G, S, D] (the ATen-tiled forward's grouped layout)
    const at::Tensor& lse = saved[4];  // [bk, G, S]
    // dO in the grouped layout, and D = rowsum(dO * O).
    at::Tensor d_out = grads[0].to(at::kFloat).view({g.batch, g.sq, g.kv_heads, g.group, g.d})
                           .permute({0, 2, 3, 1, 4}).reshape({g.batch * g.kv_heads, g.group, g.sq, g.d});
    const GroupedGrads d = TiledAttentionBackward(g, o, d_out, (d_out * out).sum(-1), lse);
    return {UngroupQueries(d.dq, g, saved[0].scalar_type()), UngroupKeys(d.dk, g, saved[1].scalar_type()),
            UngroupKeys(d.dv, g, saved[2].scalar_type()), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor CausalAttentionTiledTrain(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const AttentionOptions& opts) {
  return TiledAttentionFunction::apply(q, k, v, opts.scale, opts.sliding_window, opts.query_offset, opts.tile,
                                       opts.causal, opts.avx)[0];
}

}  // namespace longrope
