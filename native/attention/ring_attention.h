// Ring attention over a process group, zigzag layout (as in ring-flash-attention): the sequence
// is cut into 2N equal chunks and rank r holds chunks r and 2N-1-r, concatenated, so every rank
// does the same causal work. K/V travel around the ring (rank r sends to r+1, receives from r-1),
// the transfer of step s+1 posted before the compute of step s. Partial outputs merge by their
// log-sum-exp. Per step, with the K/V of rank j:
//   j == r: causal attention over the 2c local tokens (they are in position order);
//   j <  r: both local query chunks see j's first chunk whole, neither sees its second;
//   j >  r: only the local second chunk sees anything of j, and it sees both of j's chunks whole.
// The backward recomputes each block from the final log-sum-exp (attention_tiled.h); dK/dV
// accumulators travel with K/V and reach their owner after N hops.
#pragma once

#include <ATen/ATen.h>

#include "attention/attention.h"
#include "dist/communicator.h"

namespace longrope {

struct RingForward {
  at::Tensor out;  // [B, 2c, H, D] in q's dtype
  at::Tensor lse;  // [B*KV, G, 2c] float32 (the grouped layout of attention_tiled.h)
};

struct RingGrads {
  at::Tensor dq, dk, dv;  // shaped like q, k, v
};

// q: [B, 2c, H, D], k/v: [B, 2c, KV, D], this rank's zigzag chunks. Every rank calls it together.
// opts: scale and tile; causal attention only, no sliding window, no query offset (checked).
RingForward RingAttentionForward(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionOptions& opts);

// Gradients of sum(out * grad_out) for this rank's q, k, v, given the forward's out and lse.
RingGrads RingAttentionBackward(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const RingForward& fwd, const at::Tensor& grad_out, const AttentionOptions& opts);

// Forward only without autograd; with grad enabled and an input requiring it, an autograd
// function whose backward is RingAttentionBackward (ring_attention_grad.cc). Every rank calls
// it together, forward and (through the step's backward) backward.
at::Tensor RingAttention(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                         const AttentionOptions& opts);

}  // namespace longrope
