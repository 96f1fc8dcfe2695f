#include "job_wrap.h"

#include "common.h"

namespace longrope {

Control ParseControl(const Napi::Object& opts, const std::string& where) {
  if (!Has(opts, "control")) return {};
  Napi::Value v = opts.Get("control");
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::TypedArray>().ElementLength() < 3) {
    ThrowTypeError(where + ".control", "an Int32Array of at least 3 elements", DescribeValue(v));
  }
  auto arr = v.As<Napi::Int32Array>();
  auto ref = std::make_shared<Napi::ObjectReference>(Napi::Persistent(arr.As<Napi::Object>()));
  return {ref, JobControl(arr.Data())};
}

at::Tensor ParseTokens(const Napi::Value& v, const std::string& field) {
  at::Tensor t = TensorFromInt32Array(v, field);
  if (t.numel() == 0) ThrowTypeError(field, "a non-empty Int32Array of token ids", "an empty one");
  return t;
}


std::pair<std::string, std::string> ParseSaveTarget(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) ThrowTypeError("file", "a path string", DescribeValue(info[0]));
  if (!info[1].IsBuffer()) ThrowTypeError("header", "a Buffer", DescribeValue(info[1]));
  auto buf = info[1].As<Napi::Buffer<char>>();
  return {info[0].As<Napi::String>().Utf8Value(), std::string(buf.Data(), buf.Length())};
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

}  // namespace longrope
