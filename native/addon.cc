// Registration only: each area adds its bindings (after the one-time allocator tuning).
#include <napi.h>

#include "allocator.h"
#include "attention/attention_wrap.h"
#include "dist/dist_wrap.h"
#include "model/model_wrap.h"
#include "rope/rope_wrap.h"
#include "runtime_wrap.h"
#include "train/trainer_wrap.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  longrope::TuneAllocator();
  longrope::InitRuntime(env, exports);
  longrope::InitRope(env, exports);
  longrope::InitAttention(env, exports);
  longrope::ModelWrap::Init(env, exports);
  longrope::TrainerWrap::Init(env, exports);
  longrope::InitDist(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(longrope, Init)
