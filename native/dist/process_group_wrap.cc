#include "dist/process_group_wrap.h"

#include <chrono>

#include "addon_data.h"
#include "common.h"

namespace longrope {
namespace {

using CommPtr = std::shared_ptr<Communicator>;

at::Tensor FloatArg(const Napi::Value& v, const std::string& field) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowTypeError(field, "a Float32Array", DescribeValue(v));
  }
  const int64_t n = static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength());
  return TensorFromFloat32Array(v, {n}, field);
}

// The options createProcessGroup and split share: rank, size, backend, GPU and timeout.
CommunicatorOptions ReadGroupOptions(const Napi::Object& opts, const std::string& where) {
  CommunicatorOptions o;
  o.size = static_cast<int>(GetInteger(opts, "worldSize", where));
  o.rank = static_cast<int>(GetInteger(opts, "rank", where));
  o.backend = GetString(opts, "backend", where, std::string("gloo"));
  o.device_index = static_cast<int>(GetInteger(opts, "deviceIndex", where, 0));
  o.timeout = std::chrono::milliseconds(GetInteger(opts, "timeoutMs", where, 600000));
  if (o.size < 1) ThrowRangeError(where + ".worldSize", "an integer >= 1", std::to_string(o.size));
  if (o.rank < 0 || o.rank >= o.size) {
    ThrowRangeError(where + ".rank", "an integer in [0, " + std::to_string(o.size) + ")", std::to_string(o.rank));
  }
  if (o.backend != "gloo" && o.backend != "nccl") ThrowTypeError(where + ".backend", "'gloo' or 'nccl'", "'" + o.backend + "'");
  if (o.timeout.count() < 1) ThrowRangeError(where + ".timeoutMs", "a positive integer", std::to_string(o.timeout.count()));
  return o;
}

Napi::Value NewGroupObject(Napi::Env env, CommPtr& comm) {
  auto* holder = new CommPtr(comm);
  return GetAddonData(env).process_group_constructor.New(
      {Napi::External<CommPtr>::New(env, holder, [](Napi::Env, CommPtr* p) { delete p; })});
}

Napi::Value CreateProcessGroup(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "createProcessGroup options";
    Napi::Object opts = RequireObject(info[0], where);
    CommunicatorOptions o = ReadGroupOptions(opts, where);
    o.master_addr = GetString(opts, "masterAddr", where, std::string("127.0.0.1"));
    o.master_port = static_cast<int>(GetInteger(opts, "masterPort", where, 29500));
    if (o.master_port < 1 || o.master_port > 65535) {
      ThrowRangeError(where + ".masterPort", "an integer in [1, 65535]", std::to_string(o.master_port));
    }
    return RunAsync<CommPtr>(info.Env(), [o]() { return CreateCommunicator(o); }, NewGroupObject);
  });
}

Napi::Value DistInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("gloo", CommunicatorHasGloo());
  o.Set("nccl", CommunicatorHasNccl());
  return o;
}

Napi::Value TensorResult(Napi::Env env, at::Tensor& t) { return Float32ArrayFromTensor(env, t); }

}  // namespace

void ProcessGroupWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(
      env, "NativeProcessGroup",
      {InstanceMethod("info", &ProcessGroupWrap::Info), InstanceMethod("allReduce", &ProcessGroupWrap::AllReduce),
       InstanceMethod("allGather", &ProcessGroupWrap::AllGather), InstanceMethod("broadcast", &ProcessGroupWrap::Broadcast),
       InstanceMethod("barrier", &ProcessGroupWrap::Barrier), InstanceMethod("split", &ProcessGroupWrap::Split),
       InstanceMethod("dispose", &ProcessGroupWrap::Dispose)});
  GetAddonData(env).process_group_constructor = Napi::Persistent(ctor);
  exports.Set("NativeProcessGroup", ctor);
  exports.Set("createProcessGroup", Napi::Function::New(env, CreateProcessGroup, "createProcessGroup"));
  exports.Set("distInfo", Napi::Function::New(env, DistInfo, "distInfo"));
}

ProcessGroupWrap::ProcessGroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeProcessGroup cannot be constructed directly: use createProcessGroup()");
  }
  comm_ = *info[0].As<Napi::External<CommPtr>>().Data();
}

