// Reference attention: repeat K/V per group, full score matrix, explicit mask. Differentiable.
#include "attention/attention.h"

#include <cmath>

namespace longrope {

at::Tensor CausalAttentionNaive(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const AttentionOptions& opts) {
  const int64_t sq = q.size(1), sk = k.size(1), heads = q.size(2), kv_heads = k.size(2), d = q.size(3);
  const double scale = opts.scale > 0 ? opts.scale : 1.0 / std::sqrt(static_cast<double>(d));
  at::Tensor qh = q.transpose(1, 2);                                             // [B, H, Sq, D]
  at::Tensor kh = k.transpose(1, 2).repeat_interleave(heads / kv_heads, 1);      // [B, H, Sk, D]
  at::Tensor vh = v.transpose(1, 2).repeat_interleave(heads / kv_heads, 1);
  at::Tensor scores = at::matmul(qh.to(at::kFloat), kh.to(at::kFloat).transpose(-1, -2)) * scale;
  const auto idx = at::TensorOptions().dtype(at::kLong).device(q.device());
  if (opts.causal) {  // else every query sees every key (ring attention's off-diagonal blocks), any Sk
    at::Tensor i = at::arange(sq, idx).unsqueeze(1) + opts.query_offset;
    at::Tensor j = at::arange(sk, idx).unsqueeze(0);
    at::Tensor visible = j.le(i);
    if (opts.sliding_window > 0) visible = visible.logical_and(i.sub(j).lt(opts.sliding_window));
    scores = scores.masked_fill(visible.logical_not(), -std::numeric_limits<float>::infinity());
  }
  at::Tensor probs = at::softmax(scores, -1);
  return at::matmul(probs, vh.to(at::kFloat)).to(q.scalar_type()).transpose(1, 2).contiguous();
}

}  // namespace longrope
