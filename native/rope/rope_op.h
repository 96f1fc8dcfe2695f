// The fused rotary op used by the model: q and k in one pass, differentiable (autograd Function
// whose backward is the inverse rotation), on CPU or CUDA by the inputs' device.
#pragma once

#include <ATen/ATen.h>

#include <utility>

#include "rope/rope_tables.h"

namespace longrope {

// q: [batch, seq, heads, head_dim], k: [batch, seq, kv_heads, head_dim]; angles rows = seq.
// Returns rotated (q, k). Gradients flow to q and k when they require grad.
std::pair<at::Tensor, at::Tensor> FusedRope(const at::Tensor& q, const at::Tensor& k, const RopeAngles& angles,
                                            RopeLayout layout);

// Without autograd: the raw kernel call (forward, or inverse for the backward). Writes into q_out /
// k_out when given (they may be q / k themselves: in place, no allocation), else into new tensors.
std::pair<at::Tensor, at::Tensor> FusedRopeNoGrad(const at::Tensor& q, const at::Tensor& k,
                                                  const RopeAngles& angles, bool inverse, RopeLayout layout,
                                                  at::Tensor q_out = {}, at::Tensor k_out = {});

// Plain libtorch ops, rotate_half as Hugging Face writes it, with its own angle computation.
// The independent reference for tests and the baseline for the benchmark.
RopeAngles NaiveRopeTables(const at::Tensor& positions, const RopeParams& params, RopeLayout layout);
std::pair<at::Tensor, at::Tensor> NaiveRopeApply(const at::Tensor& q, const at::Tensor& k, const RopeAngles& full,
                                                 RopeLayout layout);

}  // namespace longrope
