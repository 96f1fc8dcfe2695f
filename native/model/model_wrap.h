// [async] loadModel(options) -> Promise<NativeModel>
// NativeModel (ObjectWrap over a shared LlamaModel; a job holds its own reference, so dispose()
// during a job frees the model when the job ends):
//   [async] nll(tokens, options) -> Promise<Float32Array>       per-token NLL, chunked lm_head
//   [async] logits(tokens, options) -> Promise<Float32Array>    [lastN, vocab]
//   [async] generate(prompt, options) -> Promise<{tokens, switchedAt}>  greedy, KV cache
//           tokens / prompt: a non-empty Int32Array of ids in [0, vocab), checked here (RangeError
//           naming the first bad index); nothing downstream checks them again.
//   [async] save(file, header, tensors: [{name, dtype}]) -> Promise<void>   safetensors, atomic
//   [sync]  info() -> {parameterBytes, device, dtype: 'float32' | 'bfloat16' | 'float16',
//                      parameters: [{name, shape}] in Hugging Face state_dict order}
//   [sync]  dispose()
// tensorNames: {embedTokens, layerPrefix, layer: [...], finalNorm, lmHead}, frozen: the checkpoint
//   tensor names, each {name, shape: symbolic dims} (model/tensor_names.h).
#pragma once

#include <napi.h>

#include <memory>

#include "model/llama.h"

namespace longrope {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  // The model behind a JS NativeModel object (throws if it is not one, or disposed).
  static std::shared_ptr<const LlamaModel> FromObject(const Napi::Value& value, const std::string& field);

 private:
  std::shared_ptr<const LlamaModel> Get(const Napi::Env& env) const;
  Napi::Value Nll(const Napi::CallbackInfo& info);
  Napi::Value Logits(const Napi::CallbackInfo& info);
  Napi::Value Generate(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<const LlamaModel> model_;
};

}  // namespace longrope
