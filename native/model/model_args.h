// N-API arguments of the model and trainer bindings: token ids (checked against the vocabulary,
// the one check they get), checkpoint tensor locations to load, and the target of a safetensors save.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

#include "model/llama.h"
#include "model/weights.h"

namespace longrope {

// A non-empty Int32Array of ids in [0, vocab) -> an int64 CPU tensor, in one pass over the host
// array. An id out of range throws a RangeError naming `field[i]`.
at::Tensor ParseTokens(const Napi::Value& v, const std::string& field, int64_t vocab);
// {chunk, attentionTile, impl} of a forward call's options (nll, logits, generate).
ForwardOptions ParseForwardOptions(const Napi::Object& opts, const std::string& where);
// [{name, dtype, shape, file, offset, byteLength}] (NativeTensorLocation in src/native.ts, as
// validated by src/model/checkpoint.ts).
std::vector<TensorLocation> ParseLocations(const Napi::Value& v, const std::string& field);
// (file: string, header: Buffer) of a safetensors save call: the path and the complete header.
std::pair<std::string, std::string> ParseSaveTarget(const Napi::CallbackInfo& info);

}  // namespace longrope
