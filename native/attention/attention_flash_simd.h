// Vector helpers and register-blocked micro-kernels shared by the AVX2/AVX-512 attention forward
// (attention_flash_cpu.cc) and backward (attention_flash_cpu_grad.cc). Only for GCC on x86-64:
// every function is always inlined into a caller compiled with target("avx2,fma") or
// target("avx512f"), so each caller gets the instruction set of its own target and the rest of
// the addon keeps the default one.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)  // __builtin_shuffle is GCC's

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

// The vector helpers below are always inlined into the target-attributed entry points, so the
// by-value vector ABI GCC warns about never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace longrope {
namespace simd {

// Everything here is inlined into its target-attributed caller, so it is compiled for that
// caller's instruction set (AVX2 + FMA with 8-float vectors, AVX-512 with 16-float vectors).
#define LONGROPE_INLINE __attribute__((always_inline)) inline

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

// Per instruction set: the vector, its lane count, and the micro-tile rows (2 vectors wide), so
// that rows x 2 accumulators + 2 operands + 1 broadcast fit the register file (16 or 32).
template <class V> struct Isa;
template <> struct Isa<v8> {
  using Int = v8i;
  static constexpr int kLanes = 8, kRows = 6;
};
template <> struct Isa<v16> {
  using Int = v16i;
  static constexpr int kLanes = 16, kRows = 12;
};

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

template <class V>
LONGROPE_INLINE V Load(const float* p) {
  V r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
template <class V>
LONGROPE_INLINE void Store(float* p, V x) { std::memcpy(p, &x, sizeof x); }
// Broadcasts as a shuffle of lane 0, the form GCC folds to one vbroadcastss in both targets
// (initialiser lists, lane loops and `V{} + x` become chains of inserts, masked loads or adds).
template <class V>
LONGROPE_INLINE V Splat(float x);
template <>
LONGROPE_INLINE v8 Splat<v8>(float x) {
  return __builtin_shuffle(v8{x}, v8i{});
}
template <>
LONGROPE_INLINE v16 Splat<v16>(float x) {
  return __builtin_shuffle(v16{x}, v16i{});
}
template <class V>
LONGROPE_INLINE float MaxOf(V x) {
  float m = x[0];
  for (int i = 1; i < Isa<V>::kLanes; ++i) m = std::max(m, x[i]);
  return m;
}
template <class V>
LONGROPE_INLINE float SumOf(V x) {
  float t = 0;
  for (int i = 0; i < Isa<V>::kLanes; ++i) t += x[i];
  return t;
}

// exp(x) for x <= 0 (Cephes' expf: x = n ln2 + r, |r| <= ln2/2, degree-5 polynomial, ~2 ulp);
// exactly 0 below -87.3 (so -inf, a masked score, gives 0).
template <class V>
LONGROPE_INLINE V Exp(V x) {
  using I = typename Isa<V>::Int;
  const V lo = Splat<V>(-87.3365f);
  const I keep = x >= lo;
  x = x < lo ? lo : x;
  const V magic = Splat<V>(12582912.0f);  // 1.5 * 2^23: adding it rounds to the nearest integer
  const V n = (x * 1.44269504088896341f + magic) - magic;
  V r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  V p = Splat<V>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  V y = p * r * r + r + 1.0f;
  const I bits = (__builtin_convertvector(n, I) + 127) << 23;
  V pow2;
  std::memcpy(&pow2, &bits, sizeof pow2);
  y = y * pow2;
  I yi;
  std::memcpy(&yi, &y, sizeof yi);
  yi &= keep;
  std::memcpy(&y, &yi, sizeof y);
  return y;
}

// s[r][0..2L) = scale * q[r] . K panel, for MR rows of q (stride ldq); the panel is [d][2L].
template <class V, int MR>
LONGROPE_INLINE void ScorePanel(const float* q, int64_t ldq, const float* panel, int64_t d, float scale, float* s,
                                int64_t lds) {
  constexpr int L = Isa<V>::kLanes;
  V acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = V{};
  for (int64_t x = 0; x < d; ++x) {
    const V b0 = Load<V>(panel + x * 2 * L), b1 = Load<V>(panel + x * 2 * L + L);
    for (int r = 0; r < MR; ++r) {
      const V a = Splat<V>(q[r * ldq + x]);
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
  }
  for (int r = 0; r < MR; ++r) {
    Store<V>(s + r * lds, acc[r][0] * scale);
    Store<V>(s + r * lds + L, acc[r][1] * scale);
  }
}

// c[r][0..L*NV) += sum_{j < n} A(r, j) * b[j][0..L*NV) for MR rows; A(r, j) = a[r * lda + j], or
// a[j * lda + r] when kTrans (the backward's P^T dO and dS^T Q read the score tile by columns).
template <class V, int MR, int NV, bool kTrans>
LONGROPE_INLINE void AccumulateRows(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t n, float* c,
                                    int64_t ldc) {
  constexpr int L = Isa<V>::kLanes;
  V acc[MR][NV];
  for (int r = 0; r < MR; ++r) {
    for (int x = 0; x < NV; ++x) acc[r][x] = Load<V>(c + r * ldc + L * x);
  }
  for (int64_t j = 0; j < n; ++j) {
    V bv[NV];
    for (int x = 0; x < NV; ++x) bv[x] = Load<V>(b + j * ldb + L * x);
    for (int r = 0; r < MR; ++r) {
      const V s = Splat<V>(kTrans ? a[j * lda + r] : a[r * lda + j]);
      for (int x = 0; x < NV; ++x) acc[r][x] += s * bv[x];
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int x = 0; x < NV; ++x) Store<V>(c + r * ldc + L * x, acc[r][x]);
  }
}

// MR rows of scores against `panel_count` panels; MR rows of c [.., d] += A b over n (AccumulateRows).
template <class V, int MR>
struct Rows {
  LONGROPE_INLINE static void Scores(const float* q, int64_t ldq, const float* panels, int64_t panel_count, int64_t d,
                                     float scale, float* s, int64_t lds) {
    constexpr int W = 2 * Isa<V>::kLanes;
    for (int64_t pnl = 0; pnl < panel_count; ++pnl) {
      ScorePanel<V, MR>(q, ldq, panels + pnl * d * W, d, scale, s + pnl * W, lds);
    }
  }
  template <bool kTrans>
  LONGROPE_INLINE static void Accumulate(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t d, int64_t n,
                                         float* c, int64_t ldc) {
    constexpr int L = Isa<V>::kLanes;
    int64_t x = 0;
    for (; x + 2 * L <= d; x += 2 * L) AccumulateRows<V, MR, 2, kTrans>(a, lda, b + x, ldb, n, c + x, ldc);
    if (x < d) AccumulateRows<V, MR, 1, kTrans>(a, lda, b + x, ldb, n, c + x, ldc);  // callers keep d % L == 0
  }
};

// Rows::Scores / Rows::Accumulate for the `rows` (< MR) left at the end of a block: MR is a
// template argument so the accumulators stay in registers.
template <class V, int MR>
LONGROPE_INLINE void TailScores(int64_t rows, const float* q, int64_t ldq, const float* panels, int64_t panel_count,
                                int64_t d, float scale, float* s, int64_t lds) {
  if constexpr (MR > 0) {
    if (rows == MR) return Rows<V, MR>::Scores(q, ldq, panels, panel_count, d, scale, s, lds);
    TailScores<V, MR - 1>(rows, q, ldq, panels, panel_count, d, scale, s, lds);
  }
}
template <class V, int MR, bool kTrans>
LONGROPE_INLINE void TailAccumulate(int64_t rows, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t d,
                                    int64_t n, float* c, int64_t ldc) {
  if constexpr (MR > 0) {
    if (rows == MR) return Rows<V, MR>::template Accumulate<kTrans>(a, lda, b, ldb, d, n, c, ldc);
    TailAccumulate<V, MR - 1, kTrans>(rows, a, lda, b, ldb, d, n, c, ldc);
  }
}

// All `rows` rows of c (MR at a time, then the tail): c[r] += sum_{j < n} A(r, j) b[j]. With
// kTrans, row r of c reads column r of a (a + r), else row r (a + r * lda).
template <class V, bool kTrans>
LONGROPE_INLINE void AccumulateAll(int64_t rows, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t d,
                                   int64_t n, float* c, int64_t ldc) {
  constexpr int MR = Isa<V>::kRows;
  int64_t r = 0;
  for (; r + MR <= rows; r += MR) {
    Rows<V, MR>::template Accumulate<kTrans>(a + (kTrans ? r : r * lda), lda, b, ldb, d, n, c + r * ldc, ldc);
  }
  TailAccumulate<V, MR - 1, kTrans>(rows - r, a + (kTrans ? r : r * lda), lda, b, ldb, d, n, c + r * ldc, ldc);
}

// All `rows` rows of scores: s[r] = scale * q[r] . panels.
template <class V>
LONGROPE_INLINE void ScoresAll(int64_t rows, const float* q, int64_t ldq, const float* panels, int64_t panel_count,
                               int64_t d, float scale, float* s, int64_t lds) {
  constexpr int MR = Isa<V>::kRows;
  int64_t r = 0;
  for (; r + MR <= rows; r += MR) {
    Rows<V, MR>::Scores(q + r * ldq, ldq, panels, panel_count, d, scale, s + r * lds, lds);
  }
  TailScores<V, MR - 1>(rows - r, q + r * ldq, ldq, panels, panel_count, d, scale, s + r * lds, lds);
}

inline bool CpuHasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
inline bool CpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

}  // namespace simd
}  // namespace longrope

#endif
