// Causal self-attention for the model runtime. CausalAttention picks one implementation:
//  - CPU inference: tiled with an online softmax (FlashAttention's recurrence): on x86-64 with
//    AVX2/AVX-512 our own micro-kernels (attention_flash.h), elsewhere BLAS tiles through ATen;
//    memory is O(seq * head_dim) per head, never a [seq, seq] matrix; GQA reads shared K/V heads
//    in place.
//  - CPU training (grad enabled and an input requires it): the same forward as an autograd
//    function with a tiled backward on BLAS tiles (attention_tiled.h), O(seq) memory too.
//  - CUDA: at::scaled_dot_product_attention (torch >= 2.1), so the flash backend runs for bf16;
//    masked cases (a sliding window, a query offset) in query blocks (attention_sdpa.cc); with an
//    older torch, the naive path below.
// CausalAttentionNaive: plain differentiable ops over the full [Sq, Sk] score matrix (fp32) with
// an explicit mask. CausalAttention uses it only on CUDA without SDPA; otherwise it runs when
// asked for: the model's impl 'naive' (the benchmark baseline and a second reference in tests)
// and the attention binding's impl 'naive'.
#pragma once

#include <ATen/ATen.h>

#include "job_control.h"

namespace longrope {

struct AttentionOptions {
  double scale = 0;            // 0 = 1/sqrt(head_dim)
  int64_t sliding_window = 0;  // 0 = none; else key j is visible to query i iff 0 <= i - j < window
  int64_t query_offset = 0;    // absolute index of query 0 among the keys (KV cache: keys = past + new)
  int64_t tile = 256;          // CPU tile edge (queries and keys)
  // false: every key is visible to every query, any Sq and Sk (the off-diagonal blocks of ring
  // attention, native/attention/ring_attention.cc). Tiled CPU kernels only.
  bool causal = true;
  // false: the ATen-tiled kernels (BLAS tiles) even where the AVX ones run; tests compare the two
  // and benchmarks measure what the AVX kernels gain.
  bool avx = true;
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
