#include "model/model_wrap.h"

#include "addon_data.h"
#include <c10/core/GradMode.h>

#include "common.h"
#include "device.h"
#include "job_wrap.h"
#include "model/model_args.h"
#include "model/tensor_names.h"
#include "rope/rope_wrap.h"

namespace longrope {
namespace {

LlamaConfig ParseConfig(const Napi::Object& c, const std::string& where) {
  LlamaConfig cfg;
  cfg.vocab = GetInteger(c, "vocabSize", where);
  cfg.hidden = GetInteger(c, "hiddenSize", where);
  cfg.intermediate = GetInteger(c, "intermediateSize", where);
  cfg.layers = GetInteger(c, "numLayers", where);
  cfg.heads = GetInteger(c, "numHeads", where);
  cfg.kv_heads = GetInteger(c, "numKvHeads", where);
  cfg.head_dim = GetInteger(c, "headDim", where);
  cfg.rms_norm_eps = GetNumber(c, "rmsNormEps", where);
  cfg.sliding_window = c.Get("slidingWindow").IsNumber() ? GetInteger(c, "slidingWindow", where) : 0;
  cfg.tie_word_embeddings = GetBool(c, "tieWordEmbeddings", where, false);
  for (int64_t v : {cfg.vocab, cfg.hidden, cfg.intermediate, cfg.layers, cfg.heads, cfg.kv_heads, cfg.head_dim}) {
    if (v < 1) ThrowTypeError(where, "positive model sizes", std::to_string(v));
  }
  return cfg;
}

at::ScalarType ParseDtype(const Napi::Object& opts, const std::string& where, const at::Device& device) {
  const std::string d = GetString(opts, "dtype", where, std::string(device.is_cuda() ? "bfloat16" : "float32"));
  if (d == "float32") return at::kFloat;
  if (d == "bfloat16") return at::kBFloat16;
  if (d == "float16") return at::kHalf;
  ThrowTypeError(where + ".dtype", "'float32', 'bfloat16' or 'float16'", "'" + d + "'");
}

// The inverse of ParseDtype: the names loadModel accepts, not c10's ("Float", "BFloat16", "Half").
std::string DtypeName(at::ScalarType dtype) {
  if (dtype == at::kFloat) return "float32";
  if (dtype == at::kBFloat16) return "bfloat16";
  if (dtype == at::kHalf) return "float16";
  throw std::logic_error(std::string("a model in dtype ") + c10::toString(dtype));
}

Napi::Object SpecToJs(Napi::Env env, const TensorSpec& spec) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", spec.name);
  Napi::Array shape = Napi::Array::New(env, spec.rank);
  for (int i = 0; i < spec.rank; ++i) shape.Set(i, DimName(spec.dims[i]));
  shape.Freeze();
  o.Set("shape", shape);
  o.Freeze();
  return o;
}

// The tensor-name table (model/tensor_names.h) as frozen JS data: NativeTensorNames in src/native.ts.
Napi::Object TensorNamesToJs(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("embedTokens", SpecToJs(env, kEmbedTokens));
  out.Set("layerPrefix", kLayerPrefix);
  Napi::Array layer = Napi::Array::New(env, kLayerTensors.size());
  for (size_t i = 0; i < kLayerTensors.size(); ++i) layer.Set(i, SpecToJs(env, kLayerTensors[i]));
  layer.Freeze();
  out.Set("layer", layer);
  out.Set("finalNorm", SpecToJs(env, kFinalNorm));
  out.Set("lmHead", SpecToJs(env, kLmHead));
  out.Freeze();
  return out;
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const std::string where = "loadModel options";
    Napi::Object opts = RequireObject(info[0], where);
    LlamaConfig cfg = ParseConfig(RequireObject(opts.Get("config"), where + ".config"), where + ".config");
    std::vector<TensorLocation> locations = ParseLocations(opts.Get("tensors"), where + ".tensors");
    at::Device device = ParseDevice(GetString(opts, "device", where, std::string("cpu")), where + ".device");
    at::ScalarType dtype = ParseDtype(opts, where, device);
    Control control = ParseControl(opts, where);
    using Ptr = std::shared_ptr<const LlamaModel>;
    return RunAsync<Ptr>(
        info.Env(),
        [=]() mutable {
          NamedTensors weights = LoadTensors(locations, device, dtype, &control.job);
          return Ptr(std::make_shared<LlamaModel>(cfg, std::move(weights), device, dtype));
        },
        [control](Napi::Env env, Ptr& model) -> Napi::Value {
          auto* holder = new Ptr(model);
          return GetAddonData(env).model_constructor.New({Napi::External<Ptr>::New(env, holder, [](Napi::Env, Ptr* p) { delete p; })});
        });
  });
}

}  // namespace

void ModelWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeModel",
                                    {InstanceMethod("nll", &ModelWrap::Nll), InstanceMethod("logits", &ModelWrap::Logits),
                                     InstanceMethod("generate", &ModelWrap::Generate), InstanceMethod("save", &ModelWrap::Save),
                                     InstanceMethod("info", &ModelWrap::Info), InstanceMethod("dispose", &ModelWrap::Dispose)});
  GetAddonData(env).model_constructor = Napi::Persistent(ctor);
  exports.Set("NativeModel", ctor);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  exports.Set("tensorNames", TensorNamesToJs(env));
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  using Ptr = std::shared_ptr<const LlamaModel>;
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeModel cannot be constructed directly: use loadModel()");
  }
  model_ = *info[0].As<Napi::External<Ptr>>().Data();
}

std::shared_ptr<const LlamaModel> ModelWrap::FromObject(const Napi::Value& value, const std::string& field) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(GetAddonData(env).model_constructor.Value())) {
    ThrowTypeError(field, "a NativeModel", DescribeValue(value));
  }
  return Unwrap(value.As<Napi::Object>())->Get(env);
}

std::shared_ptr<const LlamaModel> ModelWrap::Get(const Napi::Env& env) const {
  if (!model_) throw Napi::Error::New(env, "This model has been disposed");
  return model_;
}

// The arguments nll() and logits() share: tokens, {rope, positionOffset, chunk, ..., control}.
// Everything in it is plain C++, so it can travel to the worker thread.
struct ForwardCall {
  at::Tensor tokens;
  RopeParams rope;
  int64_t offset;
  ForwardOptions fwd;
  Control control;
};

static ForwardCall ParseForwardCall(const Napi::CallbackInfo& info, const LlamaModel& model, const Napi::Object& opts,
                                    const std::string& where) {
  ForwardCall c;
  c.tokens = ParseTokens(info[0], "tokens", model.config().vocab);
  c.rope = ParseRopeParams(RequireObject(opts.Get("rope"), where + ".rope"), where + ".rope");
  c.offset = GetInteger(opts, "positionOffset", where, 0);
  c.fwd = ParseForwardOptions(opts, where);
  c.control = ParseControl(opts, where);
  return c;
}

Napi::Value ModelWrap::Nll(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto model = Get(info.Env());
    const Napi::Object opts = RequireObject(info[1], "nll options");
    const ForwardCall c = ParseForwardCall(info, *model, opts, "nll options");
    const int64_t score_from = GetInteger(opts, "scoreFrom", "nll options", 1);
    return RunAsync<at::Tensor>(
        info.Env(),
        [model, c, score_from]() {
          c10::NoGradGuard no_grad;
          c.control.job.SetTotal(model->config().layers + 1);
          return model->Nll(c.tokens, c.offset, score_from, c.rope, c.fwd, &c.control.job).nll;
        },
        [control = c.control](Napi::Env env, at::Tensor& nll) -> Napi::Value { return Float32ArrayFromTensor(env, nll); });
  });
}

