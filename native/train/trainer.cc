#include "train/trainer.h"

#include <c10/core/GradMode.h>

#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <optional>
#include <type_traits>
#include <vector>

#include "attention/ring_attention.h"
#include "dist/sequence_parallel.h"
#include "train/autocast.h"

namespace longrope {
namespace {

// AdamW keeps per-parameter state keyed by the TensorImpl: its address as a string in libtorch 1.x
// (what c10::guts::to_string printed), the pointer itself in 2.x.
template <typename Map>
typename Map::key_type StateKey(const Map&, const at::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// What this rank computes of a micro-batch [b, s]: in one process the whole sequences (rows
// 0..s-2 predict tokens 1..s-1); under sequence parallelism its zigzag share, whose rows past the
// last real token predict nothing (-100). `count` is the whole micro-batch's targets on every rank.
struct LocalBatch {
  at::Tensor inputs;     // [b, n] ids run through the model
  at::Tensor positions;  // [n] their positions
  at::Tensor targets;    // [b, rows] the ids rows 0..rows-1 predict
  int64_t rows = 0;
  double count = 0;
};

LocalBatch Local(const at::Tensor& tokens, const TrainStepOptions& opts, const at::Device& device) {
  const int64_t b = tokens.size(0), s = tokens.size(1);
  const double count = static_cast<double>(b * (s - 1));
  if (!opts.comm) {
    return {tokens, at::arange(s, at::TensorOptions().dtype(at::kLong).device(device)), tokens.narrow(1, 1, s - 1),
            s - 1, count};
  }
  const ZigzagShare z = ZigzagSplit(tokens, opts.comm->size(), opts.comm->rank());
  return {z.inputs.to(device), z.idx.to(device), z.targets.to(device), 2 * z.chunk, count};
}

// The layer options of a step: ring attention over the group under sequence parallelism.
ForwardOptions StepForwardOptions(const TrainStepOptions& opts) {
  ForwardOptions fwd;
  if (opts.comm) {
    Communicator* comm = opts.comm;
    fwd.attention = [comm](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& a) {
      return RingAttention(*comm, q, k, v, a);
    };
  }
  return fwd;
}

// Summed cross-entropy of logits [b, rows, vocab] against targets [b, rows] (-100: no target).
at::Tensor SummedLoss(const at::Tensor& logits, const at::Tensor& targets) {
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}), {}, at::Reduction::Sum,
                                -100);
}

// bf16 autocast over the forward computations of a step when asked. Backward runs outside it, as
// PyTorch prescribes: autograd replays each op in the dtype its forward used.
std::optional<AutocastGuard> ForwardPrecision(const TrainStepOptions& opts, const at::Device& device) {
  if (!opts.autocast) return std::nullopt;
  return std::optional<AutocastGuard>(std::in_place, device.type(), at::kBFloat16);
}

// Milliseconds since `start`, and restarts it.
double Lap(std::chrono::steady_clock::time_point& start) {
  const auto now = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(now - start).count();
  start = now;
  return ms;
}

}  // namespace

Trainer::Trainer(std::shared_ptr<const LlamaModel> model, AdamWConfig config) : model_(std::move(model)) {
  params_ = model_->NamedParameters();
  // Norm weights take no weight decay (as the Hugging Face trainer does); matrices do.
  std::vector<at::Tensor> decay, no_decay;
  for (auto& [name, p] : params_) {
    p.requires_grad_(true);
    (p.dim() >= 2 ? decay : no_decay).push_back(p);
  }
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(1e-3).betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(config.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  optimizer_ = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(1e-3));
}

Trainer::~Trainer() {
  // Leave the model usable for inference (no autograd bookkeeping on its weights).
  for (auto& [name, p] : params_) {
    p.mutable_grad() = at::Tensor();
    p.requires_grad_(false);
  }
}

