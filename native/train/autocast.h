// Mixed precision for training: a scoped switch of libtorch's autocast on one device type.
// Inside it, matrix products (at::linear, SDPA) run in the low-precision dtype while the weights,
// the AdamW state and the losses stay fp32 (the "master weights" recipe; bf16 needs no loss
// scaling). Autocast state is thread-local, so the guard lives in the worker thread of a step.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace longrope {

// libtorch 2.4 replaced the per-device functions (set_enabled / set_cpu_enabled, ...) by ones
// taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LONGROPE_AUTOCAST_BY_DEVICE 1
#endif

class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device, at::ScalarType dtype) : device_(device) {
    TORCH_CHECK(device == c10::DeviceType::CUDA || device == c10::DeviceType::CPU,
                "autocast is available on CUDA and CPU only, not on ", device);
    previous_enabled_ = Enabled();
    previous_dtype_ = Dtype();
    Set(true, dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    // Casts of the weights are cached for the duration of the outermost autocast region.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    Set(previous_enabled_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool Cuda() const { return device_ == c10::DeviceType::CUDA; }
#ifdef LONGROPE_AUTOCAST_BY_DEVICE
  bool Enabled() const { return at::autocast::is_autocast_enabled(device_); }
  at::ScalarType Dtype() const { return at::autocast::get_autocast_dtype(device_); }
  void Set(bool enabled, at::ScalarType dtype) const {
    at::autocast::set_autocast_dtype(device_, dtype);
    at::autocast::set_autocast_enabled(device_, enabled);
  }
#else
  bool Enabled() const { return Cuda() ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
  at::ScalarType Dtype() const {
    return Cuda() ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
  }
  void Set(bool enabled, at::ScalarType dtype) const {
    if (Cuda()) {
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(enabled);
    } else {
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(enabled);
    }
  }
#endif

  c10::DeviceType device_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace longrope
