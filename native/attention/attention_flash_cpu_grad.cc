// Backward of the AVX2/AVX-512 attention (attention_flash_cpu.cc): FlashAttention-2's recurrence
// on our own micro-kernels (attention_flash_simd.h) instead of ATen/BLAS calls per tile.
// Probabilities are recomputed per tile from the forward's log-sum-exp, never stored:
//   P = exp(S - lse), dV += P^T dO, dP = dO V^T, dS = P * (dP - D) with D = rowsum(dO * O),
//   dQ += scale * dS K, dK += scale * dS^T Q.
// One task owns a (batch row, KV head) and a run of 64-key tiles: per tile it packs K and V once
// into panels, keeps dK and dV of those keys in L1 while every query head of the GQA group and
// every query block that sees them pass by (causal blocks above the diagonal, and blocks outside
// a sliding window, are skipped), then stores them: no atomics and no reduction for dK/dV. dQ rows
// are shared by all key tiles: with at least as many (batch, KV head) pairs as threads (the
// training shapes) a task takes all key tiles of its pair and owns its dQ too; with fewer, tasks
// are single key tiles (largest first) and each thread accumulates dQ in its own buffer, summed
// at the end. Works in the model's [B, S, H, D] layout (training) and in the grouped
// [B*KV, G, S, D] one (ring attention's blocks), both read through strides, no copies.
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "attention/attention_flash.h"
#include "attention/attention_flash_simd.h"

