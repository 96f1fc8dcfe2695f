#include "rope/rope_tables.h"

#include <stdexcept>

namespace longrope {

RopeLayout ParseRopeLayout(const std::string& name) {
  if (name == "half") return RopeLayout::kHalf;
  if (name == "interleaved") return RopeLayout::kInterleaved;
  throw std::invalid_argument("Expected 'half' or 'interleaved' for layout but received '" + name + "'");
}

void CheckRopeParams(const RopeParams& p) {
  TORCH_CHECK(p.inv_freq.dim() == 1 && p.inv_freq.numel() > 0, "invFreq must be a non-empty vector");
  TORCH_CHECK(p.base_inv_freq.sizes() == p.inv_freq.sizes(), "baseInvFreq has ", p.base_inv_freq.numel(),
              " entries but invFreq has ", p.inv_freq.numel());
  TORCH_CHECK(at::isfinite(p.inv_freq).all().item<bool>(), "invFreq contains a non-finite value");
  TORCH_CHECK(at::isfinite(p.base_inv_freq).all().item<bool>(), "baseInvFreq contains a non-finite value");
  TORCH_CHECK(p.attention_factor > 0 && std::isfinite(p.attention_factor),
              "attentionFactor must be a positive finite number, got ", p.attention_factor);
  TORCH_CHECK(p.n_hat >= 0, "nHat must be >= 0, got ", p.n_hat);
}

RopeAngles ComputeRopeAngles(const at::Tensor& positions, const RopeParams& p) {
  const auto device = positions.device();
  at::Tensor pos = positions.to(at::kFloat).unsqueeze(1);                   // [S, 1]
  at::Tensor scaled = pos * p.inv_freq.to(device).unsqueeze(0);             // [S, d/2]
  at::Tensor scale = at::full({positions.size(0), 1}, p.attention_factor,
                              at::TensorOptions().dtype(at::kFloat).device(device));
  if (p.n_hat > 0) {
    // LongRoPE keeps the first n_hat positions on the original RoPE: no rescale, no attention factor.
    at::Tensor start = (positions < p.n_hat).unsqueeze(1);
    scaled = at::where(start, pos * p.base_inv_freq.to(device).unsqueeze(0), scaled);
    scale = at::where(start, at::ones_like(scale), scale);
  }
  return {(at::cos(scaled) * scale).contiguous(), (at::sin(scaled) * scale).contiguous()};
}

}  // namespace longrope