CommPtr ProcessGroupWrap::FromObject(const Napi::Value& value, const std::string& field) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(GetAddonData(env).process_group_constructor.Value())) {
    ThrowTypeError(field, "a NativeProcessGroup", DescribeValue(value));
  }
  return Unwrap(value.As<Napi::Object>())->Get(env);
}

CommPtr ProcessGroupWrap::Get(const Napi::Env& env) const {
  if (!comm_) throw Napi::Error::New(env, "This process group has been disposed");
  return comm_;
}

Napi::Value ProcessGroupWrap::Info(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CommPtr comm = Get(info.Env());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("rank", comm->rank());
    o.Set("worldSize", comm->size());
    o.Set("backend", comm->backend());
    return o;
  });
}

Napi::Value ProcessGroupWrap::AllReduce(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CommPtr comm = Get(info.Env());
    at::Tensor t = FloatArg(info[0], "allReduce data");
    const std::string op = info[1].IsUndefined() ? "sum" : (info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "");
    if (op != "sum" && op != "max" && op != "min") ThrowTypeError("allReduce op", "'sum', 'max' or 'min'", DescribeValue(info[1]));
    const ReduceOp r = op == "sum" ? ReduceOp::kSum : op == "max" ? ReduceOp::kMax : ReduceOp::kMin;
    return RunAsync<at::Tensor>(
        info.Env(),
        [comm, t, r]() {
          at::Tensor d = t.to(comm->device());
          comm->AllReduce(d, r);
          return d;
        },
        TensorResult);
  });
}

Napi::Value ProcessGroupWrap::AllGather(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CommPtr comm = Get(info.Env());
    at::Tensor t = FloatArg(info[0], "allGather data");
    return RunAsync<at::Tensor>(
        info.Env(),
        [comm, t]() {
          // Gloo needs equal sizes everywhere: compare them first so a mismatch is an error, not garbage.
          at::Tensor n = at::full({1}, static_cast<double>(t.numel()), at::TensorOptions().dtype(at::kDouble).device(comm->device()));
          at::Tensor sizes = comm->AllGather(n).to(at::kCPU);
          for (int i = 0; i < comm->size(); ++i) {
            TORCH_CHECK(sizes[i].item<double>() == static_cast<double>(t.numel()), "allGather: rank ", i, " sent ",
                        sizes[i].item<double>(), " elements but rank ", comm->rank(), " sent ", t.numel(),
                        " (every rank must send the same number)");
          }
          return comm->AllGather(t.to(comm->device())).reshape({-1});
        },
        TensorResult);
  });
}

Napi::Value ProcessGroupWrap::Broadcast(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CommPtr comm = Get(info.Env());
    at::Tensor t = FloatArg(info[0], "broadcast data");
    if (!info[1].IsNumber()) ThrowTypeError("broadcast root", "a rank number", DescribeValue(info[1]));
    const int root = info[1].As<Napi::Number>().Int32Value();
    if (root < 0 || root >= comm->size()) {
      ThrowRangeError("broadcast root", "a rank in [0, " + std::to_string(comm->size()) + ")", std::to_string(root));
    }
    return RunAsync<at::Tensor>(
        info.Env(),
        [comm, t, root]() {
          at::Tensor d = t.to(comm->device());
          comm->Broadcast(d, root);
          return d;
        },
        TensorResult);
  });
}

Napi::Value ProcessGroupWrap::Barrier(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CommPtr comm = Get(info.Env());
    return RunAsyncVoid(info.Env(), [comm]() { comm->Barrier(); });
  });
}

Napi::Value ProcessGroupWrap::Split(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    CommPtr comm = Get(info.Env());
    const std::string where = "split options";
    Napi::Object opts = RequireObject(info[0], where);
    const CommunicatorOptions o = ReadGroupOptions(opts, where);
    const std::string prefix = GetString(opts, "prefix", where);
    if (o.size > comm->size()) {
      ThrowRangeError(where + ".worldSize", "at most the group's " + std::to_string(comm->size()) + " ranks",
                      std::to_string(o.size));
    }
    return RunAsync<CommPtr>(info.Env(), [comm, prefix, o]() { return comm->Split(prefix, o); }, NewGroupObject);
  });
}

Napi::Value ProcessGroupWrap::Dispose(const Napi::CallbackInfo& info) {
  comm_.reset();  // a running job keeps its own reference; the connections close when it ends
  return info.Env().Undefined();
}

}  // namespace longrope
