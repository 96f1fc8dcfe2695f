#include "attention/ring_attention.h"

#include <ATen/core/grad_mode.h>

#include <memory>

#include "attention/attention_tiled.h"

namespace longrope {
namespace {

void CheckRingInputs(const at::Tensor& q, const at::Tensor& k, const AttentionOptions& opts) {
  TORCH_CHECK(opts.sliding_window == 0, "ring attention does not support a sliding window (got ", opts.sliding_window,
              ")");
  TORCH_CHECK(opts.query_offset == 0, "ring attention takes no query offset (no KV cache)");
  TORCH_CHECK(q.dim() == 4 && q.size(1) % 2 == 0 && q.size(1) > 0,
              "ring attention expects q [B, 2c, H, D]: this rank's two zigzag chunks of c tokens, got ", q.sizes());
  TORCH_CHECK(k.size(1) == q.size(1), "ring attention: q has ", q.size(1), " tokens but k has ", k.size(1));
}

// [B, S, H, D] -> the grouped query layout [B*KV, G, S, D] (fp32) of g.
at::Tensor GroupQueries(const at::Tensor& t, const GroupedAttention& g) {
  return t.to(at::kFloat).view({g.batch, g.sq, g.kv_heads, g.group, g.d}).permute({0, 2, 3, 1, 4})
      .reshape({g.batch * g.kv_heads, g.group, g.sq, g.d});
}

// g's queries [q0, q0 + nq) against other keys and values (grouped [B*KV, Sk, D]).
GroupedAttention Block(const GroupedAttention& g, int64_t q0, int64_t nq, const at::Tensor& k, const at::Tensor& v) {
  GroupedAttention b = g;
  b.q = g.q.narrow(2, q0, nq);
  b.sq = nq;
  b.k = k;
  b.v = v;
  b.sk = k.size(1);
  return b;
}

// Folds a block's partial output into the running one: both are softmax-weighted averages over
// disjoint key sets, so the union's is their mix by exp(lse_part - lse_union).
void Merge(at::Tensor out, at::Tensor lse, const at::Tensor& block_out, const at::Tensor& block_lse) {
  at::Tensor merged = at::logaddexp(lse, block_lse);
  out.mul_((lse - merged).exp_().unsqueeze(-1)).add_(block_out * (block_lse - merged).exp_().unsqueeze(-1));
  lse.copy_(merged);
}

// One ring hop: send `tensor` to the next rank, receive the previous rank's into a new buffer.
struct Hop {
  at::Tensor received;
  std::unique_ptr<PendingOp> send, recv;

