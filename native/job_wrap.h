// N-API side of long jobs: the shared control array, token and tensor-location arguments.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "job_control.h"
#include "model/weights.h"

namespace longrope {

// Keeps a JS Int32Array (cancel flag + progress) alive for a job and exposes it as a JobControl.
// Copy it into the job's lambdas: the last copy is released with the worker, on the JS thread.
struct Control {
  std::shared_ptr<Napi::ObjectReference> ref;
  JobControl job;
};

// options.control: an Int32Array of >= 3 elements, or absent (then a no-op control).
Control ParseControl(const Napi::Object& opts, const std::string& where);
// A non-empty Int32Array of token ids -> int64 tensor.
at::Tensor ParseTokens(const Napi::Value& v, const std::string& field);
// (file: string, header: Buffer) of a safetensors save call: the path and the complete header.
std::pair<std::string, std::string> ParseSaveTarget(const Napi::CallbackInfo& info);
// [{name, dtype, shape, file, offset, byteLength}] as validated by src/model/checkpoint.ts.
std::vector<TensorLocation> ParseLocations(const Napi::Value& v, const std::string& field);

}  // namespace longrope
