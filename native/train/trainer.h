// One optimizer step of causal-LM training on a loaded model: gradient accumulation over
// micro-batches, optional per-layer activation checkpointing with a chunked loss, gradient
// clipping and AdamW (libtorch's torch::optim::AdamW). The TypeScript trainer owns the loop: data,
// learning-rate schedule, checkpoints, metrics. Weights are updated in place, so the same Model
// object evaluates the fine-tuned weights without a reload.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/communicator.h"
#include "job_control.h"
#include "model/llama.h"

namespace torch::optim {
class AdamW;
}

namespace longrope {

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.0;
};

struct TrainStepOptions {
  RopeParams rope;
  double lr = 1e-3;
  double clip = 1.0;             // max global gradient norm; <= 0 disables clipping
  bool checkpointing = false;    // recompute each layer in backward instead of keeping activations
  int64_t chunk = 4096;          // tokens per loss chunk (checkpointing path)
  bool naive = false;            // plain libtorch ops (the benchmark baseline and a test reference)
  bool autocast = false;         // bf16 autocast over fp32 weights (mixed precision; meant for CUDA)
  // Sequence parallelism: every rank passes the same whole sequences; each runs its zigzag share
  // with ring attention (forward and backward), the loss is summed over the ranks and the gradients
  // all-reduced (sum), so every rank takes the optimizer step of the whole-sequence loss. Not owned;
  // it must outlive the step.
  Communicator* comm = nullptr;
};

struct TrainStepResult {
  double loss = 0;       // mean token cross-entropy over the step (all micro-batches)
  double grad_norm = 0;  // global norm before clipping
  int64_t tokens = 0;    // target tokens in the step
  // Where the step's wall time went (ms): forward passes and losses, backward passes (the
  // checkpointed path's recomputation included), clipping + AdamW.
  double forward_ms = 0, backward_ms = 0, optimizer_ms = 0;
};

class Trainer {
 public:
  Trainer(std::shared_ptr<const LlamaModel> model, AdamWConfig config);
  ~Trainer();

  // tokens: [micro_batches, batch, seq] int64 ids in [0, vocab) (the binding checks them); each row
  // is a segment, every position but the first is a target.
  TrainStepResult Step(const at::Tensor& tokens, const TrainStepOptions& opts, const JobControl* job);

  // AdamW moments under "exp_avg.<param>" / "exp_avg_sq.<param>" and the step count.
  std::vector<std::pair<std::string, at::Tensor>> OptimizerState() const;
  int64_t OptimizerStep() const;
  void LoadOptimizerState(const NamedTensors& state, int64_t step);

 private:
  double MicroBatch(const at::Tensor& tokens, const TrainStepOptions& opts, double scale, const JobControl* job,
                    TrainStepResult& timing);
  double MicroBatchCheckpointed(const at::Tensor& tokens, const TrainStepOptions& opts, double scale,
                                const JobControl* job, TrainStepResult& timing);

  std::shared_ptr<const LlamaModel> model_;
  std::vector<std::pair<std::string, at::Tensor>> params_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t step_ = 0;
};

}  // namespace longrope
