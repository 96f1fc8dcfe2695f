// CPU attention with our own AVX2 micro-kernels (attention_flash_cpu.cc): the fast path of
// CausalAttention on x86-64; the ATen-tiled version (attention_tiled_cpu.cc) stays the fallback
// on other CPUs and head sizes.
#pragma once

#include <ATen/ATen.h>

#include "attention/attention.h"

namespace longrope {

// True on x86-64 CPUs with AVX2 and FMA when q is on the CPU with head_dim a multiple of 8.
bool FlashAttentionCpuAvailable(const at::Tensor& q);

// q [B, Sq, H, D], k/v [B, Sk, KV, D] (Sk = query_offset + Sq) -> [B, Sq, H, D] in q's dtype,
// computed in fp32. Fills lse [B, H, Sq] (natural log-sum-exp of each row's scaled scores) when given.
// AVX-512 is used where the CPU has it, head_dim % 16 == 0 and `avx512` allows it (benchmarks).
at::Tensor FlashAttentionCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const AttentionOptions& opts, const JobControl* job, at::Tensor* lse,
                             bool avx512 = true);

}  // namespace longrope
