// CPU allocator tuning for tensor work. glibc serves large blocks with fresh mmap()s and returns
// them on free, so every step of a training or evaluation loop page-faults (and the kernel
// zeroes) its activations again: on 2 cores that was ~25% of a training step at 256 tokens.
// Keeping freed blocks up to 32 MB in the heap makes later steps reuse warm pages (the same idea
// as PyTorch's caching allocators). The cost: memory freed by a job stays with the process for
// reuse instead of going back to the system. LONGROPE_MALLOC_TUNING=0 leaves glibc's defaults.
#pragma once

#include <string>

namespace longrope {

// Applies the tuning once (no-op off glibc or when disabled); returns what it did, for runtimeInfo.
std::string TuneAllocator();

}  // namespace longrope
