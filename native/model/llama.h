// The LLaMA / Mistral decoder (Hugging Face layout) on libtorch, for inference at long context
// and for training. The RoPE parameters are an argument of every call, never part of the model:
// switching a RopeSpec costs nothing, which the factor search relies on.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attention/attention.h"
#include "job_control.h"
#include "model/weights.h"
#include "rope/rope_tables.h"

namespace longrope {

struct LlamaConfig {
  int64_t vocab = 0, hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
  double rms_norm_eps = 1e-5;
  int64_t sliding_window = 0;  // 0 = full causal attention
  bool tie_word_embeddings = false;
};

struct LayerWeights {
  at::Tensor input_norm, q_proj, k_proj, v_proj, o_proj, post_norm, gate_proj, up_proj, down_proj;
};

// Per-layer keys (rotated) and values of the tokens seen so far, for incremental decoding.
struct KvCache {
  std::vector<at::Tensor> keys, values;  // [B, capacity, kv_heads, head_dim]
  int64_t length = 0;
};

struct ForwardOptions {
  int64_t chunk = 4096;      // tokens per MLP / lm_head chunk (bounds [chunk, intermediate|vocab])
  int64_t attention_tile = 256;
  // The plain libtorch-ops path: rotate_half RoPE, full-matrix attention, no chunking, no in-place
  // updates. The baseline of `npm run bench:model` and a second reference in tests.
  bool naive = false;
  // Replaces CausalAttention in every layer when set: sequence parallelism runs ring attention
  // over a process group here (dist/sequence_parallel.cc). q/k/v are [B, S, heads, D].
  std::function<at::Tensor(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions&)>
      attention;
};

struct NllResult {
  at::Tensor nll;  // [targets] float32: -log p(token[t] | tokens < t) for t = score_from .. S-1
};

struct GenerateResult {
  std::vector<int64_t> tokens;  // the new tokens only
  int64_t switched_at = -1;     // number of tokens in the sequence when the long factors took over
};

// Short/long factor sets (LongRoPE inference): the long set applies once the sequence holds more
// than `original_length` tokens. Without a long set the short one is used throughout.
struct RopeSchedule {
  RopeParams short_params;
  std::optional<RopeParams> long_params;
  int64_t original_length = 0;
  const RopeParams& For(int64_t seq_len) const {
    return long_params && seq_len > original_length ? *long_params : short_params;
  }
};

class LlamaModel {
 public:
  LlamaModel(LlamaConfig config, NamedTensors weights, at::Device device, at::ScalarType dtype);

  const LlamaConfig& config() const { return config_; }
  at::Device device() const { return device_; }
  at::ScalarType dtype() const { return dtype_; }

  // Final-normed hidden states [B, S, hidden] of tokens [B, S] at positions [S] (absolute).
  // Token ids must lie in [0, vocab): the bindings check them on the host (ParseTokens), so no
  // call here reads them back from the device.
  // With a cache: the tokens follow the cached ones (positions must continue them) and their
  // keys/values are appended.
  at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions, const RopeParams& rope,
                     const ForwardOptions& opts, const JobControl* job, KvCache* cache = nullptr) const;

  // Per-token NLL of a single sequence [S], chunked through lm_head so no [S, vocab] tensor exists.
  NllResult Nll(const at::Tensor& tokens, int64_t position_offset, int64_t score_from, const RopeParams& rope,
                const ForwardOptions& opts, const JobControl* job) const;

  // Logits [rows, vocab] (float32) of the last `last_n` positions of one sequence.
  at::Tensor Logits(const at::Tensor& tokens, int64_t position_offset, int64_t last_n, const RopeParams& rope,
                    const ForwardOptions& opts, const JobControl* job) const;

  // Greedy decoding with a KV cache; crossing the short/long boundary rebuilds the cache.
  GenerateResult Generate(const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                          const std::vector<int64_t>& stop_tokens, const RopeSchedule& rope,
                          const ForwardOptions& opts, const JobControl* job) const;

  // Pieces of Forward for callers that schedule layers themselves (activation checkpointing).
  at::Tensor Embed(const at::Tensor& tokens) const { return at::embedding(embed_, tokens); }
  // `opts` as in Forward (its attention hook: ring attention in sequence-parallel training).
  at::Tensor LayerForward(const at::Tensor& x, int64_t layer, const at::Tensor& positions, const RopeParams& rope,
                          const JobControl* job, const ForwardOptions& opts = ForwardOptions{}) const;
  at::Tensor FinalNorm(const at::Tensor& x) const { return RmsNorm(x, final_norm_); }
  at::Tensor LmHeadWeight() const { return LmHead(); }

  // Parameters under their Hugging Face names (lm_head omitted when tied).
  std::vector<std::pair<std::string, at::Tensor>> NamedParameters() const;
  int64_t ParameterBytes() const;

 private:
  at::Tensor LmHead() const { return config_.tie_word_embeddings ? embed_ : lm_head_; }
  at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, bool naive = false) const;
  at::Tensor Layer(const at::Tensor& x, const LayerWeights& w, const RopeAngles& angles, int64_t layer,
                   const ForwardOptions& opts, const JobControl* job, KvCache* cache) const;
  at::Tensor Mlp(const at::Tensor& h, const LayerWeights& w, const ForwardOptions& opts) const;
  KvCache NewCache(int64_t batch, int64_t capacity) const;

  LlamaConfig config_;
  at::Device device_;
  at::ScalarType dtype_;
  at::Tensor embed_, final_norm_, lm_head_;
  std::vector<LayerWeights> layers_;
};

}  // namespace longrope
