#include "model/llama.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <array>

#include "attention/attention.h"
#include "model/forward_profile.h"
#include "model/fused_ops.h"
#include "model/tensor_names.h"
#include "rope/rope_op.h"

namespace longrope {
namespace {

at::Tensor Take(NamedTensors& weights, const std::string& name, std::vector<int64_t> shape) {
  auto it = weights.find(name);
  TORCH_CHECK(it != weights.end(), "checkpoint has no tensor ", name);
  TORCH_CHECK(it->second.sizes() == at::IntArrayRef(shape), "tensor ", name, " has shape ", it->second.sizes(),
              " but the config implies ", at::IntArrayRef(shape));
  at::Tensor t = std::move(it->second);
  weights.erase(it);
  return t;
}

// LayerWeights' field of each LayerTensor (tensor_names.h), in the table's order.
constexpr std::array<at::Tensor LayerWeights::*, kLayerTensorCount> kLayerFields = {
    &LayerWeights::q_proj,    &LayerWeights::k_proj,  &LayerWeights::v_proj,
    &LayerWeights::o_proj,    &LayerWeights::gate_proj, &LayerWeights::up_proj,
    &LayerWeights::down_proj, &LayerWeights::input_norm, &LayerWeights::post_norm};

std::vector<int64_t> ShapeOf(const TensorSpec& spec, const LlamaConfig& c) {
  auto size = [&](Dim d) -> int64_t {
    switch (d) {
      case Dim::kVocab: return c.vocab;
      case Dim::kHidden: return c.hidden;
      case Dim::kIntermediate: return c.intermediate;
      case Dim::kQ: return c.heads * c.head_dim;
      case Dim::kKv: return c.kv_heads * c.head_dim;
    }
    return 0;
  };
  std::vector<int64_t> shape;
  for (int i = 0; i < spec.rank; ++i) shape.push_back(size(spec.dims[i]));
  return shape;
}

}  // namespace

LlamaModel::LlamaModel(LlamaConfig c, NamedTensors weights, at::Device device, at::ScalarType dtype)
    : config_(c), device_(device), dtype_(dtype) {
  TORCH_CHECK(c.heads % c.kv_heads == 0, "num_attention_heads ", c.heads, " is not a multiple of num_key_value_heads ",
              c.kv_heads);
  embed_ = Take(weights, kEmbedTokens.name, ShapeOf(kEmbedTokens, c));
  final_norm_ = Take(weights, kFinalNorm.name, ShapeOf(kFinalNorm, c));
  if (!c.tie_word_embeddings) lm_head_ = Take(weights, kLmHead.name, ShapeOf(kLmHead, c));
  for (int64_t i = 0; i < c.layers; ++i) {
    LayerWeights& w = layers_.emplace_back();
    for (int t = 0; t < kLayerTensorCount; ++t) {
      w.*kLayerFields[t] = Take(weights, LayerTensorName(i, LayerTensor(t)), ShapeOf(kLayerTensors[t], c));
    }
  }
}

at::Tensor LlamaModel::RmsNorm(const at::Tensor& x, const at::Tensor& weight, bool naive) const {
  ProfileScope timed(ProfilePart::kRopeNorm);
  return naive ? RmsNormReference(x, weight, config_.rms_norm_eps) : FusedRmsNorm(x, weight, config_.rms_norm_eps);
}

at::Tensor LlamaModel::Mlp(const at::Tensor& h, const LayerWeights& w, const ForwardOptions& opts) const {
  at::Tensor gate, up, act;
  {
    ProfileScope timed(ProfilePart::kGemm);
    gate = at::linear(h, w.gate_proj);
    up = at::linear(h, w.up_proj);
  }
  {
    ProfileScope timed(ProfilePart::kRopeNorm);
    act = opts.naive ? at::silu(gate) * up : FusedSwiGlu(gate, up);
  }
  gate.reset();
  up.reset();
  ProfileScope timed(ProfilePart::kGemm);
  return at::linear(act, w.down_proj);
}

at::Tensor LlamaModel::Layer(const at::Tensor& x_in, const LayerWeights& w, const RopeAngles& angles, int64_t layer,
                             const ForwardOptions& opts, const JobControl* job, KvCache* cache) const {
  const bool grad = at::GradMode::is_enabled();
  const int64_t b = x_in.size(0), s = x_in.size(1), hd = config_.head_dim;
  at::Tensor h = RmsNorm(x_in, w.input_norm, opts.naive);
  at::Tensor q, k, v;
  {
    ProfileScope timed(ProfilePart::kGemm);
    q = at::linear(h, w.q_proj).view({b, s, config_.heads, hd});
    k = at::linear(h, w.k_proj).view({b, s, config_.kv_heads, hd});
    v = at::linear(h, w.v_proj).view({b, s, config_.kv_heads, hd});
  }
  h.reset();
  std::optional<ProfileScope> rope_timer(std::in_place, ProfilePart::kRopeNorm);
  if (opts.naive) {
    std::tie(q, k) = NaiveRopeApply(q, k, angles, RopeLayout::kHalf);  // angles are full-width here
  } else if (grad) {
    std::tie(q, k) = FusedRope(q, k, angles, RopeLayout::kHalf);
  } else {
    FusedRopeNoGrad(q, k, angles, false, RopeLayout::kHalf, q, k);  // fresh projections: rotate in place
  }
  rope_timer.reset();
  AttentionOptions attn{0.0, config_.sliding_window, 0, opts.attention_tile};
  at::Tensor keys = k, values = v;
  if (cache) {
    const int64_t past = cache->length;
    cache->keys[layer].narrow(1, past, s).copy_(k);
    cache->values[layer].narrow(1, past, s).copy_(v);
    keys = cache->keys[layer].narrow(1, 0, past + s);
    values = cache->values[layer].narrow(1, 0, past + s);
    attn.query_offset = past;
  }
  at::Tensor a, attn_out;
  {
    ProfileScope timed(ProfilePart::kAttention);
    a = opts.attention ? opts.attention(q, keys, values, attn)
        : opts.naive   ? CausalAttentionNaive(q, keys, values, attn)
                       : CausalAttention(q, keys, values, attn, job);
  }
  q.reset();
  {
    ProfileScope timed(ProfilePart::kGemm);
    attn_out = at::linear(a.reshape({b, s, config_.heads * hd}), w.o_proj);
  }
  a.reset();
  if (grad || opts.naive) {
    at::Tensor x = x_in + attn_out;
    return x + Mlp(RmsNorm(x, w.post_norm, opts.naive), w, opts);
  }
  // Inference: update the residual stream in place and run norm + MLP over token chunks, so
  // only [chunk, intermediate] activations exist at a time.
  at::Tensor x = x_in.add_(attn_out);
  attn_out.reset();
  at::Tensor flat = x.view({b * s, config_.hidden});
  for (int64_t c0 = 0; c0 < b * s; c0 += opts.chunk) {
    at::Tensor rows = flat.narrow(0, c0, std::min(opts.chunk, b * s - c0));
    rows.add_(Mlp(RmsNorm(rows, w.post_norm), w, opts));
  }
  return x;
}

KvCache LlamaModel::NewCache(int64_t batch, int64_t capacity) const {
  KvCache cache;
  const auto options = at::TensorOptions().dtype(dtype_).device(device_);
  for (int64_t i = 0; i < config_.layers; ++i) {
    cache.keys.push_back(at::empty({batch, capacity, config_.kv_heads, config_.head_dim}, options));
    cache.values.push_back(at::empty({batch, capacity, config_.kv_heads, config_.head_dim}, options));
  }
  return cache;
}

at::Tensor LlamaModel::Forward(const at::Tensor& tokens, const at::Tensor& positions, const RopeParams& rope,
                               const ForwardOptions& opts, const JobControl* job, KvCache* cache) const {
  TORCH_CHECK(tokens.dim() == 2 && positions.dim() == 1 && positions.size(0) == tokens.size(1),
              "tokens must be [batch, seq] with one position per token");
  TORCH_CHECK(rope.inv_freq.numel() * 2 <= config_.head_dim, "RoPE has ", rope.inv_freq.numel(),
              " frequencies but head_dim/2 is ", config_.head_dim / 2);
  if (cache) {
    TORCH_CHECK(cache->length + tokens.size(1) <= cache->keys[0].size(1), "KV cache capacity exceeded");
  }
  // A fresh tensor (index_select): inference may update this residual stream in place.
  at::Tensor x = at::embedding(embed_, tokens.to(device_));
  const RopeAngles angles = opts.naive ? NaiveRopeTables(positions.to(device_), rope, RopeLayout::kHalf)
                                       : ComputeRopeAngles(positions.to(device_), rope);
  for (int64_t i = 0; i < config_.layers; ++i) {
    if (job) job->CheckCancelled();
    x = Layer(x, layers_[i], angles, i, opts, job, cache);
    if (job) job->AddDone(1);
  }
  if (cache) cache->length += tokens.size(1);
  return RmsNorm(x, final_norm_, opts.naive);
}

at::Tensor LlamaModel::LayerForward(const at::Tensor& x, int64_t layer, const at::Tensor& positions,
                                    const RopeParams& rope, const JobControl* job, const ForwardOptions& opts) const {
  return Layer(x, layers_.at(layer), ComputeRopeAngles(positions, rope), layer, opts, job, nullptr);
}

NllResult LlamaModel::Nll(const at::Tensor& tokens, int64_t position_offset, int64_t score_from,
                          const RopeParams& rope, const ForwardOptions& opts, const JobControl* job) const {
  ProfileScope timed_call(ProfilePart::kNativeCall);
  const int64_t s = tokens.size(0);
  TORCH_CHECK(s >= 2, "NLL needs at least 2 tokens, got ", s);
  TORCH_CHECK(score_from >= 1 && score_from < s, "scoreFrom must be in [1, ", s - 1, "], got ", score_from);
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor positions = at::arange(position_offset, position_offset + s, long_opts);
  at::Tensor ids = tokens.to(device_);
  at::Tensor h = Forward(ids.unsqueeze(0), positions, rope, opts, job)[0];  // [S, hidden]
  const int64_t rows = s - score_from;
  at::Tensor nll = at::empty({rows}, at::TensorOptions().dtype(at::kFloat).device(device_));
  const int64_t chunk = opts.naive ? rows : opts.chunk;
  ProfileScope timed_head(ProfilePart::kLmHeadLoss);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t c = std::min(chunk, rows - r0);
    // Hidden row (score_from - 1 + r) predicts token (score_from + r).
    at::Tensor logits = at::linear(h.narrow(0, score_from - 1 + r0, c), LmHead()).to(at::kFloat);
    at::Tensor target = ids.narrow(0, score_from + r0, c).unsqueeze(1);
    nll.narrow(0, r0, c).copy_(at::logsumexp(logits, -1) - logits.gather(1, target).squeeze(1));
  }
  if (job) job->AddDone(1);
  return {nll};
}

