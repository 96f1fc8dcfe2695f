// Per-environment state of the addon (N-API instance data). The main thread and each worker
// thread load the addon into an environment of their own, so the class constructors the bindings
// use to create objects live here, one set per environment, never in globals.
#pragma once

#include <napi.h>

namespace longrope {

struct AddonData {
  Napi::FunctionReference model_constructor;    // NativeModel (model/model_wrap.cc)
  Napi::FunctionReference trainer_constructor;  // NativeTrainer (train/trainer_wrap.cc)
  Napi::FunctionReference process_group_constructor;  // NativeProcessGroup (dist/process_group_wrap.cc)
};

// This environment's data, created on first use. N-API keeps one instance-data slot per
// environment and deletes it when the environment is torn down.
inline AddonData& GetAddonData(Napi::Env env) {
  auto* data = env.GetInstanceData<AddonData>();
  if (!data) {
    data = new AddonData();
    env.SetInstanceData<AddonData>(data);
  }
  return *data;
}

}  // namespace longrope
