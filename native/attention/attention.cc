#include <ATen/core/grad_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/version.h>

#include "attention/attention.h"
#include "attention/attention_tiled.h"

namespace longrope {
namespace {

// at::scaled_dot_product_attention with a `scale` argument: torch 2.1 and later.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define LONGROPE_HAS_SDPA 1
#endif

#ifdef LONGROPE_HAS_SDPA
// CUDA: SDPA picks FlashAttention for bf16/fp16 causal without a mask. A sliding window or a
// query offset needs an explicit mask (memory-efficient backend). GQA: K/V repeated per group.
at::Tensor CausalAttentionSdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttentionOptions& opts) {
  const int64_t group = q.size(2) / k.size(2);
  at::Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);
  if (group > 1) {
    kh = kh.repeat_interleave(group, 1);
    vh = vh.repeat_interleave(group, 1);
  }
  const double scale = opts.scale > 0 ? opts.scale : 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  at::Tensor out;
  if (opts.sliding_window == 0 && opts.query_offset == 0) {
    out = at::scaled_dot_product_attention(qh, kh, vh, {}, 0.0, /*is_causal=*/true, scale);
  } else {
    const auto idx = at::TensorOptions().dtype(at::kLong).device(q.device());
    at::Tensor i = at::arange(q.size(1), idx).unsqueeze(1) + opts.query_offset;
    at::Tensor j = at::arange(k.size(1), idx).unsqueeze(0);
    at::Tensor visible = j.le(i);
    if (opts.sliding_window > 0) visible = visible.logical_and(i.sub(j).lt(opts.sliding_window));
    out = at::scaled_dot_product_attention(qh, kh, vh, visible, 0.0, false, scale);
  }
  return out.transpose(1, 2).contiguous();
}
#endif

}  // namespace

at::Tensor CausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& opts, const JobControl* job) {
  const bool needs_grad = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (q.is_cuda()) {
#ifdef LONGROPE_HAS_SDPA
    return CausalAttentionSdpa(q, k, v, opts);
#else
    return CausalAttentionNaive(q, k, v, opts);
#endif
  }
  // The CPU kernels compute in fp32 by design; autocast (mixed-precision training) must not
  // recast their internal matrix products.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  if (needs_grad) return CausalAttentionTiledTrain(q, k, v, opts);
  return CausalAttentionTiledCpu(q, k, v, opts, job);
}

}  // namespace longrope
