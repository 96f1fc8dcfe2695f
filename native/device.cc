#include "device.h"

#include <stdexcept>

#ifdef LONGROPE_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace longrope {

bool CudaBuilt() {
#ifdef LONGROPE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#ifdef LONGROPE_WITH_CUDA
  // device_count() swallows the driver error on a machine with no GPU and returns 0.
  return static_cast<int>(c10::cuda::device_count());
#else
  return 0;
#endif
}

at::Device ParseDevice(const std::string& name, const std::string& field) {
  if (name == "cpu") return at::Device(at::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!CudaBuilt()) {
      throw std::invalid_argument("Expected 'cpu' for " + field + " but received '" + name +
                                  "': this addon was built without CUDA (needs nvcc and a CUDA libtorch at build time)");
    }
    at::Device device(name);
    if (CudaDeviceCount() <= device.index()) {
      throw std::invalid_argument("Expected 'cpu' for " + field + " but received '" + name + "': no such CUDA device (" +
                                  std::to_string(CudaDeviceCount()) + " visible)");
    }
    return device;
  }
  throw std::invalid_argument("Expected 'cpu' or 'cuda' for " + field + " but received '" + name + "'");
}

void Synchronize(const at::Device& device) {
#ifdef LONGROPE_WITH_CUDA
  if (!device.is_cuda()) return;
  // device_synchronize waits on the current device only: make it the one asked for.
  c10::cuda::OptionalCUDAGuard guard(device);
  c10::cuda::device_synchronize();
#endif
}

CudaMemory CudaMemoryStats(const at::Device& device) {
  CudaMemory m;
#ifdef LONGROPE_WITH_CUDA
  if (!device.is_cuda()) return m;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
  // StatType::AGGREGATE is 0 in every release; its namespace moved between them (c10::cuda::
  // CUDACachingAllocator, c10::CachingAllocator), so index it by value.
  constexpr size_t kAll = 0;
  m.allocated = stats.allocated_bytes[kAll].current;
  m.peak = stats.allocated_bytes[kAll].peak;
  m.reserved = stats.reserved_bytes[kAll].current;
#endif
  return m;
}

void ResetCudaPeak(const at::Device& device) {
#ifdef LONGROPE_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

}  // namespace longrope
