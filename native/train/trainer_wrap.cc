#include "train/trainer_wrap.h"

#include "addon_data.h"
#include "common.h"
#include "dist/process_group_wrap.h"
#include "job_wrap.h"
#include "model/model_args.h"
#include "model/model_wrap.h"
#include "rope/rope_wrap.h"

namespace longrope {
namespace {

Napi::Value CreateTrainer(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    std::shared_ptr<const LlamaModel> model = ModelWrap::FromObject(info[0], "model");
    const std::string where = "createTrainer options";
    Napi::Object opts = info[1].IsUndefined() ? Napi::Object::New(info.Env()) : RequireObject(info[1], where);
    AdamWConfig cfg{GetNumber(opts, "beta1", where, 0.9), GetNumber(opts, "beta2", where, 0.95),
                    GetNumber(opts, "eps", where, 1e-8), GetNumber(opts, "weightDecay", where, 0.0)};
    using Ptr = std::shared_ptr<Trainer>;
    auto* holder = new Ptr(std::make_shared<Trainer>(model, cfg));
    return GetAddonData(info.Env()).trainer_constructor.New({Napi::External<Ptr>::New(info.Env(), holder, [](Napi::Env, Ptr* p) { delete p; }), info[0]});
  });
}

}  // namespace

void TrainerWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeTrainer",
                                    {InstanceMethod("step", &TrainerWrap::Step),
                                     InstanceMethod("optimizerStateInfo", &TrainerWrap::OptimizerStateInfo),
                                     InstanceMethod("saveOptimizerState", &TrainerWrap::SaveOptimizerState),
                                     InstanceMethod("loadOptimizerState", &TrainerWrap::LoadOptimizerState),
                                     InstanceMethod("parameter", &TrainerWrap::Parameter),
                                     InstanceMethod("dispose", &TrainerWrap::Dispose)});
  GetAddonData(env).trainer_constructor = Napi::Persistent(ctor);
  exports.Set("createTrainer", Napi::Function::New(env, CreateTrainer, "createTrainer"));
}

TrainerWrap::TrainerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainerWrap>(info) {
  using Ptr = std::shared_ptr<Trainer>;
  if (info.Length() != 2 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeTrainer cannot be constructed directly: use createTrainer()");
  }
  trainer_ = *info[0].As<Napi::External<Ptr>>().Data();
  model_ = ModelWrap::FromObject(info[1], "model");
}

std::shared_ptr<Trainer> TrainerWrap::Get(const Napi::Env& env) const {
  if (!trainer_) throw Napi::Error::New(env, "This trainer has been disposed");
  return trainer_;
}

Napi::Value TrainerWrap::Step(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto trainer = Get(info.Env());
    const std::string where = "step options";
    at::Tensor flat = ParseTokens(info[0], "tokens", model_->config().vocab);
    Napi::Object opts = RequireObject(info[1], where);
    const int64_t micro = GetInteger(opts, "microBatches", where), batch = GetInteger(opts, "batch", where),
                  seq = GetInteger(opts, "seq", where);
    if (micro < 1 || batch < 1 || seq < 2 || flat.numel() != micro * batch * seq) {
      ThrowTypeError("tokens", std::to_string(micro) + " x " + std::to_string(batch) + " x " + std::to_string(seq) +
                                   " token ids (microBatches x batch x seq, seq >= 2)",
                     std::to_string(flat.numel()));
    }
    TrainStepOptions step;
    step.rope = ParseRopeParams(RequireObject(opts.Get("rope"), where + ".rope"), where + ".rope");
    step.lr = GetNumber(opts, "lr", where);
    step.clip = GetNumber(opts, "clip", where, 1.0);
    step.checkpointing = GetBool(opts, "checkpointing", where, false);
    step.chunk = GetInteger(opts, "chunk", where, 4096);
    step.naive = GetString(opts, "impl", where, std::string("fused")) == "naive";
    step.autocast = GetBool(opts, "autocast", where, false);
    Control control = ParseControl(opts, where);
    // Sequence parallelism over a process group (info[2]); the job holds the group until it ends.
    std::shared_ptr<Communicator> comm =
        info.Length() > 2 && !info[2].IsUndefined() ? ProcessGroupWrap::FromObject(info[2], "step group") : nullptr;
    at::Tensor tokens = flat.view({micro, batch, seq});
    return RunAsync<TrainStepResult>(
        info.Env(),
        [=]() mutable {
          control.job.SetTotal(micro);
          step.comm = comm.get();
          return trainer->Step(tokens, step, &control.job);
        },
        [control](Napi::Env env, TrainStepResult& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("loss", r.loss);
          out.Set("gradNorm", r.grad_norm);
          out.Set("tokens", static_cast<double>(r.tokens));
          Napi::Object ms = Napi::Object::New(env);
          ms.Set("forward", r.forward_ms);
          ms.Set("backward", r.backward_ms);
          ms.Set("optimizer", r.optimizer_ms);
          out.Set("milliseconds", ms);
          return out;
        });
  });
}

Napi::Value TrainerWrap::OptimizerStateInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto trainer = Get(info.Env());
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("step", static_cast<double>(trainer->OptimizerStep()));
    out.Set("tensors", NamedShapes(env, trainer->OptimizerState()));
    return out;
  });
}

Napi::Value TrainerWrap::SaveOptimizerState(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto trainer = Get(info.Env());
    const auto [file, header] = ParseSaveTarget(info);
    // Snapshot now (on the JS thread, between steps): the order matches optimizerStateInfo().
    std::vector<at::Tensor> tensors;
    for (auto& [name, t] : trainer->OptimizerState()) tensors.push_back(t.detach().to(at::kCPU, at::kFloat, false, true));
    std::vector<std::string> dtypes(tensors.size(), "F32");
    return RunAsyncVoid(info.Env(), [file = file, header = header, tensors, dtypes]() { SaveTensors(file, header, tensors, dtypes); });
  });
}

Napi::Value TrainerWrap::LoadOptimizerState(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto trainer = Get(info.Env());
    std::vector<TensorLocation> locations = ParseLocations(info[0], "locations");
    if (!info[1].IsNumber()) ThrowTypeError("step", "a non-negative integer", DescribeValue(info[1]));
    const int64_t step = info[1].As<Napi::Number>().Int64Value();
    return RunAsyncVoid(info.Env(), [=]() {
      trainer->LoadOptimizerState(LoadTensors(locations, at::kCPU, at::kFloat, nullptr), step);
    });
  });
}

Napi::Value TrainerWrap::Parameter(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Get(info.Env());
    if (!info[0].IsString()) ThrowTypeError("name", "a parameter name", DescribeValue(info[0]));
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    for (auto& [n, t] : model_->NamedParameters()) {
      if (n == name) return Float32ArrayFromTensor(info.Env(), t);
    }
    ThrowTypeError("name", "a parameter of this model", "'" + name + "'");
  });
}

Napi::Value TrainerWrap::Dispose(const Napi::CallbackInfo& info) {
  trainer_.reset();
  return info.Env().Undefined();
}

}  // namespace longrope
