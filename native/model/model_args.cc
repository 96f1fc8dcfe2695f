#include "model/model_args.h"

#include "common.h"

namespace longrope {

at::Tensor ParseTokens(const Napi::Value& v, const std::string& field, int64_t vocab) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(field, "an Int32Array of token ids", DescribeValue(v));
  }
  auto arr = v.As<Napi::Int32Array>();
  const int64_t n = static_cast<int64_t>(arr.ElementLength());
  if (n == 0) ThrowTypeError(field, "a non-empty Int32Array of token ids", "an empty one");
  // Checked here, on the host copy: a check on the device would cost a synchronisation per call,
  // and an id out of range would otherwise fail inside the embedding (a device assert on CUDA).
  at::Tensor t = at::empty({n}, at::kLong);
  const int32_t* in = arr.Data();
  int64_t* out = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (in[i] < 0 || in[i] >= vocab) {
      ThrowRangeError(field + "[" + std::to_string(i) + "]", "token ids in [0, " + std::to_string(vocab) + ")",
                      std::to_string(in[i]));
    }
    out[i] = in[i];
  }
  return t;
}

std::vector<TensorLocation> ParseLocations(const Napi::Value& v, const std::string& field) {
  if (!v.IsArray()) ThrowTypeError(field, "an array of tensor locations", DescribeValue(v));
  auto arr = v.As<Napi::Array>();
  std::vector<TensorLocation> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    const std::string where = field + "[" + std::to_string(i) + "]";
    Napi::Object o = RequireObject(arr.Get(i), where);
    out.push_back({GetString(o, "name", where), GetString(o, "dtype", where), ShapeFromArray(o.Get("shape"), where + ".shape"),
                   GetString(o, "file", where), GetInteger(o, "offset", where), GetInteger(o, "byteLength", where)});
  }
  return out;
}

std::pair<std::string, std::string> ParseSaveTarget(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) ThrowTypeError("file", "a path string", DescribeValue(info[0]));
  if (!info[1].IsBuffer()) ThrowTypeError("header", "a Buffer", DescribeValue(info[1]));
  auto buf = info[1].As<Napi::Buffer<char>>();
  return {info[0].As<Napi::String>().Utf8Value(), std::string(buf.Data(), buf.Length())};
}

ForwardOptions ParseForwardOptions(const Napi::Object& opts, const std::string& where) {
  ForwardOptions f;
  f.chunk = GetInteger(opts, "chunk", where, 4096);
  f.attention_tile = GetInteger(opts, "attentionTile", where, 256);
  f.naive = GetString(opts, "impl", where, std::string("fused")) == "naive";
  if (f.chunk < 1) ThrowTypeError(where + ".chunk", "a positive integer", std::to_string(f.chunk));
  if (f.attention_tile < 16) ThrowTypeError(where + ".attentionTile", "an integer >= 16", std::to_string(f.attention_tile));
  return f;
}

}  // namespace longrope
