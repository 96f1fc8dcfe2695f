// Causal attention on x86-64 CPUs with AVX2 + FMA (or AVX-512): FlashAttention's online softmax with our own
// register-blocked micro-kernels instead of BLAS calls per tile. Why not BLAS tiles: with a head
// size of 64, every tile product is a thin GEMM (k = 64) that BLAS runs far below its peak, and the
// softmax between the two products made several passes over memory through separate ATen ops.
// Here one task (a batch row, a query head and a block of queries) keeps its score tile, running
// max/sum and output accumulator in L1/L2 from the first key block to the last; tasks are spread
// over the intra-op threads largest first (causal rows differ in length), so no nested BLAS
// threading and no idle core at the end. Blocks above the diagonal (or outside the sliding window)
// are never visited. K is packed once per call into 16-key panels [D][16] (the score kernel reads
// them as consecutive lines), V once into [Sk, D] rows; Q and the output are read and written in
// place in the model's [B, S, H, D] layout. GQA: query heads of a group read their K/V head.
// The vectors are GCC vector extensions compiled twice through target attributes, for AVX2 +
// FMA (8 floats) and AVX-512 (16 floats, used where the CPU has it and head_dim % 16 == 0), so the
// rest of the addon keeps the default target; FlashAttentionCpuAvailable() checks the CPU.
#include "attention/attention_flash.h"
#include "attention/attention_flash_simd.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace longrope {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)  // __builtin_shuffle is GCC's
namespace {

using namespace simd;  // NOLINT: the vector helpers and micro-kernels (attention_flash_simd.h)

constexpr int64_t kPvChunk = 64;   // keys per P V pass: 64 V rows of D = 64 are 16 KiB, a third of L1
constexpr int64_t kQueryRows = 60;  // queries per task: 10 or 5 full micro-tiles

struct Shapes {
  int64_t batch, sq, sk, heads, kv_heads, group, d;
  int64_t q_sb, q_ss, q_sh;  // q strides: batch, seq, head (last dim contiguous)
  int64_t panel;             // keys per packed K panel (2 vectors)
  int64_t panels;            // panels per KV head (sk rounded up)
  float scale;
};

// One task: batch row b, query head h, queries [q0, q0 + tq). Writes out rows (and lse).
template <class V>
LONGROPE_INLINE void AttendBlock(const Shapes& sh, const AttentionOptions& opts, const float* q, const float* kpack,
                                 const float* vpack, float* out, float* lse, int64_t b, int64_t h, int64_t q0,
                                 int64_t tq, int64_t tile, float* scratch) {
  constexpr int L = Isa<V>::kLanes;
  const int64_t d = sh.d, lds = tile, W = sh.panel;
  float* s = scratch;
  float* acc = s + tq * lds;
  float* m = acc + tq * d;
  float* l = m + tq;
  std::fill(acc, acc + tq * d, 0.0f);
  std::fill(m, m + tq, kNegInf);
  std::fill(l, l + tq, 0.0f);
  const int64_t kvh = b * sh.kv_heads + h / sh.group;
  const float* panels = kpack + kvh * sh.panels * d * W;
  const float* vrows = vpack + kvh * sh.sk * d;
  const float* qrows = q + b * sh.q_sb + q0 * sh.q_ss + h * sh.q_sh;
  const int64_t first_q = opts.query_offset + q0;
  const int64_t first_k = opts.sliding_window > 0 ? std::max<int64_t>(0, first_q - opts.sliding_window + 1) : 0;
  const int64_t end_k = first_q + tq;  // exclusive: the last query sees keys up to first_q + tq - 1
  for (int64_t k0 = first_k - first_k % tile; k0 < end_k; k0 += tile) {
    const int64_t tk = std::min(tile, end_k - k0);
    const int64_t panel_count = (tk + W - 1) / W, cols = panel_count * W;
    const float* kp = panels + (k0 / W) * d * W;
    ScoresAll<V>(tq, qrows, sh.q_ss, kp, panel_count, d, sh.scale, s, lds);
    // Online softmax, row by row: hide keys outside [lo, hi], rescale the running sums.
    for (int64_t i = 0; i < tq; ++i) {
      float* row = s + i * lds;
      const int64_t abs_q = first_q + i;
      const int64_t lo = opts.sliding_window > 0 ? abs_q - opts.sliding_window + 1 : 0;
      const int64_t vis_begin = std::clamp<int64_t>(lo - k0, 0, cols), vis_end = std::clamp<int64_t>(abs_q - k0 + 1, 0, cols);
      std::fill(row, row + vis_begin, kNegInf);
      std::fill(row + std::max(vis_begin, vis_end), row + cols, kNegInf);
      if (vis_begin >= vis_end) {
        std::fill(row, row + cols, 0.0f);  // nothing visible in this block: p = 0
        continue;
      }
      V mv = Splat<V>(kNegInf);
      for (int64_t c = 0; c < cols; c += L) {
        const V x = Load<V>(row + c);
        mv = x > mv ? x : mv;
      }
      const float m_new = std::max(m[i], MaxOf(mv));  // finite: at least one key is visible
      const float correction = std::exp(m[i] - m_new);  // 0 when m[i] = -inf
      const V mn = Splat<V>(m_new);
      V sum = V{};
      for (int64_t c = 0; c < cols; c += L) {
        const V p = Exp(Load<V>(row + c) - mn);
        Store<V>(row + c, p);
        sum += p;
      }
      l[i] = l[i] * correction + SumOf(sum);
      m[i] = m_new;
      if (correction != 1.0f) {
        float* o = acc + i * d;
        for (int64_t x = 0; x < d; ++x) o[x] *= correction;
      }
    }
    // P V in chunks of keys whose V rows stay in L1 while every row group passes over them.
    for (int64_t j0 = 0; j0 < tk; j0 += kPvChunk) {
      const float* vp = vrows + (k0 + j0) * d;
      const int64_t tj = std::min(kPvChunk, tk - j0);
      AccumulateAll<V, false>(tq, s + j0, lds, vp, d, d, tj, acc, d);
    }
  }
  // Output rows in the [B, S, H, D] layout; lse in [B, H, S].
  for (int64_t i = 0; i < tq; ++i) {
    float* o = out + ((b * sh.sq + q0 + i) * sh.heads + h) * d;
    const float inv = 1.0f / l[i];
    for (int64_t x = 0; x < d; ++x) o[x] = acc[i * d + x] * inv;
    if (lse) lse[(b * sh.heads + h) * sh.sq + q0 + i] = m[i] + std::log(l[i]);
  }
}

// The two compiled versions of a task.
__attribute__((target("avx2,fma"))) void AttendBlockAvx2(const Shapes& sh, const AttentionOptions& opts,
                                                         const float* q, const float* kpack, const float* vpack,
                                                         float* out, float* lse, int64_t b, int64_t h, int64_t q0,
                                                         int64_t tq, int64_t tile, float* scratch) {
  AttendBlock<v8>(sh, opts, q, kpack, vpack, out, lse, b, h, q0, tq, tile, scratch);
}
__attribute__((target("avx512f"))) void AttendBlockAvx512(const Shapes& sh, const AttentionOptions& opts,
                                                          const float* q, const float* kpack, const float* vpack,
                                                          float* out, float* lse, int64_t b, int64_t h, int64_t q0,
                                                          int64_t tq, int64_t tile, float* scratch) {
  AttendBlock<v16>(sh, opts, q, kpack, vpack, out, lse, b, h, q0, tq, tile, scratch);
}

// K [B, Sk, KV, D] (any strides, last dim contiguous) -> panels [B*KV][Sk/W][D][W], zero-padded.
void PackKeys(const at::Tensor& k, const Shapes& sh, float* dst) {
  const float* src = k.data_ptr<float>();
  const int64_t sb = k.stride(0), ss = k.stride(1), sh_ = k.stride(2), d = sh.d;
  at::parallel_for(0, sh.batch * sh.kv_heads * sh.panels, 16, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t kvh = t / sh.panels, pnl = t % sh.panels, b = kvh / sh.kv_heads, hh = kvh % sh.kv_heads;
      const int64_t w = sh.panel;
      float* p = dst + t * d * w;
      for (int64_t c = 0; c < w; ++c) {
        const int64_t j = pnl * w + c;
        const float* row = j < sh.sk ? src + b * sb + j * ss + hh * sh_ : nullptr;
        for (int64_t x = 0; x < d; ++x) p[x * w + c] = row ? row[x] : 0.0f;
      }
    }
  });
}