Napi::Value ModelWrap::Logits(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto model = Get(info.Env());
    const Napi::Object opts = RequireObject(info[1], "logits options");
    const ForwardCall c = ParseForwardCall(info, *model, opts, "logits options");
    const int64_t last_n = GetInteger(opts, "lastN", "logits options", 1);
    return RunAsync<at::Tensor>(
        info.Env(),
        [model, c, last_n]() {
          c10::NoGradGuard no_grad;
          return model->Logits(c.tokens, c.offset, last_n, c.rope, c.fwd, &c.control.job);
        },
        [control = c.control](Napi::Env env, at::Tensor& logits) -> Napi::Value { return Float32ArrayFromTensor(env, logits); });
  });
}

Napi::Value ModelWrap::Generate(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto model = Get(info.Env());
    const std::string where = "generate options";
    at::Tensor prompt = ParseTokens(info[0], "prompt", model->config().vocab);
    Napi::Object opts = RequireObject(info[1], where);
    RopeSchedule schedule;
    schedule.short_params = ParseRopeParams(RequireObject(opts.Get("rope"), where + ".rope"), where + ".rope");
    if (Has(opts, "longRope")) {
      schedule.long_params = ParseRopeParams(RequireObject(opts.Get("longRope"), where + ".longRope"), where + ".longRope");
      schedule.original_length = GetInteger(opts, "originalLength", where);
    }
    const int64_t max_new = GetInteger(opts, "maxNewTokens", where);
    std::vector<int64_t> stops;
    if (Has(opts, "stopTokens")) {
      at::Tensor s = TensorFromInt32Array(opts.Get("stopTokens"), where + ".stopTokens");
      stops.assign(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + s.numel());
    }
    ForwardOptions fwd = ParseForwardOptions(opts, where);
    Control control = ParseControl(opts, where);
    std::vector<int64_t> prompt_ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
    return RunAsync<GenerateResult>(
        info.Env(),
        [=]() mutable {
          c10::NoGradGuard no_grad;
          control.job.SetTotal(max_new);
          return model->Generate(prompt_ids, max_new, stops, schedule, fwd, &control.job);
        },
        [control](Napi::Env env, GenerateResult& r) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          auto tokens = Napi::Int32Array::New(env, r.tokens.size());
          for (size_t i = 0; i < r.tokens.size(); ++i) tokens[i] = static_cast<int32_t>(r.tokens[i]);
          out.Set("tokens", tokens);
          out.Set("switchedAt", static_cast<double>(r.switched_at));
          return out;
        });
  });
}

Napi::Value ModelWrap::Save(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto model = Get(info.Env());
    const auto [file, header] = ParseSaveTarget(info);
    if (!info[2].IsArray()) ThrowTypeError("tensors", "an array of {name, dtype}", DescribeValue(info[2]));
    std::unordered_map<std::string, at::Tensor> params;
    for (auto& [name, t] : model->NamedParameters()) params.emplace(name, t);
    std::vector<at::Tensor> tensors;
    std::vector<std::string> dtypes;
    auto arr = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Object o = RequireObject(arr.Get(i), "tensors[" + std::to_string(i) + "]");
      const std::string name = GetString(o, "name", "tensors[" + std::to_string(i) + "]");
      auto it = params.find(name);
      if (it == params.end()) ThrowTypeError("tensors[" + std::to_string(i) + "].name", "a parameter of this model", "'" + name + "'");
      tensors.push_back(it->second);
      dtypes.push_back(GetString(o, "dtype", "tensors[" + std::to_string(i) + "]"));
    }
    return RunAsyncVoid(info.Env(), [file = file, header = header, tensors, dtypes]() { SaveTensors(file, header, tensors, dtypes); });
  });
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto model = Get(info.Env());
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("parameterBytes", static_cast<double>(model->ParameterBytes()));
    out.Set("device", model->device().str());
    out.Set("dtype", DtypeName(model->dtype()));
    out.Set("parameters", NamedShapes(env, model->NamedParameters()));
    return out;
  });
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  model_.reset();  // a running job keeps its own reference; memory goes when it finishes
  return info.Env().Undefined();
}

}  // namespace longrope
