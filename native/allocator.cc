#include "allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace longrope {
namespace {

constexpr size_t kAlignment = 64;            // c10's CPU alignment (AVX-512 loads)
constexpr size_t kMinCachedBytes = 1 << 20;  // smaller blocks: malloc's own free lists serve them well
constexpr size_t kRoundBytes = 64 << 10;     // large requests rounded up, so near sizes share blocks

// Freed tensor blocks of 1 MB and more, kept for the next request of (nearly) the same size.
// The data pointer is its own context (what c10 calls a simple data pointer), so raw_allocate
// works; the sizes of the blocks we own live in `sizes_`.
class BlockCache {
 public:
  explicit BlockCache(size_t cap) : cap_(cap) {}

  void* Take(size_t bytes) {
    const bool large = bytes >= kMinCachedBytes;
    const size_t want = large ? (bytes + kRoundBytes - 1) / kRoundBytes * kRoundBytes : bytes;
    if (large) {
      std::lock_guard<std::mutex> lock(mutex_);
      // The smallest free block that fits, unless it wastes more than an eighth.
      auto it = free_.lower_bound(want);
      if (it != free_.end() && it->first <= want + want / 8) {
        void* p = it->second;
        cached_ -= it->first;
        free_.erase(it);
        return p;
      }
    }
    void* p = AlignedAlloc(want);
    if (!p && want > 0) {  // out of memory: give the cache back to the system and try once more
      Trim();
      p = AlignedAlloc(want);
    }
    TORCH_CHECK(p || want == 0, "CPU out of memory: could not allocate ", bytes, " bytes");
    if (large) {
      std::lock_guard<std::mutex> lock(mutex_);
      sizes_[p] = want;
    }
    return p;
  }

  void Give(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto owned = sizes_.find(p);
    if (owned == sizes_.end()) return std::free(p);  // a small block
    const size_t bytes = owned->second;
    // Over the cap: drop the smallest cached blocks first; a block larger than the cap goes back.
    while (cached_ + bytes > cap_ && !free_.empty()) Release(free_.begin());
    if (cached_ + bytes > cap_) {
      sizes_.erase(owned);
      return std::free(p);
    }
    free_.emplace(bytes, p);
    cached_ += bytes;
  }

  void Trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!free_.empty()) Release(free_.begin());
  }

 private:
  static void* AlignedAlloc(size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = nullptr;
    return posix_memalign(&p, kAlignment, bytes) == 0 ? p : nullptr;
  }
  void Release(std::multimap<size_t, void*>::iterator it) {  // caller holds the mutex
    cached_ -= it->first;
    sizes_.erase(it->second);
    std::free(it->second);
    free_.erase(it);
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> free_;        // cached blocks by size
  std::unordered_map<void*, size_t> sizes_;  // every large block we own, cached or in use
  size_t cached_ = 0;
  const size_t cap_;
};

BlockCache* g_cache = nullptr;

void GiveBack(void* p) { g_cache->Give(p); }

// c10's CPU allocator interface. `allocate` is const up to libtorch 2.2 and non-const after, and
// `copy_data` exists only from 2.3: declaring both forms (without `override`) makes the class
// complete against either header.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const { return Make(n); }
  c10::DataPtr allocate(size_t n) { return Make(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &GiveBack; }
  void copy_data(void* dest, const void* src, std::size_t count) const {
    if (count) std::memcpy(dest, src, count);
  }

 private:
  static c10::DataPtr Make(size_t n) {
    void* p = g_cache->Take(n);
    return {p, p, &GiveBack, c10::Device(c10::DeviceType::CPU)};
  }
};

size_t CacheCapBytes() {
  const char* env = std::getenv("LONGROPE_CPU_CACHE_MB");
  const long long mb = env ? std::atoll(env) : 2048;
  return static_cast<size_t>(mb > 0 ? mb : 0) << 20;
}

}  // namespace

std::string TuneAllocator() {
  static const std::string result = [] {
    const char* env = std::getenv("LONGROPE_MALLOC_TUNING");
    if (env && std::strcmp(env, "0") == 0) return std::string("off (LONGROPE_MALLOC_TUNING=0)");
    std::string done;
#ifdef __GLIBC__
    // 32 MB is the largest mmap threshold glibc accepts on 64-bit systems; the trim threshold
    // keeps the freed top of the heap instead of returning it after every step.
    const bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
    done = ok ? "glibc: blocks up to 32 MB reused from the heap; " : "glibc: mallopt refused, defaults kept; ";
#endif
    const size_t cap = CacheCapBytes();
    if (cap == 0) return done + "no tensor block cache (LONGROPE_CPU_CACHE_MB=0)";
    // Never destroyed: tensors (and c10's allocator registry) may outlive every static.
    g_cache = new BlockCache(cap);
    c10::SetCPUAllocator(new CachingCpuAllocator(), /*priority=*/1);
    return done + "tensor blocks >= 1 MB cached up to " + std::to_string(cap >> 20) + " MB (LONGROPE_CPU_CACHE_MB)";
  }();
  return result;
}

}  // namespace longrope