// V [B, Sk, KV, D] -> [B*KV][Sk][D].
void PackValues(const at::Tensor& v, const Shapes& sh, float* dst) {
  const float* src = v.data_ptr<float>();
  const int64_t sb = v.stride(0), ss = v.stride(1), sh_ = v.stride(2), d = sh.d;
  at::parallel_for(0, sh.batch * sh.kv_heads * sh.sk, 256, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t kvh = t / sh.sk, j = t % sh.sk, b = kvh / sh.kv_heads, hh = kvh % sh.kv_heads;
      std::memcpy(dst + t * d, src + b * sb + j * ss + hh * sh_, sizeof(float) * d);
    }
  });
}

}  // namespace

bool FlashAttentionCpuAvailable(const at::Tensor& q) {
  return q.device().is_cpu() && q.size(3) % 8 == 0 && CpuHasAvx2Fma();
}

at::Tensor FlashAttentionCpu(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
                             const AttentionOptions& opts, const JobControl* job, at::Tensor* lse, bool avx512) {
  TORCH_CHECK(q_in.dim() == 4 && k_in.dim() == 4 && v_in.dim() == 4, "attention expects [B, S, heads, D] tensors");
  TORCH_CHECK(FlashAttentionCpuAvailable(q_in), "FlashAttentionCpu needs a CPU with AVX2 and FMA and head_dim % 8 == 0");
  auto as_float = [](const at::Tensor& t) {
    at::Tensor f = t.scalar_type() == at::kFloat ? t : t.to(at::kFloat);
    return f.stride(3) == 1 ? f : f.contiguous();
  };
  const at::Tensor q = as_float(q_in), k = as_float(k_in), v = as_float(v_in);
  Shapes sh{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), 0, q.size(3), q.stride(0), q.stride(1), q.stride(2), 0, 0, 0};
  TORCH_CHECK(sh.heads % sh.kv_heads == 0, "query heads ", sh.heads, " not a multiple of key heads ", sh.kv_heads);
  TORCH_CHECK(sh.sk == opts.query_offset + sh.sq, "keys (", sh.sk, ") must be the ", opts.query_offset, " past plus ",
              sh.sq, " new");
  sh.group = sh.heads / sh.kv_heads;
  const bool wide = avx512 && CpuHasAvx512() && sh.d % 16 == 0;
  sh.panel = wide ? 32 : 16;
  sh.panels = (sh.sk + sh.panel - 1) / sh.panel;
  sh.scale = static_cast<float>(opts.scale > 0 ? opts.scale : 1.0 / std::sqrt(static_cast<double>(sh.d)));
  // Key blocks: a multiple of the panel width. Query blocks: 60 rows, so a task's score tile and
  // accumulator stay in L2 and causal rows give enough tasks to balance the threads.
  const int64_t tile = std::max<int64_t>(sh.panel, opts.tile - opts.tile % sh.panel);
  const int64_t qtile = std::min<int64_t>(tile, kQueryRows);

  // Packed copies as tensors, not vectors: the CPU allocator's block cache (allocator.h) hands back
  // warm pages call after call, and nothing is zero-filled before the packing overwrites it.
  at::Tensor kpack = at::empty({sh.batch * sh.kv_heads * sh.panels * sh.d * sh.panel}, q.options());
  at::Tensor vpack = at::empty({sh.batch * sh.kv_heads * sh.sk * sh.d}, q.options());
  PackKeys(k, sh, kpack.data_ptr<float>());
  PackValues(v, sh, vpack.data_ptr<float>());
  at::Tensor out = at::empty({sh.batch, sh.sq, sh.heads, sh.d}, q.options());
  if (lse) *lse = at::empty({sh.batch, sh.heads, sh.sq}, q.options());

  // Tasks, longest first: (query block, batch, head), the block index descending.
  const int64_t qblocks = (sh.sq + qtile - 1) / qtile, per_block = sh.batch * sh.heads;
  const int64_t tasks = qblocks * per_block;
  std::atomic<int64_t> next{0};
  const float* qp = q.data_ptr<float>();
  float* op = out.data_ptr<float>();
  float* lp = lse ? lse->data_ptr<float>() : nullptr;
  const float* kp = kpack.data_ptr<float>();
  const float* vp = vpack.data_ptr<float>();
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t tb, int64_t te) {
    std::vector<float> scratch(static_cast<size_t>(qtile * (tile + sh.d + 2)));
    for (int64_t w = tb; w < te; ++w) {
      for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) {
        if (job) job->CheckCancelled();
        const int64_t qb = qblocks - 1 - t / per_block, bh = t % per_block;
        const int64_t q0 = qb * qtile;
        (wide ? AttendBlockAvx512 : AttendBlockAvx2)(sh, opts, qp, kp, vp, op, lp, bh / sh.heads,
                                                    bh % sh.heads, q0, std::min(qtile, sh.sq - q0), tile,
                                                    scratch.data());
      }
    }
  });
  return q_in.scalar_type() == at::kFloat ? out : out.to(q_in.scalar_type());
}

#else  // not x86-64 with GCC: callers use the ATen tiles

bool FlashAttentionCpuAvailable(const at::Tensor&) { return false; }

at::Tensor FlashAttentionCpu(const at::Tensor&, const at::Tensor&, const at::Tensor&, const AttentionOptions&,
                             const JobControl*, at::Tensor*, bool) {
  TORCH_CHECK(false, "FlashAttentionCpu is built only for x86-64");
}

#endif

}  // namespace longrope
