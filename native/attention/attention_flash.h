// CPU attention with our own AVX2/AVX-512 micro-kernels (attention_flash_cpu.cc, its backward in
// attention_flash_cpu_grad.cc): the fast path of CausalAttention on x86-64, inference and
// training; the ATen-tiled version (attention_tiled_cpu.cc, attention_tiled_grad.cc) stays the
// fallback on other CPUs and head sizes.
#pragma once

#include <ATen/ATen.h>

#include "attention/attention.h"
#include "attention/attention_tiled.h"

namespace longrope {

// True on x86-64 CPUs with AVX2 and FMA when q is on the CPU with head_dim a multiple of 8.
bool FlashAttentionCpuAvailable(const at::Tensor& q);

// q [B, Sq, H, D], k/v [B, Sk, KV, D] (Sk = query_offset + Sq) -> [B, Sq, H, D] in q's dtype,
// computed in fp32. Fills lse [B, H, Sq] (natural log-sum-exp of each row's scaled scores) when given.
// AVX-512 is used where the CPU has it, head_dim % 16 == 0 and `avx512` allows it (benchmarks).
at::Tensor FlashAttentionCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const AttentionOptions& opts, const JobControl* job, at::Tensor* lse,
                             bool avx512 = true);

// Its backward (attention_flash_cpu_grad.cc, FlashAttention-2's recurrence): q and dO [B, S, H, D],
// k and v [B, Sk, KV, D], lse [B, H, S] from FlashAttentionCpu, delta = rowsum(dO * O) [B, H, S]
// (any strides). Returns dq [B, S, H, D], dk and dv [B, Sk, KV, D] in fp32. Same availability
// as the forward; opts.causal = false lets every query see every key (any Sk).
struct FlashGrads {
  at::Tensor dq, dk, dv;
};
FlashGrads FlashAttentionCpuBackward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const at::Tensor& d_out, const at::Tensor& lse, const at::Tensor& delta,
                                     const AttentionOptions& opts);
// The same in the grouped layout of TiledAttentionBackward (attention_tiled.h), which calls it.
GroupedGrads FlashAttentionCpuBackwardGrouped(const GroupedAttention& g, const AttentionOptions& opts,
                                              const at::Tensor& d_out, const at::Tensor& delta, const at::Tensor& lse);

}  // namespace longrope
