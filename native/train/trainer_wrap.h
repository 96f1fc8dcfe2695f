// [sync]  createTrainer(model, {beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0}) -> NativeTrainer
//         (weight decay applies to matrices only, not to norm weights)
// NativeTrainer:
//   [async] step(tokens, options, group?) -> Promise<{loss, gradNorm, tokens, milliseconds}>
//           tokens: Int32Array of microBatches * batch * seq ids in [0, vocab) (checked here,
//             RangeError naming the first bad index), each row of seq a segment.
//           options: {microBatches, batch, seq >= 2, rope, lr,
//             clip = 1 (max global gradient norm; <= 0 disables clipping),
//             checkpointing = false (recompute each layer in backward),
//             chunk = 4096 (tokens per loss chunk; used by the checkpointing path only),
//             impl = 'fused' | 'naive' (plain libtorch ops; not with checkpointing),
//             autocast = false (bf16 autocast over float32 weights), control}
//           group: a NativeProcessGroup: sequence parallel (every rank passes the same tokens;
//             zigzag share, ring attention, loss and gradients summed over the ranks).
//           result: loss = mean token cross-entropy over all micro-batches, gradNorm = global
//             norm before clipping, tokens = target tokens (microBatches * batch * (seq - 1)),
//             milliseconds = {forward, backward, optimizer} wall time.
//   [sync]  optimizerStateInfo() -> {step, tensors: [{name, shape}]}
//   [async] saveOptimizerState(file, header) -> Promise<void>   safetensors, atomic: the tensors
//           of optimizerStateInfo() in its order, as F32 (further arguments are ignored)
//   [async] loadOptimizerState(locations, step) -> Promise<void>
//   [sync]  parameter(name) -> Float32Array   (tests and tools)
//   [sync]  dispose()   drops this handle; the optimizer state is freed and the model's weights
//           leave autograd (ready for inference) once a running step, if any, has finished
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
