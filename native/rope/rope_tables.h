// Rotary angle tables: cos and sin per (position, frequency), attention factor folded in.
// Computed once per forward and shared by every layer, so the per-layer apply only streams q/k.
#pragma once

#include <ATen/ATen.h>

namespace longrope {

enum class RopeLayout {
  kHalf,         // Hugging Face rotate_half: dim i pairs with i + d/2 (HF LLaMA/Mistral weights)
  kInterleaved,  // GPT-J / Meta original: dim 2i pairs with 2i + 1
};

RopeLayout ParseRopeLayout(const std::string& name);

// What a RopeSpec reduces to for one sequence (the TypeScript rope/ module computes it).
struct RopeParams {
  at::Tensor inv_freq;       // [d/2] float32, scaled
  at::Tensor base_inv_freq;  // [d/2] float32, unscaled: used for positions < n_hat
  double attention_factor = 1.0;
  int64_t n_hat = 0;
};

struct RopeAngles {
  at::Tensor cos;  // [positions, d/2] float32, times the attention factor
  at::Tensor sin;  // [positions, d/2] float32, times the attention factor
};

// positions: int64 [S] (absolute positions of the sequence's tokens). Angles are fp32 products
// position * inv_freq, as Hugging Face computes them, on the device of `positions`.
RopeAngles ComputeRopeAngles(const at::Tensor& positions, const RopeParams& params);

// Checks that params fit a head: d/2 frequencies, float32, finite, attention factor > 0.
void CheckRopeParams(const RopeParams& params);

}  // namespace longrope
