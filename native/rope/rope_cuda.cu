// Fused rotary apply on CUDA: one thread per rotary pair (plus pass-through dims), so consecutive
// threads touch consecutive addresses; angles come from the shared [seq, half] table.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "rope_cuda.cuh"

namespace longrope {
namespace cuda {
namespace {

template <typename T> __device__ __forceinline__ float Load(const T* p);
template <> __device__ __forceinline__ float Load<float>(const float* p) { return *p; }
template <> __device__ __forceinline__ float Load<__nv_bfloat16>(const __nv_bfloat16* p) { return __bfloat162float(*p); }
template <> __device__ __forceinline__ float Load<__half>(const __half* p) { return __half2float(*p); }

template <typename T> __device__ __forceinline__ void Store(T* p, float v);
template <> __device__ __forceinline__ void Store<float>(float* p, float v) { *p = v; }
template <> __device__ __forceinline__ void Store<__nv_bfloat16>(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }
template <> __device__ __forceinline__ void Store<__half>(__half* p, float v) { *p = __float2half(v); }

// Grid: x over rows (batch * seq, up to 2^31 - 1), y over the slots of one row (heads * slots / 256).
// A "slot" is a rotary pair j < half, or a pass-through dim (head_dim - 2*half of them).
template <typename T>
__global__ void RopeKernel(const T* in, T* out, int64_t heads, int64_t seq, int64_t head_dim, int64_t half,
                           const float* __restrict__ cos, const float* __restrict__ sin, bool inverse,
                           bool interleaved) {
  const int64_t row = blockIdx.x;
  const int64_t slots = head_dim - half;  // half pairs + (head_dim - 2*half) pass-through
  const int64_t idx = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (idx >= heads * slots) return;
  const int64_t h = idx / slots, j = idx % slots;
  const int64_t base = (row * heads + h) * head_dim;
  if (j >= half) {  // pass-through dims of a partial rotary head
    const int64_t d = j + half;
    if (in != out) out[base + d] = in[base + d];
    return;
  }
  const int64_t s = row % seq;
  const float c = cos[s * half + j];
  const float sn = inverse ? -sin[s * half + j] : sin[s * half + j];
  const int64_t i1 = interleaved ? 2 * j : j;
  const int64_t i2 = interleaved ? 2 * j + 1 : j + half;
  const float x1 = Load(in + base + i1), x2 = Load(in + base + i2);
  Store(out + base + i1, x1 * c - x2 * sn);
  Store(out + base + i2, x2 * c + x1 * sn);
}

template <typename T>
cudaError_t Launch(const RopeLaunchArgs& a, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t rows = a.batch * a.seq;
  for (int t = 0; t < a.num_tensors; ++t) {
    const RopeTensorArgs& x = a.tensors[t];
    const int64_t per_row = x.heads * (a.head_dim - a.half);
    const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>((per_row + kThreads - 1) / kThreads));
    RopeKernel<T><<<grid, kThreads, 0, stream>>>(static_cast<const T*>(x.in), static_cast<T*>(x.out), x.heads, a.seq,
                                                 a.head_dim, a.half, a.cos, a.sin, a.inverse, a.interleaved);
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

}  // namespace

cudaError_t LaunchRopeApply(const RopeLaunchArgs& a, cudaStream_t stream) {
  // Preconditions: rows fit grid.x (2^31 - 1), a row's slots fit grid.y (65535 blocks of 256).
  if (a.num_tensors < 1 || a.num_tensors > 2 || a.half < 1 || 2 * a.half > a.head_dim || !a.cos || !a.sin) {
    return cudaErrorInvalidValue;
  }
  if (a.batch * a.seq == 0) return cudaSuccess;
  if (a.batch * a.seq > 2147483647LL) return cudaErrorInvalidConfiguration;
  for (int t = 0; t < a.num_tensors; ++t) {
    if (a.tensors[t].heads * (a.head_dim - a.half) > 65535LL * 256) return cudaErrorInvalidConfiguration;
  }
  switch (a.dtype) {
    case DType::kFloat32: return Launch<float>(a, stream);
    case DType::kBFloat16: return Launch<__nv_bfloat16>(a, stream);
    case DType::kFloat16: return Launch<__half>(a, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace cuda
}  // namespace longrope
