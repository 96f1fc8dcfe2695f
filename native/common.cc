#include "common.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <sstream>

namespace longrope {

void ThrowTypeError(const std::string& field, const std::string& expected, const std::string& received) {
  throw std::invalid_argument("Expected " + expected + " for " + field + " but received " + received);
}

void ThrowRangeError(const std::string& field, const std::string& expected, const std::string& received) {
  throw RangeArgumentError("Expected " + expected + " for " + field + " but received " + received);
}

std::string DescribeValue(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsNumber()) {
    std::ostringstream s;
    s << value.As<Napi::Number>().DoubleValue() << " of type number";
    return s.str();
  }
  if (value.IsString()) return "'" + value.As<Napi::String>().Utf8Value() + "' of type string";
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value() ? "true" : "false";
  if (value.IsTypedArray()) {
    auto arr = value.As<Napi::TypedArray>();
    std::ostringstream s;
    s << "a typed array of length " << arr.ElementLength();
    return s.str();
  }
  if (value.IsArray()) return "an array";
  if (value.IsFunction()) return "a function";
  return "an object";
}

Napi::Object RequireObject(const Napi::Value& value, const std::string& field) {
  if (!value.IsObject() || value.IsArray()) ThrowTypeError(field, "an object", DescribeValue(value));
  return value.As<Napi::Object>();
}

bool Has(const Napi::Object& obj, const char* key) {
  return obj.Has(key) && !obj.Get(key).IsUndefined();
}

double GetNumber(const Napi::Object& obj, const char* key, const std::string& where, std::optional<double> fallback) {
  const std::string field = where + "." + key;
  if (!Has(obj, key)) {
    if (fallback) return *fallback;
    ThrowTypeError(field, "a number", "undefined");
  }
  Napi::Value v = obj.Get(key);
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    ThrowTypeError(field, "a finite number", DescribeValue(v));
  }
  return v.As<Napi::Number>().DoubleValue();
}

int64_t GetInteger(const Napi::Object& obj, const char* key, const std::string& where, std::optional<int64_t> fallback) {
  std::optional<double> f;
  if (fallback) f = static_cast<double>(*fallback);
  const double d = GetNumber(obj, key, where, f);
  if (d != std::floor(d)) ThrowTypeError(where + "." + key, "an integer", DescribeValue(obj.Get(key)));
  return static_cast<int64_t>(d);
}

std::string GetString(const Napi::Object& obj, const char* key, const std::string& where, std::optional<std::string> fallback) {
  if (!Has(obj, key)) {
    if (fallback) return *fallback;
    ThrowTypeError(where + "." + key, "a string", "undefined");
  }
  Napi::Value v = obj.Get(key);
  if (!v.IsString()) ThrowTypeError(where + "." + key, "a string", DescribeValue(v));
  return v.As<Napi::String>().Utf8Value();
}

bool GetBool(const Napi::Object& obj, const char* key, const std::string& where, bool fallback) {
  if (!Has(obj, key)) return fallback;
  Napi::Value v = obj.Get(key);
  if (!v.IsBoolean()) ThrowTypeError(where + "." + key, "a boolean", DescribeValue(v));
  return v.As<Napi::Boolean>().Value();
}

std::vector<int64_t> ShapeFromArray(const Napi::Value& value, const std::string& field) {
  if (!value.IsArray()) ThrowTypeError(field, "an array of positive integers", DescribeValue(value));
  auto arr = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1) || d != std::floor(d)) {
      ThrowTypeError(field + "[" + std::to_string(i) + "]", "a positive integer", DescribeValue(v));
    }
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

at::Tensor TensorFromFloat32Array(const Napi::Value& value, const std::vector<int64_t>& shape, const std::string& field) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowTypeError(field, "a Float32Array", DescribeValue(value));
  }
  auto arr = value.As<Napi::Float32Array>();
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  if (static_cast<int64_t>(arr.ElementLength()) != numel) {
    ThrowTypeError(field, "a Float32Array of " + std::to_string(numel) + " elements (the product of its shape)",
                   "one of " + std::to_string(arr.ElementLength()));
  }
  at::Tensor t = at::empty(shape, at::kFloat);
  std::memcpy(t.data_ptr<float>(), arr.Data(), numel * sizeof(float));
  return t;
}

at::Tensor ParseHostTensor(const Napi::Object& obj, const char* key, const std::string& where) {
  const std::string field = where + "." + key;
  Napi::Object t = RequireObject(obj.Get(key), field);
  return TensorFromFloat32Array(t.Get("data"), ShapeFromArray(t.Get("shape"), field + ".shape"), field + ".data");
}

at::Tensor TensorFromInt32Array(const Napi::Value& value, const std::string& field) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(field, "an Int32Array", DescribeValue(value));
  }
  auto arr = value.As<Napi::Int32Array>();
  at::Tensor t = at::empty({static_cast<int64_t>(arr.ElementLength())}, at::kInt);
  std::memcpy(t.data_ptr<int32_t>(), arr.Data(), arr.ElementLength() * sizeof(int32_t));
  return t.to(at::kLong);
}

Napi::Float32Array Float32ArrayFromTensor(Napi::Env env, const at::Tensor& tensor) {
  at::Tensor t = tensor.detach().to(at::kCPU).to(at::kFloat).contiguous();
  auto arr = Napi::Float32Array::New(env, t.numel());
  std::memcpy(arr.Data(), t.data_ptr<float>(), t.numel() * sizeof(float));
  return arr;
}

Napi::Array ShapeToArray(Napi::Env env, at::IntArrayRef shape) {
  auto arr = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) arr.Set(i, Napi::Number::New(env, static_cast<double>(shape[i])));
  return arr;
}

Napi::Array NamedShapes(Napi::Env env, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  auto list = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("name", tensors[i].first);
    t.Set("shape", ShapeToArray(env, tensors[i].second.sizes()));
    list.Set(i, t);
  }
  return list;
}

std::string ExceptionMessage(const std::exception& e) {
  if (auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

Napi::Value Guard(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const RangeArgumentError& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  } catch (const std::invalid_argument& e) {
    throw Napi::TypeError::New(info.Env(), e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), ExceptionMessage(e));
  }
}

}  // namespace longrope