at::Tensor LlamaModel::Logits(const at::Tensor& tokens, int64_t position_offset, int64_t last_n,
                              const RopeParams& rope, const ForwardOptions& opts, const JobControl* job) const {
  const int64_t s = tokens.size(0);
  TORCH_CHECK(last_n >= 1 && last_n <= s, "lastN must be in [1, ", s, "], got ", last_n);
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor h = Forward(tokens.to(device_).unsqueeze(0), at::arange(position_offset, position_offset + s, long_opts),
                         rope, opts, job)[0];
  return at::linear(h.narrow(0, s - last_n, last_n), LmHead()).to(at::kFloat);
}

GenerateResult LlamaModel::Generate(const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                    const std::vector<int64_t>& stop_tokens, const RopeSchedule& rope,
                                    const ForwardOptions& opts, const JobControl* job) const {
  TORCH_CHECK(!prompt.empty(), "generation needs a non-empty prompt");
  GenerateResult result;
  if (max_new_tokens <= 0) return result;
  std::vector<int64_t> seq = prompt;
  const int64_t capacity = static_cast<int64_t>(prompt.size()) + max_new_tokens;
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(device_);
  auto as_tensor = [&](const std::vector<int64_t>& v) {
    return at::tensor(v, at::TensorOptions().dtype(at::kLong)).to(device_).unsqueeze(0);
  };
  const RopeParams* current = &rope.For(static_cast<int64_t>(seq.size()));
  KvCache cache = NewCache(1, capacity);
  at::Tensor h = Forward(as_tensor(seq), at::arange(0, static_cast<int64_t>(seq.size()), long_opts), *current, opts,
                         job, &cache);
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    if (job) job->CheckCancelled();
    at::Tensor logits = at::linear(h[0][h.size(1) - 1], LmHead());
    const int64_t next = logits.argmax().item<int64_t>();
    result.tokens.push_back(next);
    seq.push_back(next);
    if (std::find(stop_tokens.begin(), stop_tokens.end(), next) != stop_tokens.end()) break;
    if (step + 1 == max_new_tokens) break;
    const int64_t n = static_cast<int64_t>(seq.size());
    const RopeParams* wanted = &rope.For(n);
    if (wanted != current) {
      // Keys in the cache were rotated with the other factor set: rebuild it from the tokens.
      current = wanted;
      result.switched_at = n;
      cache = NewCache(1, capacity);
      h = Forward(as_tensor(seq), at::arange(0, n, long_opts), *current, opts, job, &cache);
    } else {
      h = Forward(as_tensor({next}), at::arange(n - 1, n, long_opts), *current, opts, job, &cache);
    }
  }
  return result;
}

std::vector<std::pair<std::string, at::Tensor>> LlamaModel::NamedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out{{kEmbedTokens.name, embed_}};
  for (int64_t i = 0; i < config_.layers; ++i) {
    for (int t = 0; t < kLayerTensorCount; ++t) out.emplace_back(LayerTensorName(i, LayerTensor(t)), layers_[i].*kLayerFields[t]);
  }
  out.emplace_back(kFinalNorm.name, final_norm_);
  if (!config_.tie_word_embeddings) out.emplace_back(kLmHead.name, lm_head_);
  return out;
}

int64_t LlamaModel::ParameterBytes() const {
  int64_t total = 0;
  for (const auto& [name, t] : NamedParameters()) total += t.nbytes();
  return total;
}

}  // namespace longrope
