// [sync]  createTrainer(model, {beta1, beta2, eps, weightDecay}) -> NativeTrainer
// NativeTrainer:
//   [async] step(tokens, {microBatches, batch, seq, rope, lr, clip, checkpointing, chunk, control})
//           -> Promise<{loss, gradNorm, tokens}>
//   [sync]  optimizerStateInfo() -> {step, tensors: [{name, shape}]}
//   [async] saveOptimizerState(file, header, names) -> Promise<void>   safetensors, atomic
//   [async] loadOptimizerState(locations, step) -> Promise<void>
//   [sync]  parameter(name) -> Float32Array   (tests and tools)
//   [sync]  dispose()   drops optimizer state and leaves the model ready for inference
#pragma once

#include <napi.h>

#include <memory>

#include "train/trainer.h"

namespace longrope {

class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit TrainerWrap(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<Trainer> Get(const Napi::Env& env) const;
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value OptimizerStateInfo(const Napi::CallbackInfo& info);
  Napi::Value SaveOptimizerState(const Napi::CallbackInfo& info);
  Napi::Value LoadOptimizerState(const Napi::CallbackInfo& info);
  Napi::Value Parameter(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<Trainer> trainer_;
  std::shared_ptr<const LlamaModel> model_;
};

}  // namespace longrope
