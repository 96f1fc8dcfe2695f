// Where a forward's time goes, for `npm run bench:model`: process-wide counters of wall time
// (steady_clock, nanoseconds) per kind of work, added by scoped timers around the model's calls.
// Two clock reads per timed op (tens of ns against ops of tens of microseconds and more), so
// they stay on in every build. Concurrent forwards add into the same counters.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace longrope {

enum class ProfilePart : int { kAttention, kGemm, kRopeNorm, kLmHeadLoss, kNativeCall, kCount };

inline std::array<std::atomic<int64_t>, static_cast<int>(ProfilePart::kCount)>& ProfileCounters() {
  static std::array<std::atomic<int64_t>, static_cast<int>(ProfilePart::kCount)> counters{};
  return counters;
}

// Adds the scope's wall time to one counter.
class ProfileScope {
 public:
  explicit ProfileScope(ProfilePart part) : part_(part), start_(std::chrono::steady_clock::now()) {}
  ~ProfileScope() {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
    ProfileCounters()[static_cast<int>(part_)].fetch_add(ns.count(), std::memory_order_relaxed);
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  ProfilePart part_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace longrope
