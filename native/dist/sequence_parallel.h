// Sequence-parallel NLL: one long sequence over the ranks of a group. Each rank runs the model
// on its zigzag chunks (attention/ring_attention.h) at their true positions (RoPE, nHat and all),
// scores the tokens its rows predict, and the per-token NLLs are gathered, so every rank returns
// exactly what LlamaModel::Nll returns for the whole sequence in one process.
#pragma once

#include <ATen/ATen.h>

#include "dist/communicator.h"
#include "model/llama.h"

namespace longrope {

// Rank r's share of sequences [B, S] among N ranks in the zigzag layout: S padded at the end to
// 2N * chunk tokens (padding comes after every real token, so causality keeps it out of their
// results), rank r holding chunks r and 2N-1-r. Tensors on the CPU.
struct ZigzagShare {
  at::Tensor idx;      // [2 * chunk] int64: sequence index of each local row
  at::Tensor inputs;   // [B, 2 * chunk] the tokens at those indices
  at::Tensor targets;  // [B, 2 * chunk] the token each row predicts (index + 1); -100 past the last real one
  int64_t chunk = 0, padded_len = 0;
};
ZigzagShare ZigzagSplit(const at::Tensor& tokens, int n, int r);

// tokens: [S] int64, the whole sequence, identical on every rank. S is padded at the end to a
// multiple of 2N (padding comes after every real token, so causality keeps it out of their
// results). Returns [S - score_from] float32 on every rank.
at::Tensor SequenceParallelNll(const LlamaModel& model, Communicator& comm, const at::Tensor& tokens,
                               int64_t position_offset, int64_t score_from, const RopeParams& rope, ForwardOptions opts,
                               const JobControl* job);

}  // namespace longrope
