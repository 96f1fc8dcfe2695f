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

ZigzagShare ZigzagSplit(const at::Tensor& tokens, int n, int r) {
  const int64_t b = tokens.size(0), s = tokens.size(1);
  ZigzagShare z;
  z.chunk = (s + 2 * n - 1) / (2 * n);
  z.padded_len = 2 * n * z.chunk;
  at::Tensor padded = at::cat({tokens.to(at::kCPU, at::kLong), at::zeros({b, z.padded_len - s}, at::kLong)}, 1);
  // next[p] = the token row p predicts; nothing (-100, cross-entropy's ignore index) from the last real token on.
  at::Tensor next = at::cat({padded.narrow(1, 1, s - 1), at::full({b, z.padded_len - s + 1}, -100, at::kLong)}, 1);
  z.idx = ZigzagIndices(z.chunk, n, r);
  z.inputs = padded.index_select(1, z.idx);
  z.targets = next.index_select(1, z.idx);
  return z;
}

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
  const int n = comm.size();
  const ZigzagShare z = ZigzagSplit(tokens.unsqueeze(0), n, comm.rank());
  const int64_t c = z.chunk, padded_len = z.padded_len;
  opts.attention = [&comm](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& a) {
    return RingAttention(comm, q, k, v, a);
  };
  const at::Device device = model.device();
  at::Tensor h = model.Forward(z.inputs.to(device), (z.idx + position_offset).to(device), rope, opts, job)[0];  // [2c, hidden]
  // Local row i sits at position p = idx[i] and predicts token p + 1; rows with no target (-100)
  // score token 0 and are dropped below.
  at::Tensor targets = z.targets[0].clamp_min(0).to(device);
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