double Trainer::MicroBatch(const at::Tensor& tokens, const TrainStepOptions& opts, double scale,
                           const JobControl* job, TrainStepResult& timing) {
  auto clock = std::chrono::steady_clock::now();
  const LocalBatch local = Local(tokens, opts, model_->device());
  ForwardOptions fwd = StepForwardOptions(opts);
  fwd.chunk = opts.chunk;
  fwd.naive = opts.naive;
  at::Tensor loss;
  {
    auto precision = ForwardPrecision(opts, model_->device());
    at::Tensor h = model_->Forward(local.inputs, local.positions, opts.rope, fwd, job);
    at::Tensor logits = at::linear(h.narrow(1, 0, local.rows), model_->LmHeadWeight()).to(at::kFloat);
    loss = SummedLoss(logits, local.targets) / local.count;
  }
  timing.forward_ms += Lap(clock);
  (loss * scale).backward();
  timing.backward_ms += Lap(clock);
  return loss.item<double>();
}

double Trainer::MicroBatchCheckpointed(const at::Tensor& tokens, const TrainStepOptions& opts, double scale,
                                       const JobControl* job, TrainStepResult& timing) {
  auto clock = std::chrono::steady_clock::now();
  // Per-layer activation checkpointing: a no-grad forward keeps only each layer's input; the
  // loss runs in token chunks, each backpropagated at once into the last hidden state; then
  // each layer is recomputed with grad from its saved input and backpropagated in reverse.
  const LocalBatch local = Local(tokens, opts, model_->device());
  const at::Tensor& positions = local.positions;
  const ForwardOptions fwd = StepForwardOptions(opts);
  std::vector<at::Tensor> inputs;
  at::Tensor x;
  {
    c10::NoGradGuard no_grad;
    auto precision = ForwardPrecision(opts, model_->device());
    x = model_->Embed(local.inputs);
    for (int64_t l = 0; l < model_->config().layers; ++l) {
      if (job) job->CheckCancelled();
      inputs.push_back(x.clone());
      x = model_->LayerForward(x, l, positions, opts.rope, job, fwd);
    }
  }
  timing.forward_ms += Lap(clock);
  at::Tensor last = x.detach().requires_grad_(true);
  const double count = local.count;
  double loss_sum = 0;
  for (int64_t c0 = 0; c0 < local.rows; c0 += opts.chunk) {
    const int64_t c = std::min(opts.chunk, local.rows - c0);
    at::Tensor loss;
    {
      auto precision = ForwardPrecision(opts, model_->device());
      at::Tensor logits = at::linear(model_->FinalNorm(last.narrow(1, c0, c)), model_->LmHeadWeight()).to(at::kFloat);
      loss = SummedLoss(logits, local.targets.narrow(1, c0, c));
    }
    timing.forward_ms += Lap(clock);
    (loss * (scale / count)).backward();
    timing.backward_ms += Lap(clock);
    loss_sum += loss.item<double>();
  }
  at::Tensor grad = last.grad();
  for (int64_t l = model_->config().layers - 1; l >= 0; --l) {
    if (job) job->CheckCancelled();
    at::Tensor in = inputs[l].requires_grad_(true);
    at::Tensor out;
    {
      auto precision = ForwardPrecision(opts, model_->device());
      out = model_->LayerForward(in, l, positions, opts.rope, job, fwd);
    }
    out.backward(grad);
    grad = in.grad();
    inputs[l] = at::Tensor();
  }
  model_->Embed(local.inputs).backward(grad);
  timing.backward_ms += Lap(clock);
  return loss_sum / count;
}

