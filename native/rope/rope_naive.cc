// The reference path, written the way Hugging Face's modeling_llama does it: frequencies by an
// outer product, emb = cat(freqs, freqs), then q * cos + rotate_half(q) * sin. No shared code with
// the fused kernel beyond the inputs, so tests comparing the two compare two implementations.
#include "rope/rope_op.h"

namespace longrope {
namespace {

at::Tensor RotateHalf(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

at::Tensor RotateInterleaved(const at::Tensor& x) {
  // (x0, x1, x2, x3) -> (-x1, x0, -x3, x2)
  at::Tensor even = x.slice(-1, 0, x.size(-1), 2), odd = x.slice(-1, 1, x.size(-1), 2);
  return at::stack({-odd, even}, -1).flatten(-2);
}

at::Tensor ApplyOne(const at::Tensor& x, const RopeAngles& full, RopeLayout layout) {
  const int64_t rot = full.cos.size(-1);
  at::Tensor cos = full.cos.unsqueeze(0).unsqueeze(2).to(x.scalar_type());  // [1, S, 1, rot]
  at::Tensor sin = full.sin.unsqueeze(0).unsqueeze(2).to(x.scalar_type());
  at::Tensor xr = x.narrow(-1, 0, rot);
  at::Tensor rotated = xr * cos + (layout == RopeLayout::kHalf ? RotateHalf(xr) : RotateInterleaved(xr)) * sin;
  if (rot == x.size(-1)) return rotated;
  return at::cat({rotated, x.narrow(-1, rot, x.size(-1) - rot)}, -1);
}

}  // namespace

RopeAngles NaiveRopeTables(const at::Tensor& positions, const RopeParams& p, RopeLayout layout) {
  at::Tensor pos = positions.to(at::kFloat).unsqueeze(0);                      // [1, S]
  at::Tensor freqs = at::matmul(p.inv_freq.unsqueeze(1), pos).t();             // [S, d/2]
  at::Tensor attn = at::full({positions.size(0), 1}, p.attention_factor, pos.options());
  if (p.n_hat > 0) {
    at::Tensor base = at::matmul(p.base_inv_freq.unsqueeze(1), pos).t();
    at::Tensor start = positions.lt(p.n_hat).unsqueeze(1);
    freqs = at::where(start, base, freqs);
    attn = at::where(start, at::ones_like(attn), attn);
  }
  at::Tensor emb = layout == RopeLayout::kHalf ? at::cat({freqs, freqs}, -1) : at::repeat_interleave(freqs, 2, -1);
  return {emb.cos() * attn, emb.sin() * attn};
}

std::pair<at::Tensor, at::Tensor> NaiveRopeApply(const at::Tensor& q, const at::Tensor& k, const RopeAngles& full,
                                                 RopeLayout layout) {
  return {ApplyOne(q, full, layout), ApplyOne(k, full, layout)};
}

}  // namespace longrope
