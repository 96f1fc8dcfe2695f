// N-API side of long jobs: the shared control array (cancel flag + progress) of a native call.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "job_control.h"

namespace longrope {

// Keeps a JS Int32Array (cancel flag + progress) alive for a job and exposes it as a JobControl.
// Copy it into the job's lambdas: the last copy is released with the worker, on the JS thread.
struct Control {
  std::shared_ptr<Napi::ObjectReference> ref;
  JobControl job;
};

// options.control: an Int32Array of >= 3 elements, or absent (then a no-op control).
Control ParseControl(const Napi::Object& opts, const std::string& where);

}  // namespace longrope
