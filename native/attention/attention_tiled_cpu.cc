// Tiled causal attention with an online softmax, for long sequences on CPU.
// Queries are processed in blocks; for each block only the key blocks it can see (causal, and
// inside the sliding window) are visited, so cost and memory follow the visible area. Each tile
// step is a handful of batched ATen calls over all heads at once (bmm goes to BLAS, exp and max to
// ATen's vectorised kernels, each parallel internally), which avoids nesting our own thread pool
// around BLAS. GQA: the G query heads of a group share their K/V head, so a group's queries are
// stacked as one [G * tq, D] matrix against the shared [tk, D] keys: K/V are never repeated.
#include <cmath>
#include <limits>

#include "attention/attention.h"

namespace longrope {
namespace {

// True where key (k0 + c) is hidden from query (first_q + r): in the future or out of the window.
at::Tensor BlockMask(int64_t first_q, int64_t tq, int64_t k0, int64_t tk, int64_t window) {
  at::Tensor i = at::arange(first_q, first_q + tq, at::kLong).unsqueeze(1);
  at::Tensor j = at::arange(k0, k0 + tk, at::kLong).unsqueeze(0);
  at::Tensor hidden = j.gt(i);
  if (window > 0) hidden = hidden.logical_or(i.sub(j).ge(window));
  return hidden;
}

}  // namespace

at::Tensor CausalAttentionTiledCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const AttentionOptions& opts, const JobControl* job) {
  at::NoGradGuard no_grad;
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects [B, S, heads, D] tensors");
  const int64_t batch = q.size(0), sq = q.size(1), heads = q.size(2), d = q.size(3);
  const int64_t sk = k.size(1), kv_heads = k.size(2);
  TORCH_CHECK(heads % kv_heads == 0, "query heads ", heads, " not a multiple of key heads ", kv_heads);
  TORCH_CHECK(sk == opts.query_offset + sq, "keys (", sk, ") must be the ", opts.query_offset, " past plus ", sq, " new");
  const int64_t group = heads / kv_heads;
  const int64_t bk = batch * kv_heads;
  const int64_t tile = std::max<int64_t>(16, opts.tile);
  const double scale = opts.scale > 0 ? opts.scale : 1.0 / std::sqrt(static_cast<double>(d));
  const float neg_inf = -std::numeric_limits<float>::infinity();

  // [B, S, KV, G, D] -> [B*KV, G, S, D]: a group's heads side by side for one bmm per tile.
  at::Tensor qg = q.to(at::kFloat).view({batch, sq, kv_heads, group, d}).permute({0, 2, 3, 1, 4})
                      .reshape({bk, group, sq, d});
  at::Tensor kg = k.to(at::kFloat).permute({0, 2, 1, 3}).reshape({bk, sk, d});
  at::Tensor vg = v.to(at::kFloat).permute({0, 2, 1, 3}).reshape({bk, sk, d});
  at::Tensor out = at::empty({bk, group, sq, d}, qg.options());

  for (int64_t q0 = 0; q0 < sq; q0 += tile) {
    if (job) job->CheckCancelled();
    const int64_t tq = std::min(tile, sq - q0);
    const int64_t first_q = opts.query_offset + q0, last_q = first_q + tq - 1;
    const int64_t first_k = opts.sliding_window > 0 ? std::max<int64_t>(0, first_q - opts.sliding_window + 1) : 0;
    at::Tensor qb = qg.narrow(2, q0, tq).reshape({bk, group * tq, d}).mul(scale);
    at::Tensor acc = at::zeros({bk, group * tq, d}, qg.options());
    at::Tensor m = at::full({bk, group * tq}, neg_inf, qg.options());
    at::Tensor l = at::zeros({bk, group * tq}, qg.options());
    for (int64_t k0 = first_k - first_k % tile; k0 <= last_q; k0 += tile) {
      const int64_t tk = std::min(tile, last_q + 1 - k0);
      at::Tensor scores = at::bmm(qb, kg.narrow(1, k0, tk).transpose(1, 2));  // [bk, G*tq, tk]
      const bool straddles_diagonal = k0 + tk - 1 > first_q;
      const bool straddles_window = opts.sliding_window > 0 && k0 <= last_q - opts.sliding_window;
      if (straddles_diagonal || straddles_window) {
        at::Tensor hidden = BlockMask(first_q, tq, k0, tk, opts.sliding_window);
        scores.view({bk, group, tq, tk}).masked_fill_(hidden, neg_inf);
      }
      at::Tensor m_new = at::maximum(m, std::get<0>(scores.max(-1)));
      // Rows that have seen no visible key yet keep m = -inf; subtract 0 there to avoid inf - inf.
      at::Tensor m_safe = at::where(at::isinf(m_new), at::zeros_like(m_new), m_new);
      scores.sub_(m_safe.unsqueeze(-1)).exp_();
      at::Tensor correction = (m - m_safe).exp_();
      l.mul_(correction).add_(scores.sum(-1));
      acc.mul_(correction.unsqueeze(-1)).baddbmm_(scores, vg.narrow(1, k0, tk));
      m = m_new;
    }
    out.narrow(2, q0, tq).copy_(acc.div_(l.unsqueeze(-1)).view({bk, group, tq, d}));
  }
  // [B*KV, G, S, D] -> [B, S, KV*G = H, D]
  return out.view({batch, kv_heads, group, sq, d}).permute({0, 3, 1, 2, 4}).reshape({batch, sq, heads, d})
      .to(q.scalar_type());
}

}  // namespace longrope
