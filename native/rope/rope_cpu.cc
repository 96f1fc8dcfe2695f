// CPU kernel: one parallel pass over (batch x seq) rows of every input tensor. The inner loops
// run over contiguous memory with fp32 math so GCC vectorises them; the kernel is memory bound.
#include <ATen/Parallel.h>

#include "rope/rope_kernels.h"

namespace longrope {
namespace {

template <typename T, bool kInverse, RopeLayout kLayout>
inline void RotateRow(const T* x, T* out, const float* __restrict__ cos,
                      const float* __restrict__ sin, int64_t heads, int64_t head_dim, int64_t half) {
  for (int64_t h = 0; h < heads; ++h) {
    // No __restrict__ on x/out: in-place application (x == out) is allowed; each pair is read into
    // registers before either element is written, so aliasing is harmless.
    const T* xh = x + h * head_dim;
    T* oh = out + h * head_dim;
    if constexpr (kLayout == RopeLayout::kHalf) {
      for (int64_t j = 0; j < half; ++j) {
        const float x1 = static_cast<float>(xh[j]);
        const float x2 = static_cast<float>(xh[j + half]);
        const float s = kInverse ? -sin[j] : sin[j];
        oh[j] = static_cast<T>(x1 * cos[j] - x2 * s);
        oh[j + half] = static_cast<T>(x2 * cos[j] + x1 * s);
      }
    } else {
      for (int64_t j = 0; j < half; ++j) {
        const float x1 = static_cast<float>(xh[2 * j]);
        const float x2 = static_cast<float>(xh[2 * j + 1]);
        const float s = kInverse ? -sin[j] : sin[j];
        oh[2 * j] = static_cast<T>(x1 * cos[j] - x2 * s);
        oh[2 * j + 1] = static_cast<T>(x2 * cos[j] + x1 * s);
      }
    }
    if (xh != oh) {
      for (int64_t j = 2 * half; j < head_dim; ++j) oh[j] = xh[j];  // partial rotary: pass-through
    }
  }
}

template <typename T, bool kInverse, RopeLayout kLayout>
void ApplyAll(at::ArrayRef<at::Tensor> xs, at::ArrayRef<at::Tensor> outs, const RopeAngles& angles) {
  const int64_t batch = xs[0].size(0), seq = xs[0].size(1), head_dim = xs[0].size(3);
  const int64_t half = angles.cos.size(1);
  const float* cos = angles.cos.data_ptr<float>();
  const float* sin = angles.sin.data_ptr<float>();
  std::vector<const T*> in_ptrs;
  std::vector<T*> out_ptrs;
  std::vector<int64_t> heads;
  for (size_t i = 0; i < xs.size(); ++i) {
    in_ptrs.push_back(xs[i].data_ptr<T>());
    out_ptrs.push_back(outs[i].data_ptr<T>());
    heads.push_back(xs[i].size(2));
  }
  // A row is small (heads x head_dim); grain keeps per-task work near 64 KiB of input.
  const int64_t row_bytes = head_dim * static_cast<int64_t>(sizeof(T)) * (heads[0] + (heads.size() > 1 ? heads[1] : 0));
  const int64_t grain = std::max<int64_t>(1, (64 << 10) / std::max<int64_t>(1, row_bytes));
  at::parallel_for(0, batch * seq, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t s = row % seq;
      for (size_t i = 0; i < in_ptrs.size(); ++i) {
        const int64_t offset = row * heads[i] * head_dim;
        RotateRow<T, kInverse, kLayout>(in_ptrs[i] + offset, out_ptrs[i] + offset, cos + s * half,
                                        sin + s * half, heads[i], head_dim, half);
      }
    }
  });
}

template <typename T>
void Dispatch(at::ArrayRef<at::Tensor> xs, at::ArrayRef<at::Tensor> outs, const RopeAngles& a, bool inverse,
              RopeLayout layout) {
  if (layout == RopeLayout::kHalf) {
    inverse ? ApplyAll<T, true, RopeLayout::kHalf>(xs, outs, a) : ApplyAll<T, false, RopeLayout::kHalf>(xs, outs, a);
  } else {
    inverse ? ApplyAll<T, true, RopeLayout::kInterleaved>(xs, outs, a)
            : ApplyAll<T, false, RopeLayout::kInterleaved>(xs, outs, a);
  }
}

}  // namespace

void RopeApplyCpu(at::ArrayRef<at::Tensor> xs, at::ArrayRef<at::Tensor> outs, const RopeAngles& angles,
                  bool inverse, RopeLayout layout) {
  switch (xs[0].scalar_type()) {
    case at::kFloat: return Dispatch<float>(xs, outs, angles, inverse, layout);
    case at::kBFloat16: return Dispatch<at::BFloat16>(xs, outs, angles, inverse, layout);
    case at::kHalf: return Dispatch<at::Half>(xs, outs, angles, inverse, layout);
    default: TORCH_CHECK(false, "fused RoPE supports float32, bfloat16 and float16, got ", xs[0].scalar_type());
  }
}

}  // namespace longrope
