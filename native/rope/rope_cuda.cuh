// CUDA launchers for the fused rotary apply. Plain pointers and a stream, no torch headers, so
// nvcc compiles this alone (CI compiles it on machines without a CUDA libtorch).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace longrope {
namespace cuda {

enum class DType { kFloat32, kBFloat16, kFloat16 };

// One tensor to rotate: [batch, seq, heads, head_dim] contiguous, in -> out (may alias).
struct RopeTensorArgs {
  const void* in;
  void* out;
  int64_t heads;
};

struct RopeLaunchArgs {
  RopeTensorArgs tensors[2];  // q and k (k may have fewer heads: GQA)
  int num_tensors;
  int64_t batch, seq, head_dim, half;  // half = rotary pairs; dims past 2*half pass through
  const float* cos;                    // [seq, half], attention factor folded in
  const float* sin;
  bool inverse;      // rotate by -angle (the backward)
  bool interleaved;  // pairs (2j, 2j+1) instead of (j, j + half)
  DType dtype;
};

// Returns the launch error (cudaSuccess when queued); checks its preconditions first and returns
// cudaErrorInvalidValue when they fail, so the caller turns every failure into an exception.
cudaError_t LaunchRopeApply(const RopeLaunchArgs& args, cudaStream_t stream);

}  // namespace cuda
}  // namespace longrope
