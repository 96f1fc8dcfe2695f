// Torch side of the CUDA rope: pulls pointers and the current stream out of tensors and turns any
// CUDA error into an exception (never exit: that would kill Node).
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "rope/rope_cuda.cuh"
#include "rope/rope_kernels.h"

namespace longrope {

void RopeApplyCuda(at::ArrayRef<at::Tensor> xs, at::ArrayRef<at::Tensor> outs, const RopeAngles& angles,
                   bool inverse, RopeLayout layout) {
  TORCH_CHECK(xs.size() >= 1 && xs.size() <= 2 && xs.size() == outs.size(), "RopeApplyCuda takes 1 or 2 tensors");
  const c10::cuda::CUDAGuard guard(xs[0].device());
  cuda::RopeLaunchArgs args{};
  args.num_tensors = static_cast<int>(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    args.tensors[i] = {xs[i].data_ptr(), outs[i].data_ptr(), xs[i].size(2)};
  }
  args.batch = xs[0].size(0);
  args.seq = xs[0].size(1);
  args.head_dim = xs[0].size(3);
  args.half = angles.cos.size(1);
  args.cos = angles.cos.data_ptr<float>();
  args.sin = angles.sin.data_ptr<float>();
  args.inverse = inverse;
  args.interleaved = layout == RopeLayout::kInterleaved;
  switch (xs[0].scalar_type()) {
    case at::kFloat: args.dtype = cuda::DType::kFloat32; break;
    case at::kBFloat16: args.dtype = cuda::DType::kBFloat16; break;
    case at::kHalf: args.dtype = cuda::DType::kFloat16; break;
    default: TORCH_CHECK(false, "fused RoPE supports float32, bfloat16 and float16, got ", xs[0].scalar_type());
  }
  const cudaError_t err = cuda::LaunchRopeApply(args, c10::cuda::getCurrentCUDAStream());
  TORCH_CHECK(err == cudaSuccess, "RoPE CUDA launch failed: ", cudaGetErrorString(err));
}

}  // namespace longrope
