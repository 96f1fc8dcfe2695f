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

}  // namespace longrope
