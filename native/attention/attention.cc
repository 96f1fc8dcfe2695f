#include <ATen/core/grad_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

#include "attention/attention.h"
#include "attention/attention_tiled.h"

namespace longrope {

at::Tensor CausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& opts, const JobControl* job) {
  const bool needs_grad = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (q.is_cuda()) return SdpaAvailable() ? CausalAttentionSdpa(q, k, v, opts) : CausalAttentionNaive(q, k, v, opts);
  // The CPU kernels compute in fp32 by design; autocast (mixed-precision training) must not
  // recast their internal matrix products.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  if (needs_grad) return CausalAttentionTiledTrain(q, k, v, opts);
  return CausalAttentionTiledCpu(q, k, v, opts, job);
}

}  // namespace longrope
