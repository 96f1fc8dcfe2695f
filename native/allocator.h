// CPU allocator tuning for tensor work. glibc serves large blocks with fresh mmap()s and returns
// them on free, so every step of a training or evaluation loop page-faults (and the kernel
// zeroes) its activations again: on 2 cores that was ~25% of a training step at 256 tokens.
// Keeping freed blocks up to 32 MB in the heap makes later steps reuse warm pages (the same idea
// as PyTorch's caching allocators). That alone is not enough: each thread that allocates gets its
// own glibc arena, and our jobs run on whichever libuv worker is free, so a window's activations
// landed in a cold arena on most of the first calls and page-faulted again (a 2k-token NLL: ~18k
// faults, 150-200 ms on top of ~150 ms of work, on each of the first ~4 calls; 8k: 40-60k faults,
// sporadically later too). So tensors of 1 MB and more come from one process-wide cache of freed
// blocks (c10's CPU allocator replaced), whatever thread frees or asks. The cost: memory freed by a
// job stays with the process for reuse (at most LONGROPE_CPU_CACHE_MB, default 2048, of idle
// blocks) instead of going back to the system. LONGROPE_MALLOC_TUNING=0 leaves all defaults.
#pragma once

#include <string>

namespace longrope {

// Applies the tuning once (no-op off glibc or when disabled); returns what it did, for runtimeInfo.
std::string TuneAllocator();

}  // namespace longrope
