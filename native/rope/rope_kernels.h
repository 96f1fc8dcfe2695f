// Device kernels for the fused rotary apply. Each reads every element of x once and writes it once;
// the angles come from a precomputed table (rope_tables.h). `inverse` rotates by -angle, which is
// the backward pass: the rotation is orthogonal, so its transpose is its inverse.
#pragma once

#include <ATen/ATen.h>

#include "rope/rope_tables.h"

namespace longrope {

// xs[i] -> outs[i], all [batch, seq, heads_i, head_dim] contiguous, same batch/seq/dtype; heads may
// differ (GQA). head_dim >= 2 * angles.cos.size(1): dims past the rotary ones are copied through.
void RopeApplyCpu(at::ArrayRef<at::Tensor> xs, at::ArrayRef<at::Tensor> outs, const RopeAngles& angles,
                  bool inverse, RopeLayout layout);

#ifdef LONGROPE_WITH_CUDA
void RopeApplyCuda(at::ArrayRef<at::Tensor> xs, at::ArrayRef<at::Tensor> outs, const RopeAngles& angles,
                   bool inverse, RopeLayout layout);
#endif

}  // namespace longrope