namespace longrope {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
namespace {

using namespace simd;  // NOLINT: the vector helpers and micro-kernels (attention_flash_simd.h)

constexpr int64_t kKeyTile = 64;    // keys per step: packed K, V and the dK, dV accumulators (4 x 16 KiB at D = 64)
constexpr int64_t kQueryTile = 60;  // query rows per step: 10 or 5 full micro-tiles; score tiles [60][64]

// Rows of one head in a strided tensor: row 0 of (batch b, KV head kvh, group member g) and the
// row stride, so the model's [B, S, H, D] and the grouped [B*KV, G, S, D] layouts read alike.
struct HeadRows {
  float* p;
  int64_t sb, skv, sg, srow;
  float* At(int64_t b, int64_t kvh, int64_t g) const { return p + b * sb + kvh * skv + g * sg; }
};

struct GradArgs {
  int64_t batch, sq, sk, kv_heads, group, d, panel;
  float scale;
  HeadRows q, k, v, dout, lse, delta, dk, dv;
};

// The queries [first, second) that see at least one key of [k0, k0 + tk).
std::pair<int64_t, int64_t> QueriesSeeing(const GradArgs& a, const AttentionOptions& o, int64_t k0, int64_t tk) {
  if (!o.causal) return {0, a.sq};
  const int64_t begin = std::clamp<int64_t>(k0 - o.query_offset, 0, a.sq);
  const int64_t end = o.sliding_window > 0
                          ? std::clamp<int64_t>(k0 + tk - 1 + o.sliding_window - o.query_offset, begin, a.sq)
                          : a.sq;
  return {begin, end};
}

// rows [tk][d] (row stride ld) -> panels [cols / w][d][w], keys past tk zero.
LONGROPE_INLINE void PackPanels(const float* rows, int64_t ld, int64_t tk, int64_t cols, int64_t d, int64_t w,
                                float* panels) {
  for (int64_t j = 0; j < cols; ++j) {
    float* dst = panels + (j / w) * d * w + j % w;
    if (j < tk) {
      const float* src = rows + j * ld;
      for (int64_t x = 0; x < d; ++x) dst[x * w] = src[x];
    } else {
      for (int64_t x = 0; x < d; ++x) dst[x * w] = 0.0f;
    }
  }
}

// One task: key tiles [kt_begin, kt_end) of batch row b, KV head kvh; dQ accumulates into `dq`.
template <class V>
LONGROPE_INLINE void BackwardKeyTiles(const GradArgs& a, const AttentionOptions& o, int64_t b, int64_t kvh,
                                      int64_t kt_begin, int64_t kt_end, const HeadRows& dq, float* scratch) {
  constexpr int L = Isa<V>::kLanes;
  const int64_t d = a.d, w = a.panel, ldt = kKeyTile;
  float* kpanels = scratch;
  float* vpanels = kpanels + kKeyTile * d;
  float* s = vpanels + kKeyTile * d;  // scores, then P
  float* ds = s + kQueryTile * ldt;   // dP, then dS (scaled)
  float* dk_acc = ds + kQueryTile * ldt;
  float* dv_acc = dk_acc + kKeyTile * d;
  const float* krows = a.k.At(b, kvh, 0);
  const float* vrows = a.v.At(b, kvh, 0);
  const V scale = Splat<V>(a.scale);
  for (int64_t kt = kt_begin; kt < kt_end; ++kt) {
    const int64_t k0 = kt * kKeyTile, tk = std::min(kKeyTile, a.sk - k0);
    const int64_t panel_count = (tk + w - 1) / w, cols = panel_count * w;
    PackPanels(krows + k0 * a.k.srow, a.k.srow, tk, cols, d, w, kpanels);
    PackPanels(vrows + k0 * a.v.srow, a.v.srow, tk, cols, d, w, vpanels);
    std::fill(dk_acc, dk_acc + tk * d, 0.0f);
    std::fill(dv_acc, dv_acc + tk * d, 0.0f);
    const auto [q_begin, q_end] = QueriesSeeing(a, o, k0, tk);
    for (int64_t g = 0; g < a.group; ++g) {
      const float* qrows = a.q.At(b, kvh, g);
      const float* dorows = a.dout.At(b, kvh, g);
      const float* lse = a.lse.At(b, kvh, g);
      const float* delta = a.delta.At(b, kvh, g);
      float* dqrows = dq.At(b, kvh, g);
      for (int64_t q0 = q_begin; q0 < q_end; q0 += kQueryTile) {
        const int64_t tq = std::min(kQueryTile, q_end - q0);
        const float* qb = qrows + q0 * a.q.srow;
        const float* dob = dorows + q0 * a.dout.srow;
        ScoresAll<V>(tq, qb, a.q.srow, kpanels, panel_count, d, a.scale, s, ldt);
        ScoresAll<V>(tq, dob, a.dout.srow, vpanels, panel_count, d, 1.0f, ds, ldt);
        for (int64_t i = 0; i < tq; ++i) {
          const int64_t row = q0 + i, abs_q = o.query_offset + row;
          int64_t lo = 0, hi = tk;  // visible columns of this row
          if (o.causal) {
            hi = std::clamp<int64_t>(abs_q - k0 + 1, 0, tk);
            if (o.sliding_window > 0) lo = std::clamp<int64_t>(abs_q - o.sliding_window + 1 - k0, 0, tk);
          }
          float* pr = s + i * ldt;
          float* dr = ds + i * ldt;
          const V lse_i = Splat<V>(lse[row * a.lse.srow]), delta_i = Splat<V>(delta[row * a.delta.srow]);
          for (int64_t c = 0; c < cols; c += L) Store<V>(pr + c, Exp(Load<V>(pr + c) - lse_i));
          std::fill(pr, pr + std::min(lo, cols), 0.0f);
          std::fill(pr + std::max(lo, hi), pr + cols, 0.0f);
          for (int64_t c = 0; c < cols; c += L) {
            Store<V>(dr + c, Load<V>(pr + c) * (Load<V>(dr + c) - delta_i) * scale);
          }
        }
        AccumulateAll<V, true>(tk, s, ldt, dob, a.dout.srow, d, tq, dv_acc, d);               // dV += P^T dO
        AccumulateAll<V, true>(tk, ds, ldt, qb, a.q.srow, d, tq, dk_acc, d);                  // dK += dS^T Q
        AccumulateAll<V, false>(tq, ds, ldt, krows + k0 * a.k.srow, a.k.srow, d, tk,          // dQ += dS K
                                dqrows + q0 * dq.srow, dq.srow);
      }
    }
    float* dk = a.dk.At(b, kvh, 0) + k0 * a.dk.srow;
    float* dv = a.dv.At(b, kvh, 0) + k0 * a.dv.srow;
    for (int64_t j = 0; j < tk; ++j) {
      std::copy(dk_acc + j * d, dk_acc + (j + 1) * d, dk + j * a.dk.srow);
      std::copy(dv_acc + j * d, dv_acc + (j + 1) * d, dv + j * a.dv.srow);
    }
  }
}

__attribute__((target("avx2,fma"))) void BackwardKeyTilesAvx2(const GradArgs& a, const AttentionOptions& o, int64_t b,
                                                              int64_t kvh, int64_t kt_begin, int64_t kt_end,
                                                              const HeadRows& dq, float* scratch) {
  BackwardKeyTiles<v8>(a, o, b, kvh, kt_begin, kt_end, dq, scratch);
}
__attribute__((target("avx512f"))) void BackwardKeyTilesAvx512(const GradArgs& a, const AttentionOptions& o, int64_t b,
                                                               int64_t kvh, int64_t kt_begin, int64_t kt_end,
                                                               const HeadRows& dq, float* scratch) {
  BackwardKeyTiles<v16>(a, o, b, kvh, kt_begin, kt_end, dq, scratch);
}

// fp32 with contiguous rows (the kernels read whole rows).
at::Tensor Rowwise(const at::Tensor& t) {
  at::Tensor f = t.scalar_type() == at::kFloat ? t : t.to(at::kFloat);
  return f.stride(-1) == 1 ? f : f.contiguous();
}

// Per-query tensors ([.., D] rows or [..] scalars): the model's layout [B, S, H(, D)] or the
// grouped [B*KV, G, S(, D)]. Per-key tensors: [B, Sk, KV, D] or [B*KV, Sk, D].
HeadRows QueryRows(const at::Tensor& t, bool grouped, int64_t kv, int64_t group) {
  if (grouped) return {t.data_ptr<float>(), kv * t.stride(0), t.stride(0), t.stride(1), t.stride(2)};
  return {t.data_ptr<float>(), t.stride(0), group * t.stride(2), t.stride(2), t.stride(1)};
}
HeadRows ScalarRows(const at::Tensor& t, bool grouped, int64_t kv, int64_t group) {  // [B, H, S] or [B*KV, G, S]
  if (grouped) return {t.data_ptr<float>(), kv * t.stride(0), t.stride(0), t.stride(1), t.stride(2)};
  return {t.data_ptr<float>(), t.stride(0), group * t.stride(1), t.stride(1), t.stride(2)};
}
HeadRows KeyRows(const at::Tensor& t, bool grouped, int64_t kv) {
  if (grouped) return {t.data_ptr<float>(), kv * t.stride(0), t.stride(0), 0, t.stride(1)};
  return {t.data_ptr<float>(), t.stride(0), t.stride(2), 0, t.stride(1)};
}

// Runs the tasks over the intra-op threads; dq must be zero, dk and dv are fully written.
void RunBackward(const GradArgs& a, const AttentionOptions& o, at::Tensor dq, bool grouped, bool wide) {
  const int64_t threads = at::get_num_threads(), pairs = a.batch * a.kv_heads;
  const int64_t tiles = (a.sk + kKeyTile - 1) / kKeyTile;
  const bool per_pair = threads == 1 || pairs % threads == 0 || pairs >= 4 * threads;
  struct Task {
    int64_t pair, kt_begin, kt_end, work;
  };
  std::vector<Task> tasks;
  if (per_pair) {
    for (int64_t p = 0; p < pairs; ++p) tasks.push_back({p, 0, tiles, 0});
  } else {
    for (int64_t kt = 0; kt < tiles; ++kt) {
      const auto [q_begin, q_end] = QueriesSeeing(a, o, kt * kKeyTile, std::min(kKeyTile, a.sk - kt * kKeyTile));
      for (int64_t p = 0; p < pairs; ++p) tasks.push_back({p, kt, kt + 1, q_end - q_begin});
    }
    std::stable_sort(tasks.begin(), tasks.end(), [](const Task& x, const Task& y) { return x.work > y.work; });
  }
  // dQ targets per worker: dq itself, or one zeroed buffer per worker when key tiles of a pair
  // run on different threads.
  at::Tensor buffers;
  std::vector<HeadRows> targets(static_cast<size_t>(threads), QueryRows(dq, grouped, a.kv_heads, a.group));
  if (!per_pair) {
    std::vector<int64_t> shape{threads};
    for (int64_t n : dq.sizes()) shape.push_back(n);
    buffers = at::zeros(shape, dq.options());
    for (int64_t t = 0; t < threads; ++t) targets[t] = QueryRows(buffers[t], grouped, a.kv_heads, a.group);
  }
  std::atomic<size_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t wb, int64_t we) {
    std::vector<float> scratch(static_cast<size_t>(4 * kKeyTile * a.d + 2 * kQueryTile * kKeyTile));
    for (int64_t w = wb; w < we; ++w) {
      for (size_t t = next.fetch_add(1); t < tasks.size(); t = next.fetch_add(1)) {
        const Task& task = tasks[t];
        (wide ? BackwardKeyTilesAvx512 : BackwardKeyTilesAvx2)(a, o, task.pair / a.kv_heads, task.pair % a.kv_heads,
                                                              task.kt_begin, task.kt_end, targets[w], scratch.data());
      }
    }
  });
  if (!per_pair) at::sum_out(dq, buffers, {0});
}

