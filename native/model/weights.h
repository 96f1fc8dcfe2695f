// Checkpoint tensors in and out. Loading memory-maps each safetensors file once (MAP_PRIVATE):
// a tensor already in the compute dtype on CPU is used in place (no copy; a write, e.g. by the
// optimizer, copies just the touched pages), anything else is converted tensor by tensor and its
// mapped pages released at once, so a 7B checkpoint never sits in RAM twice.
// The TypeScript side has already validated headers, offsets and shapes (src/model/checkpoint.ts);
// the checks here are the cheap last line of defence before touching memory.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "job_control.h"

namespace longrope {

struct TensorLocation {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16"
  std::vector<int64_t> shape;
  std::string file;
  int64_t offset = 0;
  int64_t byte_length = 0;
};

using NamedTensors = std::unordered_map<std::string, at::Tensor>;

NamedTensors LoadTensors(const std::vector<TensorLocation>& locations, const at::Device& device,
                         at::ScalarType dtype, JobControl* job);

// Writes a safetensors file: `header` is the complete header (8-byte length + JSON, built in
// TypeScript), then each tensor's bytes in order, converted to `dtypes[i]`. Atomic: writes
// `path + ".tmp"` and renames it over `path`.
void SaveTensors(const std::string& path, const std::string& header, const std::vector<at::Tensor>& tensors,
                 const std::vector<std::string>& dtypes);

at::ScalarType ParseSafetensorsDtype(const std::string& dtype);

}  // namespace longrope
