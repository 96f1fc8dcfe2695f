// Tiled causal attention with an online softmax, for long sequences on CPU.
// Queries are processed in blocks; for each block only the key blocks it can see (causal, and
// inside the sliding window) are visited, so cost and memory follow the visible area. Each tile
// step is a handful of batched ATen calls over all heads at once (bmm goes to BLAS, exp and max to
// ATen's vectorised kernels, each parallel internally), which avoids nesting our own thread pool
// around BLAS. GQA: the G query heads of a group share their K/V head, so a group's queries are
// stacked as one [G * tq, D] matrix against the shared [tk, D] keys: K/V are never repeated.
#include <c10/core/GradMode.h>

#include <cmath>
#include <limits>

#include "attention/attention_flash.h"
#include "attention/attention_tiled.h"

namespace longrope {

GroupedAttention GroupAttentionInputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const AttentionOptions& opts) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects [B, S, heads, D] tensors");
  GroupedAttention g{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), 0, q.size(3), 0, {}, {}, {}};
  TORCH_CHECK(g.heads % g.kv_heads == 0, "query heads ", g.heads, " not a multiple of key heads ", g.kv_heads);
  TORCH_CHECK(!opts.causal || g.sk == opts.query_offset + g.sq, "keys (", g.sk, ") must be the ", opts.query_offset, " past plus ",
              g.sq, " new");
  g.group = g.heads / g.kv_heads;
  g.scale = opts.scale > 0 ? opts.scale : 1.0 / std::sqrt(static_cast<double>(g.d));
  const int64_t bk = g.batch * g.kv_heads;
  g.q = q.to(at::kFloat).view({g.batch, g.sq, g.kv_heads, g.group, g.d}).permute({0, 2, 3, 1, 4})
            .reshape({bk, g.group, g.sq, g.d});
  g.k = k.to(at::kFloat).permute({0, 2, 1, 3}).reshape({bk, g.sk, g.d});
  g.v = v.to(at::kFloat).permute({0, 2, 1, 3}).reshape({bk, g.sk, g.d});
  return g;
}

at::Tensor UngroupQueries(const at::Tensor& grouped, const GroupedAttention& g, at::ScalarType dtype) {
  return grouped.view({g.batch, g.kv_heads, g.group, g.sq, g.d}).permute({0, 3, 1, 2, 4})
      .reshape({g.batch, g.sq, g.heads, g.d}).to(dtype);
}

at::Tensor UngroupKeys(const at::Tensor& grouped, const GroupedAttention& g, at::ScalarType dtype) {
  return grouped.view({g.batch, g.kv_heads, g.sk, g.d}).permute({0, 2, 1, 3}).contiguous().to(dtype);
}

KeyRange VisibleKeys(int64_t q0, int64_t tq, int64_t tile, const AttentionOptions& opts, int64_t sk) {
  if (!opts.causal) return {0, sk};
  const int64_t first_q = opts.query_offset + q0;
  const int64_t first_k = opts.sliding_window > 0 ? std::max<int64_t>(0, first_q - opts.sliding_window + 1) : 0;
  return {first_k - first_k % tile, first_q + tq};
}

void MaskBlock(at::Tensor& scores, const GroupedAttention& g, int64_t q0, int64_t tq, int64_t k0, int64_t tk,
               const AttentionOptions& opts) {
  const int64_t first_q = opts.query_offset + q0, last_q = first_q + tq - 1;
  const bool straddles_diagonal = opts.causal && k0 + tk - 1 > first_q;
  const bool straddles_window = opts.sliding_window > 0 && k0 <= last_q - opts.sliding_window;
  if (!straddles_diagonal && !straddles_window) return;
  at::Tensor i = at::arange(first_q, first_q + tq, at::kLong).unsqueeze(1);
  at::Tensor j = at::arange(k0, k0 + tk, at::kLong).unsqueeze(0);
  at::Tensor hidden = j.gt(i);
  if (opts.sliding_window > 0) hidden = hidden.logical_or(i.sub(j).ge(opts.sliding_window));
  scores.view({scores.size(0), g.group, tq, tk}).masked_fill_(hidden, -std::numeric_limits<float>::infinity());
}

at::Tensor TiledAttentionForward(const GroupedAttention& g, const AttentionOptions& opts, const JobControl* job,
                                 at::Tensor* lse) {
  c10::NoGradGuard no_grad;
  const int64_t bk = g.batch * g.kv_heads, tile = std::max<int64_t>(16, opts.tile);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  at::Tensor out = at::empty({bk, g.group, g.sq, g.d}, g.q.options());
  if (lse) *lse = at::empty({bk, g.group, g.sq}, g.q.options());
  for (int64_t q0 = 0; q0 < g.sq; q0 += tile) {
    if (job) job->CheckCancelled();
    const int64_t tq = std::min(tile, g.sq - q0);
    const KeyRange keys = VisibleKeys(q0, tq, tile, opts, g.sk);
    at::Tensor qb = g.q.narrow(2, q0, tq).reshape({bk, g.group * tq, g.d}).mul(g.scale);
    at::Tensor acc = at::zeros({bk, g.group * tq, g.d}, g.q.options());
    at::Tensor m = at::full({bk, g.group * tq}, neg_inf, g.q.options());
    at::Tensor l = at::zeros({bk, g.group * tq}, g.q.options());
    for (int64_t k0 = keys.first; k0 < keys.end; k0 += tile) {
      const int64_t tk = std::min(tile, keys.end - k0);
      at::Tensor scores = at::bmm(qb, g.k.narrow(1, k0, tk).transpose(1, 2));  // [bk, G*tq, tk]
      MaskBlock(scores, g, q0, tq, k0, tk, opts);
      at::Tensor m_new = at::maximum(m, std::get<0>(scores.max(-1)));
      // Rows that have seen no visible key yet keep m = -inf; subtract 0 there to avoid inf - inf.
      at::Tensor m_safe = at::where(at::isinf(m_new), at::zeros_like(m_new), m_new);
      scores.sub_(m_safe.unsqueeze(-1)).exp_();
      at::Tensor correction = (m - m_safe).exp_();
      l.mul_(correction).add_(scores.sum(-1));
      acc.mul_(correction.unsqueeze(-1)).baddbmm_(scores, g.v.narrow(1, k0, tk));
      m = m_new;
    }
    out.narrow(2, q0, tq).copy_(acc.div_(l.unsqueeze(-1)).view({bk, g.group, tq, g.d}));
    if (lse) lse->narrow(2, q0, tq).copy_((m + l.log()).view({bk, g.group, tq}));
  }
  return out;
}

at::Tensor CausalAttentionTiledCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const AttentionOptions& opts, const JobControl* job) {
  c10::NoGradGuard no_grad;
  if (opts.causal && opts.avx && FlashAttentionCpuAvailable(q)) return FlashAttentionCpu(q, k, v, opts, job, nullptr);
  const GroupedAttention g = GroupAttentionInputs(q, k, v, opts);
  return UngroupQueries(TiledAttentionForward(g, opts, job, nullptr), g, q.scalar_type());
}

}  // namespace longrope
