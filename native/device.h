// Which devices this build and machine offer, and the few device calls shared by all areas.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace longrope {

bool CudaBuilt();          // compiled with the CUDA kernels
int CudaDeviceCount();     // 0 without a GPU or without a CUDA build (never throws)
// "cpu" or "cuda[:N]"; throws a clear error when CUDA is asked for but missing.
at::Device ParseDevice(const std::string& name, const std::string& field);
// Waits for queued device work (benchmarks time the work, not its launch).
void Synchronize(const at::Device& device);
// The caching allocator's bytes on a CUDA device: in use now and the peak since the last reset
// (zeros without CUDA). ResetCudaPeak starts a new peak.
struct CudaMemory {
  int64_t allocated = 0, peak = 0, reserved = 0;
};
CudaMemory CudaMemoryStats(const at::Device& device);
void ResetCudaPeak(const at::Device& device);

}  // namespace longrope
