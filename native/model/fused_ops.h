// Fused, differentiable building blocks of the decoder for CPU training and inference: each
// replaces a chain of ATen ops (and the autograd nodes and temporaries between them) by one
// pass over memory forward and one backward. On CUDA they fall back to the same ATen chains.
#pragma once

#include <ATen/ATen.h>

namespace longrope {

// Hugging Face LlamaRMSNorm: weight * (x * rsqrt(mean(x^2, -1) + eps)), statistics in fp32.
at::Tensor FusedRmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);
// The reference chain of plain ops (also the CUDA path).
at::Tensor RmsNormReference(const at::Tensor& x, const at::Tensor& weight, double eps);

// SwiGLU activation silu(gate) * up, elementwise.
at::Tensor FusedSwiGlu(const at::Tensor& gate, const at::Tensor& up);

}  // namespace longrope
