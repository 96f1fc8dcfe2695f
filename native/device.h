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

}  // namespace longrope