TrainStepResult Trainer::Step(const at::Tensor& tokens_in, const TrainStepOptions& opts, const JobControl* job) {
  TORCH_CHECK(tokens_in.dim() == 3 && tokens_in.size(2) >= 2, "training tokens must be [microBatches, batch, seq>=2]");
  TORCH_CHECK(!(opts.naive && opts.checkpointing), "the naive baseline runs without activation checkpointing");
  TORCH_CHECK(!(opts.naive && opts.comm), "sequence parallelism runs the fused path only (impl 'naive' is single-process)");
  TORCH_CHECK(!opts.comm || model_->config().sliding_window == 0,
              "sequence parallelism does not support a sliding window (", model_->config().sliding_window, ") yet");
  const at::Tensor tokens = tokens_in.to(model_->device());
  const int64_t micro = tokens.size(0);
  TORCH_CHECK(!opts.autocast || model_->dtype() == at::kFloat,
              "bf16 autocast needs float32 master weights, but the model was loaded as ", model_->dtype(),
              ": load it with dtype float32");
  at::AutoGradMode grad_mode(true);
  optimizer_->zero_grad();
  TrainStepResult result;
  for (int64_t m = 0; m < micro; ++m) {
    if (job) job->CheckCancelled();
    const double scale = 1.0 / static_cast<double>(micro);
    result.loss += (opts.checkpointing ? MicroBatchCheckpointed(tokens[m], opts, scale, job, result)
                                       : MicroBatch(tokens[m], opts, scale, job, result)) / micro;
    if (job) job->AddDone(1);
  }
  result.tokens = micro * tokens.size(1) * (tokens.size(2) - 1);
  auto clock = std::chrono::steady_clock::now();
  if (opts.comm) {
    // Each rank's loss and gradients cover its share of the tokens (and, through the ring
    // backward, what its keys and values gave the others): their sums are the whole step's.
    at::Tensor loss = at::full({1}, result.loss, at::TensorOptions().dtype(at::kDouble).device(opts.comm->device()));
    opts.comm->AllReduce(loss, ReduceOp::kSum);
    result.loss = loss.item<double>();
    for (auto& [name, p] : params_) {
      if (!p.grad().defined()) continue;
      at::Tensor g = p.grad().to(opts.comm->device());
      opts.comm->AllReduce(g, ReduceOp::kSum);
      if (!g.is_same(p.grad())) p.mutable_grad().copy_(g);
    }
    result.backward_ms += Lap(clock);
  }
  // Squared norms stay on the device; one .item() for all of them (not one host sync per tensor).
  std::vector<at::Tensor> squares;
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) squares.push_back(p.grad().to(at::kFloat).pow(2).sum());
  }
  result.grad_norm = squares.empty() ? 0.0 : std::sqrt(at::stack(squares).to(at::kDouble).sum().item<double>());
  TORCH_CHECK(std::isfinite(result.loss) && std::isfinite(result.grad_norm),
              "training diverged: loss ", result.loss, ", gradient norm ", result.grad_norm);
  if (opts.clip > 0 && result.grad_norm > opts.clip) {
    const double factor = opts.clip / (result.grad_norm + 1e-6);
    for (auto& [name, p] : params_) {
      if (p.grad().defined()) p.mutable_grad().mul_(factor);
    }
  }
  for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(opts.lr);
  {
    c10::NoGradGuard no_grad;
    optimizer_->step();
  }
  result.optimizer_ms = Lap(clock);
  ++step_;
  return result;
}

std::vector<std::pair<std::string, at::Tensor>> Trainer::OptimizerState() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  auto& state = optimizer_->state();
  for (const auto& [name, p] : params_) {
    auto it = state.find(StateKey(state, p));
    if (it == state.end()) continue;
    auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
    out.emplace_back("exp_avg." + name, s.exp_avg());
    out.emplace_back("exp_avg_sq." + name, s.exp_avg_sq());
  }
  return out;
}

int64_t Trainer::OptimizerStep() const { return step_; }

void Trainer::LoadOptimizerState(const NamedTensors& state, int64_t step) {
  auto& slots = optimizer_->state();
  slots.clear();
  for (const auto& [name, p] : params_) {
    auto avg = state.find("exp_avg." + name), sq = state.find("exp_avg_sq." + name);
    TORCH_CHECK(avg != state.end() && sq != state.end(), "optimizer state has no moments for ", name);
    TORCH_CHECK(avg->second.sizes() == p.sizes() && sq->second.sizes() == p.sizes(), "optimizer state for ", name,
                " has shape ", avg->second.sizes(), " but the parameter is ", p.sizes());
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step);
    s->exp_avg(avg->second.to(p.device(), p.scalar_type()).clone());
    s->exp_avg_sq(sq->second.to(p.device(), p.scalar_type()).clone());
    slots[StateKey(slots, p)] = std::move(s);
  }
  step_ = step;
}

}  // namespace longrope
