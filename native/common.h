// Shared N-API plumbing: errors, options, tensor <-> TypedArray copies and the promise worker.
// Everything that crosses the JS boundary goes through here so the error grammar is one.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace longrope {

// Argument errors thrown from native code use the JS layer's grammar:
// "Expected <what> for <field> but received <value>". Guard() turns ThrowTypeError's into a JS
// TypeError and ThrowRangeError's (a value of the right type outside its range) into a RangeError.
[[noreturn]] void ThrowTypeError(const std::string& field, const std::string& expected, const std::string& received);
[[noreturn]] void ThrowRangeError(const std::string& field, const std::string& expected, const std::string& received);

// What ThrowRangeError throws: an invalid argument that Guard() reports as a RangeError.
struct RangeArgumentError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Describes a JS value for an error message (type and a short rendering).
std::string DescribeValue(const Napi::Value& value);

// Reads a property of an options object, with type checks that name the field.
Napi::Object RequireObject(const Napi::Value& value, const std::string& field);
double GetNumber(const Napi::Object& obj, const char* key, const std::string& where, std::optional<double> fallback = std::nullopt);
int64_t GetInteger(const Napi::Object& obj, const char* key, const std::string& where, std::optional<int64_t> fallback = std::nullopt);
std::string GetString(const Napi::Object& obj, const char* key, const std::string& where, std::optional<std::string> fallback = std::nullopt);
bool GetBool(const Napi::Object& obj, const char* key, const std::string& where, bool fallback);
bool Has(const Napi::Object& obj, const char* key);

// Copies a Float32Array into a new CPU float tensor of the given shape (checks the element count).
// Copies, because the tensor is used on a worker thread after the JS call returns.
at::Tensor TensorFromFloat32Array(const Napi::Value& value, const std::vector<int64_t>& shape, const std::string& field);
std::vector<int64_t> ShapeFromArray(const Napi::Value& value, const std::string& field);
// obj[key] as a HostTensor ({data: Float32Array, shape: number[]}, src/native.ts) -> a new CPU
// float tensor; errors name `where.key.data` / `where.key.shape`.
at::Tensor ParseHostTensor(const Napi::Object& obj, const char* key, const std::string& where);
// Int32Array -> int64 tensor (positions).
at::Tensor TensorFromInt32Array(const Napi::Value& value, const std::string& field);
// Any tensor (any dtype/device) -> a new Float32Array holding its float32 CPU values.
Napi::Float32Array Float32ArrayFromTensor(Napi::Env env, const at::Tensor& tensor);
Napi::Array ShapeToArray(Napi::Env env, at::IntArrayRef shape);
// [{name, shape}] of named tensors (parameter lists, optimizer state).
Napi::Array NamedShapes(Napi::Env env, const std::vector<std::pair<std::string, at::Tensor>>& tensors);

// Message of any exception with c10's backtrace stripped (users need the reason, not frames).
std::string ExceptionMessage(const std::exception& e);

// Runs `work` on the libuv pool and resolves the promise with `toJs(result)` on the JS thread.
// Exceptions in either step reject the promise with their message; the Node process never dies.
template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, Work work, ToJs toJs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), toJs_(std::move(toJs)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      result_ = std::make_unique<Result>(work_());
    } catch (const std::exception& e) {
      SetError(ExceptionMessage(e));
    } catch (...) {
      SetError("unknown native error");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(toJs_(env, *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(env, ExceptionMessage(e)).Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs toJs_;
  std::unique_ptr<Result> result_;
};

template <typename Result>
Napi::Promise RunAsync(Napi::Env env, std::function<Result()> work,
                       std::function<Napi::Value(Napi::Env, Result&)> toJs) {
  auto* worker = new PromiseWorker<Result>(env, std::move(work), std::move(toJs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// RunAsync for work with no result: the promise resolves to undefined.
inline Napi::Promise RunAsyncVoid(Napi::Env env, std::function<void()> work) {
  return RunAsync<bool>(
      env, [work = std::move(work)]() { work(); return true; },
      [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
}

// Wraps a synchronous binding so C++ exceptions (c10::Error included) become JS errors.
Napi::Value Guard(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& body);

}  // namespace longrope
