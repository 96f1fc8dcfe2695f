// Causal self-attention for the model runtime, three implementations behind one call:
//  - CPU: tiled with an online softmax (FlashAttention's recurrence on BLAS tiles): memory is
//    O(seq * head_dim) per head, never a [seq, seq] matrix; GQA reads shared K/V heads in place.
//  - CUDA: at::scaled_dot_product_attention (torch >= 2.1), so the flash backend runs for bf16;
//    masked cases in query blocks (attention_sdpa.cc).
//  - naive: plain ops with a full mask; the reference for tests and the autograd path for
//    training at moderate lengths.
#pragma once

#include <ATen/ATen.h>

#include "job_control.h"

namespace longrope {

struct AttentionOptions {
  double scale = 0;            // 0 = 1/sqrt(head_dim)
  int64_t sliding_window = 0;  // 0 = none; else key j is visible to query i iff 0 <= i - j < window
  int64_t query_offset = 0;    // absolute index of query 0 among the keys (KV cache: keys = past + new)
  int64_t tile = 256;          // CPU tile edge (queries and keys)
  // SDPA's masked path: mask elements per call (query block x visible keys), bounding the mask's
  // memory and staying clear of 32-bit index arithmetic in PyTorch's kernels.
  int64_t sdpa_mask_elements = int64_t{1} << 24;
};

// q: [B, Sq, H, D], k/v: [B, Sk, KV, D] with H % KV == 0 and Sk = query_offset + Sq.
// Returns [B, Sq, H, D]. Picks the implementation from the device and whether grads are needed.
at::Tensor CausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& opts, const JobControl* job = nullptr);

at::Tensor CausalAttentionTiledCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const AttentionOptions& opts, const JobControl* job = nullptr);
// at::scaled_dot_product_attention (attention_sdpa.cc): any device, libtorch >= 2.1 only.
bool SdpaAvailable();
at::Tensor CausalAttentionSdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttentionOptions& opts);
at::Tensor CausalAttentionNaive(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const AttentionOptions& opts);

}  // namespace longrope
