// Internals shared by the tiled CPU attention's forward (inference) and its autograd function
// (training): the grouped layout and the forward that also returns each row's log-sum-exp.
#pragma once

#include <ATen/ATen.h>

#include "attention/attention.h"

namespace longrope {

// GQA-grouped views: q [B, S, KV*G, D] -> [B*KV, G, S, D]; k/v [B, Sk, KV, D] -> [B*KV, Sk, D]; fp32.
struct GroupedAttention {
  int64_t batch, sq, sk, heads, kv_heads, group, d;
  double scale;
  at::Tensor q, k, v;
};

GroupedAttention GroupAttentionInputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const AttentionOptions& opts);
// [B*KV, G, S, D] -> [B, S, H, D] in `dtype`.
at::Tensor UngroupQueries(const at::Tensor& grouped, const GroupedAttention& g, at::ScalarType dtype);
// [B*KV, Sk, D] -> [B, Sk, KV, D] in `dtype`.
at::Tensor UngroupKeys(const at::Tensor& grouped, const GroupedAttention& g, at::ScalarType dtype);

// The key blocks query block [q0, q0 + tq) can see: [first, end) aligned to the tile, and
// whether block k0 needs a mask (straddles the diagonal or the window edge). Non-causal: all `sk`.
struct KeyRange {
  int64_t first, end;
};
KeyRange VisibleKeys(int64_t q0, int64_t tq, int64_t tile, const AttentionOptions& opts, int64_t sk);
// Sets hidden scores to -inf in place: scores viewed as [bk, G, tq, tk].
void MaskBlock(at::Tensor& scores, const GroupedAttention& g, int64_t q0, int64_t tq, int64_t k0, int64_t tk,
               const AttentionOptions& opts);

// Tiled online-softmax forward. Returns the output [B*KV, G, S, D]; fills lse [B*KV, G, S] when
// given (the backward recomputes probabilities from it).
at::Tensor TiledAttentionForward(const GroupedAttention& g, const AttentionOptions& opts, const JobControl* job,
                                 at::Tensor* lse);

// Training: the same forward as an autograd function whose backward is tiled too (FlashAttention-2
// style recomputation from the saved log-sum-exp): O(seq) memory, causal blocks skipped.
// The tiled backward from a saved log-sum-exp `lse` [B*KV, G, S] and delta = rowsum(dO * O)
// [B*KV, G, S], dO grouped [B*KV, G, S, D]: returns dq, dk, dv in the grouped layout. With `lse`
// and `delta` of the whole attention, it gives one block's share (ring attention's backward).
struct GroupedGrads {
  at::Tensor dq, dk, dv;
};
GroupedGrads TiledAttentionBackward(const GroupedAttention& g, const AttentionOptions& opts, const at::Tensor& d_out,
                                    const at::Tensor& delta, const at::Tensor& lse);

at::Tensor CausalAttentionTiledTrain(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const AttentionOptions& opts);

}  // namespace longrope