  Hop(Communicator& comm, at::Tensor& tensor, int tag) : received(at::empty_like(tensor)) {
    const int n = comm.size(), r = comm.rank();
    send = comm.Send(tensor, (r + 1) % n, tag);
    recv = comm.Recv(received, (r + n - 1) % n, tag);
  }
  at::Tensor Wait() {
    recv->Wait();
    send->Wait();
    return received;
  }
};

// What the ring's forward and backward both start from: the checked inputs grouped for the tiled
// kernels, the rank's place in the ring, the causal (own chunks) and full (earlier chunks) modes,
// and the chunk length c (each rank holds 2c tokens: chunks r and 2N-1-r).
struct RingStep {
  int n, r;
  AttentionOptions causal, full;
  GroupedAttention g;
  int64_t c;
};

RingStep SetUpRing(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const AttentionOptions& opts) {
  CheckRingInputs(q, k, opts);
  AttentionOptions causal = opts, full = opts;
  causal.causal = true;
  full.causal = false;
  GroupedAttention g = GroupAttentionInputs(q, k, v, causal);
  const int64_t c = g.sq / 2;
  return {comm.size(), comm.rank(), causal, full, std::move(g), c};
}

}  // namespace

RingForward RingAttentionForward(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionOptions& opts) {
  at::NoGradGuard no_grad;
  const auto [n, r, causal, full, g, c] = SetUpRing(comm, q, k, v, opts);
  at::Tensor cur = at::stack({g.k, g.v}).contiguous();  // [2, B*KV, 2c, D]: one message per hop
  std::unique_ptr<Hop> hop = n > 1 ? std::make_unique<Hop>(comm, cur, 0) : nullptr;
  at::Tensor lse;
  at::Tensor out = TiledAttentionForward(g, causal, nullptr, &lse);
  for (int s = 1; s < n; ++s) {
    cur = hop->Wait();
    hop = s + 1 < n ? std::make_unique<Hop>(comm, cur, s) : nullptr;  // next hop overlaps this compute
    const int j = (r - s + n) % n;
    at::Tensor block_lse;
    if (j < r) {
      const GroupedAttention b = Block(g, 0, 2 * c, cur[0].narrow(1, 0, c), cur[1].narrow(1, 0, c));
      at::Tensor block = TiledAttentionForward(b, full, nullptr, &block_lse);
      Merge(out, lse, block, block_lse);
    } else {
      const GroupedAttention b = Block(g, c, c, cur[0], cur[1]);
      at::Tensor block = TiledAttentionForward(b, full, nullptr, &block_lse);
      Merge(out.narrow(2, c, c), lse.narrow(2, c, c), block, block_lse);
    }
  }
  return {UngroupQueries(out, g, q.scalar_type()), lse};
}

RingGrads RingAttentionBackward(Communicator& comm, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const RingForward& fwd, const at::Tensor& grad_out, const AttentionOptions& opts) {
  at::NoGradGuard no_grad;
  const auto [n, r, causal, full, g, c] = SetUpRing(comm, q, k, v, opts);
  const at::Tensor d_out = GroupQueries(grad_out, g);
  const at::Tensor delta = (d_out * GroupQueries(fwd.out, g)).sum(-1);
  const at::Tensor& lse = fwd.lse;
  at::Tensor dq = at::zeros_like(g.q);
  at::Tensor cur = at::stack({g.k, g.v}).contiguous();
  at::Tensor dkv = at::zeros_like(cur);  // dK/dV of the K/V in `cur`, summed over the ranks it visited
  for (int s = 0; s < n; ++s) {
    std::unique_ptr<Hop> kv_hop = s + 1 < n ? std::make_unique<Hop>(comm, cur, 2 * s) : nullptr;
    const int j = (r - s + n) % n;
    if (s == 0) {
      const GroupedGrads d = TiledAttentionBackward(g, causal, d_out, delta, lse);
      dq.add_(d.dq);
      dkv[0].add_(d.dk);
      dkv[1].add_(d.dv);
    } else if (j < r) {
      const GroupedAttention b = Block(g, 0, 2 * c, cur[0].narrow(1, 0, c), cur[1].narrow(1, 0, c));
      const GroupedGrads d = TiledAttentionBackward(b, full, d_out, delta, lse);
      dq.add_(d.dq);
      dkv[0].narrow(1, 0, c).add_(d.dk);
      dkv[1].narrow(1, 0, c).add_(d.dv);
    } else {
      const GroupedAttention b = Block(g, c, c, cur[0], cur[1]);
      const GroupedGrads d =
          TiledAttentionBackward(b, full, d_out.narrow(2, c, c), delta.narrow(2, c, c), lse.narrow(2, c, c));
      dq.narrow(2, c, c).add_(d.dq);
      dkv[0].add_(d.dk);
      dkv[1].add_(d.dv);
    }
    // The accumulator follows its K/V one hop; after N hops each rank holds its own.
    if (n > 1) dkv = Hop(comm, dkv, 2 * s + 1).Wait();
    if (kv_hop) cur = kv_hop->Wait();
  }
  return {UngroupQueries(dq, g, q.scalar_type()), UngroupKeys(dkv[0], g, k.scalar_type()),
          UngroupKeys(dkv[1], g, v.scalar_type())};
}

}  // namespace longrope