// The shared entry of both layouts; q, dq: per-query rows, k, v, dk, dv: per-key rows.
FlashGrads Backward(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const at::Tensor& dout_in,
                    const at::Tensor& lse_in, const at::Tensor& delta_in, const AttentionOptions& o, bool grouped,
                    int64_t batch, int64_t sq, int64_t sk, int64_t kv_heads, int64_t group, int64_t d) {
  TORCH_CHECK(d % 8 == 0 && CpuHasAvx2Fma(), "the AVX attention backward needs AVX2 + FMA and head_dim % 8 == 0");
  TORCH_CHECK(!o.causal || sk == o.query_offset + sq, "keys (", sk, ") must be the ", o.query_offset, " past plus ", sq,
              " new");
  const at::Tensor q = Rowwise(q_in), k = Rowwise(k_in), v = Rowwise(v_in), dout = Rowwise(dout_in),
                   lse = Rowwise(lse_in), delta = Rowwise(delta_in);
  const bool wide = CpuHasAvx512() && d % 16 == 0;
  at::Tensor dq = at::zeros(q.sizes(), q.options()), dk = at::empty(k.sizes(), k.options()),
             dv = at::empty(v.sizes(), v.options());
  GradArgs a{batch, sq, sk, kv_heads, group, d, wide ? 32 : 16,
             static_cast<float>(o.scale > 0 ? o.scale : 1.0 / std::sqrt(static_cast<double>(d))),
             QueryRows(q, grouped, kv_heads, group), KeyRows(k, grouped, kv_heads), KeyRows(v, grouped, kv_heads),
             QueryRows(dout, grouped, kv_heads, group), ScalarRows(lse, grouped, kv_heads, group),
             ScalarRows(delta, grouped, kv_heads, group), KeyRows(dk, grouped, kv_heads),
             KeyRows(dv, grouped, kv_heads)};
  RunBackward(a, o, dq, grouped, wide);
  return {dq, dk, dv};
}

}  // namespace

