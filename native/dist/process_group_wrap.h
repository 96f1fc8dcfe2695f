// [async] createProcessGroup({rank, worldSize, masterAddr, masterPort, backend, timeoutMs, deviceIndex})
//         -> Promise<NativeProcessGroup>      rendezvous (TCPStore) + the backend's connections
// [sync]  distInfo() -> {gloo: boolean, nccl: boolean}   backends this build has
// NativeProcessGroup (ObjectWrap over a shared Communicator; a job holds its own reference):
//   [sync]  info() -> {rank, worldSize, backend}
//   [async] allReduce(Float32Array, op: 'sum' | 'max' | 'min') -> Promise<Float32Array>
//   [async] allGather(Float32Array) -> Promise<Float32Array>   every rank's array, rank-major
//   [async] broadcast(Float32Array, root) -> Promise<Float32Array>
//   [async] barrier() -> Promise<void>
//   [async] split({prefix, rank, worldSize, backend, deviceIndex, timeoutMs}) -> Promise<NativeProcessGroup>
//           a subgroup over this group's store under `prefix` (every member calls it; see Communicator::Split)
//   [sync]  dispose()
// Calls must be issued in the same order on every rank (src/dist/process-group.ts queues them).
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "dist/communicator.h"

namespace longrope {

class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit ProcessGroupWrap(const Napi::CallbackInfo& info);
  // The communicator behind a JS NativeProcessGroup (throws if it is not one, or disposed).
  static std::shared_ptr<Communicator> FromObject(const Napi::Value& value, const std::string& field);

 private:
  std::shared_ptr<Communicator> Get(const Napi::Env& env) const;
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value AllReduce(const Napi::CallbackInfo& info);
  Napi::Value AllGather(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Split(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<Communicator> comm_;
};

}  // namespace longrope
