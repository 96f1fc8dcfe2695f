#include "dist/sequence_parallel.h"

#include <ATen/core/grad_mode.h>

#include "attention/ring_attention.h"

namespace longrope {
namespace {

// Sequence indices of rank r's zigzag chunks (c tokens each) among 2N chunks.
at::Tensor ZigzagIndices(int64_t c, int n, int r) {
  return at::cat({at::arange(r * c, (r + 1) * c, at::kLong), at::arange((2 * n - 1 - r) * c, (2 * n - r) * c, at::kLong)});
}

}  // namespace

at::Tensor SequenceParallelNll(const LlamaModel& model, Communicator& comm, const at::Tensor& tokens,
                               int64_t position_offset, int64_t score_from, const RopeParams& rope, ForwardOptions opts,
                               const JobControl* job) {
  at::NoGradGuard no_grad;
  const int64_t s = tokens.size(0);
  TORCH_CHECK(s >= 2, "NLL needs at least 2 tokens, got ", s);
  TORCH_CHECK(score_from >= 1 && score_from < s, "scoreFrom must be in [1, ", s - 1, "], got ", score_from);
  TORCH_CHECK(!opts.naive, "sequence parallelism runs the fused path only (impl 'naive' is single-process)");
  TORCH_CHECK(model.config().sliding_window == 0, "sequence parallelism does not support a sliding window (",
              model.config().sliding_window, ") yet");
  const int n = comm.size(), r = comm.rank();
  const int64_t c = (s + 2 * n - 1) / (2 * n), padded_len = 2 * n * c;
  at::Tensor padded = at::cat({tokens.to(at::kLong), at::zeros({padded_len - s}, at::kLong)});
  const at::Tensor idx = ZigzagIndices(c, n, r);
  opts.attention = [&comm](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& a) {
    return RingAttentionForward(comm, q, k, v, a).out;
  };
  const at::Device device = model.device();
  at::Tensor h = model.Forward(padded.index_select(0, idx).unsqueeze(0).to(device), (idx + position_offset).to(device),
                               rope, opts, job)[0];  // [2c, hidden]
  // Local row i sits at position p = idx[i] and predicts token p + 1 (the last row predicts padding).
  at::Tensor targets = padded.index_select(0, (idx + 1).clamp_max(padded_len - 1)).to(device);
  at::Tensor nll = at::empty({2 * c}, at::TensorOptions().dtype(at::kFloat).device(device));
  for (int64_t r0 = 0; r0 < 2 * c; r0 += opts.chunk) {
    const int64_t rows = std::min(opts.chunk, 2 * c - r0);
    at::Tensor logits = at::linear(h.narrow(0, r0, rows), model.LmHeadWeight()).to(at::kFloat);
    nll.narrow(0, r0, rows).copy_(at::logsumexp(logits, -1) - logits.gather(1, targets.narrow(0, r0, rows).unsqueeze(1)).squeeze(1));
  }
  // Every rank's rows, back in sequence order: full[p] = NLL of token p + 1.
  at::Tensor gathered = comm.AllGather(nll.to(comm.device())).to(at::kCPU);  // [N, 2c]
  at::Tensor full = at::empty({padded_len}, at::kFloat);
  for (int j = 0; j < n; ++j) full.index_copy_(0, ZigzagIndices(c, n, j), gathered[j]);
  if (job) job->AddDone(1);
  return full.narrow(0, score_from - 1, s - score_from).clone();
}

}  // namespace longrope