FlashGrads FlashAttentionCpuBackward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const at::Tensor& d_out, const at::Tensor& lse, const at::Tensor& delta,
                                     const AttentionOptions& opts) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() && d_out.sizes() == q.sizes() &&
                  q.size(2) % k.size(2) == 0,
              "attention backward expects q = dO [B, S, H, D] and k = v [B, Sk, KV, D], got q ", q.sizes(), ", k ",
              k.sizes(), ", dO ", d_out.sizes());
  const int64_t kv = k.size(2);
  return Backward(q, k, v, d_out, lse, delta, opts, false, q.size(0), q.size(1), k.size(1), kv, q.size(2) / kv,
                  q.size(3));
}

GroupedGrads FlashAttentionCpuBackwardGrouped(const GroupedAttention& g, const AttentionOptions& opts,
                                              const at::Tensor& d_out, const at::Tensor& delta, const at::Tensor& lse) {
  const FlashGrads r = Backward(g.q, g.k, g.v, d_out, lse, delta, opts, true, g.batch, g.sq, g.sk, g.kv_heads, g.group,
                                g.d);
  return {r.dq, r.dk, r.dv};
}

#else  // not x86-64 with GCC: callers use the ATen tiles

FlashGrads FlashAttentionCpuBackward(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                     const at::Tensor&, const at::Tensor&, const AttentionOptions&) {
  TORCH_CHECK(false, "FlashAttentionCpuBackward is built only for x86-64");
}
GroupedGrads FlashAttentionCpuBackwardGrouped(const GroupedAttention&, const AttentionOptions&, const at::Tensor&,
                                              const at::Tensor&, const at::Tensor&) {
  TORCH_CHECK(false, "FlashAttentionCpuBackward is built only for x86-64");
}

#endif

}  // namespace longrope
