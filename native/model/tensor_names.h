// The Hugging Face tensor names of a LLaMA/Mistral checkpoint and the shape rule of each, in one
// table. The loader and NamedParameters (llama.cc) read it here; TypeScript reads the same table
// through the binding's `tensorNames` (model_wrap.cc), so no second copy of the names exists.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace longrope {

// A dimension of a weight, resolved against the model config: q = heads * head_dim,
// kv = kv_heads * head_dim.
enum class Dim { kVocab, kHidden, kIntermediate, kQ, kKv };

// The name TypeScript sees for a Dim.
inline const char* DimName(Dim dim) {
  switch (dim) {
    case Dim::kVocab: return "vocab";
    case Dim::kHidden: return "hidden";
    case Dim::kIntermediate: return "intermediate";
    case Dim::kQ: return "q";
    case Dim::kKv: return "kv";
  }
  return "?";
}

struct TensorSpec {
  const char* name;  // per-layer entries: the part after "model.layers.<i>."
  int rank;          // 1 (norm weights) or 2 (matrices, [out, in] as nn.Linear stores them)
  std::array<Dim, 2> dims;
};

// The per-layer weights, in Hugging Face's state_dict order (the order our saved checkpoints and
// optimizer states list them in).
enum LayerTensor : int {
  kQProj, kKProj, kVProj, kOProj, kGateProj, kUpProj, kDownProj, kInputNorm, kPostNorm, kLayerTensorCount
};

inline constexpr std::array<TensorSpec, kLayerTensorCount> kLayerTensors = {{
    {"self_attn.q_proj.weight", 2, {Dim::kQ, Dim::kHidden}},
    {"self_attn.k_proj.weight", 2, {Dim::kKv, Dim::kHidden}},
    {"self_attn.v_proj.weight", 2, {Dim::kKv, Dim::kHidden}},
    {"self_attn.o_proj.weight", 2, {Dim::kHidden, Dim::kQ}},
    {"mlp.gate_proj.weight", 2, {Dim::kIntermediate, Dim::kHidden}},
    {"mlp.up_proj.weight", 2, {Dim::kIntermediate, Dim::kHidden}},
    {"mlp.down_proj.weight", 2, {Dim::kHidden, Dim::kIntermediate}},
    {"input_layernorm.weight", 1, {Dim::kHidden}},
    {"post_attention_layernorm.weight", 1, {Dim::kHidden}},
}};

inline constexpr const char* kLayerPrefix = "model.layers.";
// A checkpoint lists kEmbedTokens, the layers, kFinalNorm, then kLmHead unless the word
// embeddings are tied (then lm_head is kEmbedTokens and the file has no tensor of its own).
inline constexpr TensorSpec kEmbedTokens{"model.embed_tokens.weight", 2, {Dim::kVocab, Dim::kHidden}};
inline constexpr TensorSpec kFinalNorm{"model.norm.weight", 1, {Dim::kHidden}};
inline constexpr TensorSpec kLmHead{"lm_head.weight", 2, {Dim::kVocab, Dim::kHidden}};

// "model.layers.<layer>.<name>".
inline std::string LayerTensorName(int64_t layer, LayerTensor tensor) {
  return kLayerPrefix + std::to_string(layer) + "." + kLayerTensors[tensor].name;
}

}  // namespace longrope
