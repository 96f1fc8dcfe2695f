#include "allocator.h"

#include <cstdlib>
#include <cstring>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace longrope {

std::string TuneAllocator() {
  static const std::string result = [] {
    const char* env = std::getenv("LONGROPE_MALLOC_TUNING");
    if (env && std::strcmp(env, "0") == 0) return std::string("off (LONGROPE_MALLOC_TUNING=0)");
#ifdef __GLIBC__
    // 32 MB is the largest mmap threshold glibc accepts on 64-bit systems; the trim threshold
    // keeps the freed top of the heap instead of returning it after every step.
    const bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
    return std::string(ok ? "glibc: blocks up to 32 MB reused from the heap" : "glibc: mallopt refused, defaults kept");
#else
    return std::string("system default");
#endif
  }();
  return result;
}

}  // namespace longrope
