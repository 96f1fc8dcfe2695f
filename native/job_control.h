// Cancellation and progress for long native jobs without extra N-API traffic: JS hands over an
// Int32Array on a SharedArrayBuffer, [0] = cancel flag (set by an AbortSignal listener),
// [1] = units done, [2] = units total (read by a JS progress timer). The worker keeps a reference
// to the array so its memory stays alive for the whole job.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace longrope {

class JobCancelled : public std::runtime_error {
 public:
  JobCancelled() : std::runtime_error("The operation was aborted") {}
};

class JobControl {
 public:
  JobControl() = default;
  explicit JobControl(int32_t* slots) : slots_(slots) {}

  bool cancelled() const { return slots_ && __atomic_load_n(&slots_[0], __ATOMIC_RELAXED) != 0; }
  // Throws JobCancelled when JS asked to stop; call between units of work.
  void CheckCancelled() const {
    if (cancelled()) throw JobCancelled();
  }
  void SetTotal(int64_t total) const { Store(2, total); }
  void AddDone(int64_t n) const {
    if (slots_) __atomic_fetch_add(&slots_[1], static_cast<int32_t>(n), __ATOMIC_RELAXED);
  }

 private:
  void Store(int i, int64_t v) const {
    if (slots_) __atomic_store_n(&slots_[i], static_cast<int32_t>(v), __ATOMIC_RELAXED);
  }
  int32_t* slots_ = nullptr;
};

}  // namespace longrope
