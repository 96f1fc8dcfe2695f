// Causal attention through at::scaled_dot_product_attention (torch >= 2.1), the CUDA path: SDPA
// picks FlashAttention for bf16/fp16 without a mask.
//  - Plain causal prefill (no query offset, window covering all keys): is_causal, no mask.
//  - One decoded token that sees every key: no mask and no causal flag.
//  - Otherwise (a sliding window, or a query offset with several new queries) queries run in
//    blocks, each against only the keys it can see, with a [block, keys] mask: never a dense
//    [Sq, Sk] mask (16 GiB of bools at 128k), and each call stays far below 2^31 mask elements
//    (PyTorch's memory-efficient kernel computes the mask offset in 32 bits).
// GQA: enable_gqa (torch >= 2.5) where no mask is needed; the masked path repeats the visible K/V
// range once, since the memory-efficient kernel that takes masks does not take enable_gqa.
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "attention/attention.h"

namespace longrope {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
namespace {

// q: [B, H, Sq, D], k/v: [B, KV, Sk, D]; no mask.
at::Tensor SdpaUnmasked(const at::Tensor& q, at::Tensor k, at::Tensor v, bool causal, double scale) {
  const int64_t group = q.size(1) / k.size(1);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
  if (group > 1) return at::scaled_dot_product_attention(q, k, v, {}, 0.0, causal, scale, /*enable_gqa=*/true);
#endif
  if (group > 1) {
    k = k.repeat_interleave(group, 1);
    v = v.repeat_interleave(group, 1);
  }
  return at::scaled_dot_product_attention(q, k, v, {}, 0.0, causal, scale);
}

}  // namespace

bool SdpaAvailable() { return true; }

at::Tensor CausalAttentionSdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttentionOptions& opts) {
  const int64_t sq = q.size(1), sk = k.size(1), offset = opts.query_offset;
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() && q.size(0) == k.size(0) &&
                  q.size(3) == k.size(3) && k.size(2) > 0 && q.size(2) % k.size(2) == 0,
              "attention expects q [B, Sq, H, D] and k = v [B, Sk, KV, D] with H a multiple of KV, got q ",
              q.sizes(), ", k ", k.sizes(), ", v ", v.sizes());
  TORCH_CHECK(offset >= 0 && sk == offset + sq, "attention expects Sk = queryOffset + Sq, got Sk ", sk,
              ", queryOffset ", offset, ", Sq ", sq);
  const double scale = opts.scale > 0 ? opts.scale : 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  // A window at least as long as the keys hides nothing.
  const int64_t window = opts.sliding_window >= sk ? 0 : opts.sliding_window;
  const at::Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);
  if (window == 0 && offset == 0) return SdpaUnmasked(qh, kh, vh, /*causal=*/true, scale).transpose(1, 2).contiguous();
  if (window == 0 && sq == 1) return SdpaUnmasked(qh, kh, vh, /*causal=*/false, scale).transpose(1, 2).contiguous();

  const int64_t group = q.size(2) / k.size(2);
  // Keys one block of `block` queries can see: at most window + block - 1, else up to Sk.
  const int64_t budget = std::max<int64_t>(opts.sdpa_mask_elements, 1);
  const int64_t span_bound = window > 0 ? window : sk;
  int64_t block = std::max<int64_t>(1, budget / std::max<int64_t>(span_bound, 1));
  if (window > 0) {
    while (block > 1 && block * (window + block - 1) > budget) block /= 2;
  }
  block = std::min(block, sq);
  // K/V from the first key any query sees, repeated per group once (not per block: the blocks of a
  // long chunk would copy them many times).
  const int64_t first_key = window > 0 ? std::max<int64_t>(0, offset - window + 1) : 0;
  at::Tensor kr = kh.slice(2, first_key), vr = vh.slice(2, first_key);
  if (group > 1) {
    kr = kr.repeat_interleave(group, 1);
    vr = vr.repeat_interleave(group, 1);
  }
  std::vector<at::Tensor> blocks;
  const auto idx = at::TensorOptions().dtype(at::kLong).device(q.device());
  for (int64_t i0 = 0; i0 < sq; i0 += block) {
    const int64_t i1 = std::min(sq, i0 + block);
    const int64_t p0 = offset + i0, p1 = offset + i1;  // absolute positions of the block's queries
    const int64_t lo = window > 0 ? std::max<int64_t>(0, p0 - window + 1) : 0, hi = p1;
    at::Tensor kb = kr.slice(2, lo - first_key, hi - first_key), vb = vr.slice(2, lo - first_key, hi - first_key);
    at::Tensor pos = at::arange(p0, p1, idx).unsqueeze(1);
    at::Tensor key = at::arange(lo, hi, idx).unsqueeze(0);
    at::Tensor visible = key.le(pos);
    if (window > 0) visible = visible.logical_and(pos.sub(key).lt(window));
    blocks.push_back(at::scaled_dot_product_attention(qh.slice(2, i0, i1), kb, vb, visible, 0.0, false, scale));
  }
  return at::cat(blocks, 2).transpose(1, 2).contiguous();
}
#else
bool SdpaAvailable() { return false; }

at::Tensor CausalAttentionSdpa(const at::Tensor&, const at::Tensor&, const at::Tensor&, const AttentionOptions&) {
  TORCH_CHECK(false, "scaled_dot_product_attention needs libtorch >= 2.1; this addon was built against ",
              TORCH_VERSION);
}
#endif

}  // namespace longrope
