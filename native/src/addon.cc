// ssl_torch: an N-API addon exposing libtorch tensors and ATen ops to the `torch` tfjs backend.
//
// Tensors live in a handle table (integer ids, see tensor-table.h); JavaScript only ever holds ids.
// Most kernels are one generic boxed call through the c10 dispatcher (`call`), looked up once by
// operator name (`op`). The hot paths (NHWC convolution and batch norm) are dedicated functions
// because they permute to channels_last views around the ATen call.

#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "caching-allocator.h"
#include "tensor-table.h"

namespace {

using ssl::TensorTable;

TensorTable& table() {
  static TensorTable t;
  return t;
}

// ---- dtype codes shared with src/backend/torch/addon.ts: 0 float32, 1 int32, 2 bool, 3 int64 ----
constexpr int kFloat32 = 0;
constexpr int kInt32 = 1;
constexpr int kBool = 2;
constexpr int kInt64 = 3;

at::ScalarType scalarTypeOf(int code) {
  switch (code) {
    case kFloat32: return at::kFloat;
    case kInt32: return at::kInt;
    case kBool: return at::kBool;
    default: throw std::runtime_error("ssl_torch: unknown dtype code " + std::to_string(code));
  }
}

int codeOf(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return kFloat32;
    case at::kInt: return kInt32;
    case at::kBool: return kBool;
    case at::kLong: return kInt64;
    default: throw std::runtime_error(std::string("ssl_torch: unsupported result dtype ") + c10::toString(t));
  }
}

// tfjs knows float32, int32 and bool only: doubles become float32 and small integer types int32.
// int64 stays (ATen wants it for indices); the backend casts int64 kernel outputs to int32.
at::Tensor normaliseDtype(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat:
    case at::kInt:
    case at::kBool:
    case at::kLong:
      return t;
    case at::kDouble:
    case at::kHalf:
    case at::kBFloat16:
      return t.to(at::kFloat);
    default:
      return t.to(at::kInt);
  }
}

// Registers a result and describes it to JavaScript as [id, dtypeCode, ...shape].
Napi::Value describe(Napi::Env env, const at::Tensor& raw) {
  at::Tensor t = normaliseDtype(raw);
  const int64_t id = table().add(t);
  const auto sizes = t.sizes();
  Napi::Array out = Napi::Array::New(env, sizes.size() + 2);
  out.Set(uint32_t{0}, Napi::Number::New(env, static_cast<double>(id)));
  out.Set(uint32_t{1}, Napi::Number::New(env, codeOf(t.scalar_type())));
  for (size_t i = 0; i < sizes.size(); i++) {
    out.Set(static_cast<uint32_t>(i + 2), Napi::Number::New(env, static_cast<double>(sizes[i])));
  }
  return out;
}

std::vector<int64_t> intList(const Napi::Value& v) {
  if (v.IsNumber()) return {v.As<Napi::Number>().Int64Value()};
  if (!v.IsArray()) throw std::runtime_error("expected an int or an array of ints");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

const at::Tensor& tensorArg(const Napi::Value& v) {
  return table().get(v.As<Napi::Number>().Int64Value());
}

// Converts one JavaScript argument to the IValue the schema type asks for.
c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type) {
  using K = c10::TypeKind;
  switch (type->kind()) {
    case K::OptionalType: {
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return toIValue(v, type->castRaw<c10::OptionalType>()->getElementType());
    }
    case K::TensorType:
      return tensorArg(v);
    case K::IntType:
    case K::SymIntType:
      return v.As<Napi::Number>().Int64Value();
    case K::FloatType:
      return v.As<Napi::Number>().DoubleValue();
    case K::BoolType:
      return v.ToBoolean().Value();
    case K::NumberType: {
      // A Scalar: integral JS numbers stay integers so int32 tensors are not promoted to float.
      if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
      const double d = v.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d) && std::abs(d) < 9.0e15 && std::trunc(d) == d) return static_cast<int64_t>(d);
      return d;
    }
    case K::StringType:
      return v.As<Napi::String>().Utf8Value();
    case K::ListType: {
      const c10::TypePtr elem = type->castRaw<c10::ListType>()->getElementType();
      switch (elem->kind()) {
        case K::IntType:
        case K::SymIntType:
          return c10::IValue(intList(v));
        case K::FloatType: {
          Napi::Array a = v.As<Napi::Array>();
          std::vector<double> out(a.Length());
          for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().DoubleValue();
          return c10::IValue(out);
        }
        case K::BoolType: {
          Napi::Array a = v.As<Napi::Array>();
          c10::List<bool> out;
          for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).ToBoolean().Value());
          return c10::IValue(out);
        }
        case K::TensorType: {
          Napi::Array a = v.As<Napi::Array>();
          std::vector<at::Tensor> out;
          out.reserve(a.Length());
          for (uint32_t i = 0; i < a.Length(); i++) out.push_back(tensorArg(a.Get(i)));
          return c10::IValue(out);
        }
        case K::OptionalType: {
          Napi::Array a = v.As<Napi::Array>();
          c10::List<c10::optional<at::Tensor>> out;
          for (uint32_t i = 0; i < a.Length(); i++) {
            Napi::Value e = a.Get(i);
            if (e.IsNull() || e.IsUndefined()) {
              out.push_back(c10::nullopt);
            } else {
              out.push_back(tensorArg(e));
            }
          }
          return c10::IValue(out);
        }
        default:
          break;
      }
      throw std::runtime_error("unsupported list argument type " + type->str());
    }
    case K::DeviceObjType:
      return c10::Device(c10::kCPU);
    default:
      throw std::runtime_error("unsupported argument type " + type->str());
  }
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return describe(env, v.toTensor());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(static_cast<uint32_t>(i), describe(env, list.get(i)));
    return out;
  }
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isNone()) return env.Null();
  throw std::runtime_error(std::string("unsupported return type ") + v.tagKind());
}

std::vector<c10::OperatorHandle>& ops() {
  static std::vector<c10::OperatorHandle> o;
  return o;
}

// Runs `body`, turning C++ exceptions into JavaScript errors without libtorch's backtrace.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* what, F body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("ssl_torch ") + what + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("ssl_torch ") + what + ": " + e.what());
  }
}

// op(name, overload) -> index for call(); throws if ATen has no such operator.
Napi::Value Op(const Napi::CallbackInfo& info) {
  return guarded(info, "op", [&]() -> Napi::Value {
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    const std::string overload = info[1].As<Napi::String>().Utf8Value();
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle.has_value()) throw std::runtime_error("no ATen operator " + name + "." + overload);
    ops().push_back(*handle);
    return Napi::Number::New(info.Env(), static_cast<double>(ops().size() - 1));
  });
}

// call(index, args[]) -> [id, dtype, ...shape] for one tensor result, an array of those for
// several (or a tensor list), or a number/boolean. Missing trailing args take schema defaults.
Napi::Value Call(const Napi::CallbackInfo& info) {
  const uint32_t index = info[0].As<Napi::Number>().Uint32Value();
  if (index >= ops().size()) throw Napi::Error::New(info.Env(), "ssl_torch call: bad operator index");
  const c10::OperatorHandle& op = ops()[index];
  return guarded(info, op.schema().name().c_str(), [&]() -> Napi::Value {
    const auto& schema = op.schema();
    const auto& args = schema.arguments();
    Napi::Array js = info[1].As<Napi::Array>();
    if (js.Length() > args.size()) throw std::runtime_error("too many arguments");
    torch::jit::Stack stack;
    stack.reserve(args.size());
    for (size_t i = 0; i < args.size(); i++) {
      if (i < js.Length()) {
        stack.emplace_back(toIValue(js.Get(static_cast<uint32_t>(i)), args[i].type()));
      } else if (args[i].default_value().has_value()) {
        stack.emplace_back(*args[i].default_value());
      } else {
        throw std::runtime_error("missing argument " + args[i].name());
      }
    }
    op.callBoxed(&stack);
    if (stack.size() == 1) return fromIValue(info.Env(), stack[0]);
    Napi::Array out = Napi::Array::New(info.Env(), stack.size());
    for (size_t i = 0; i < stack.size(); i++) out.Set(static_cast<uint32_t>(i), fromIValue(info.Env(), stack[i]));
    return out;
  });
}

// fromData(typedArray, shape[], dtypeCode) -> [id, dtype, ...shape]; copies the values.
Napi::Value FromData(const Napi::CallbackInfo& info) {
  return guarded(info, "fromData", [&]() -> Napi::Value {
    Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
    const std::vector<int64_t> shape = intList(info[1]);
    const at::ScalarType dtype = scalarTypeOf(info[2].As<Napi::Number>().Int32Value());
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    const size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (arr.ByteLength() != bytes) {
      throw std::runtime_error("data has " + std::to_string(arr.ByteLength()) + " bytes, shape needs " +
                               std::to_string(bytes));
    }
    if (bytes > 0) {
      const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
      std::memcpy(t.data_ptr(), src, bytes);
    }
    return describe(info.Env(), t);
  });
}

// toData(id) -> Float32Array | Int32Array | Uint8Array (bool), a copy in row-major order.
Napi::Value ToData(const Napi::CallbackInfo& info) {
  return guarded(info, "toData", [&]() -> Napi::Value {
    const at::Tensor t = tensorArg(info[0]).contiguous();
    const size_t n = static_cast<size_t>(t.numel());
    Napi::Env env = info.Env();
    switch (t.scalar_type()) {
      case at::kFloat: {
        auto out = Napi::Float32Array::New(env, n);
        if (n > 0) std::memcpy(out.Data(), t.data_ptr(), n * 4);
        return out;
      }
      case at::kInt: {
        auto out = Napi::Int32Array::New(env, n);
        if (n > 0) std::memcpy(out.Data(), t.data_ptr(), n * 4);
        return out;
      }
      case at::kBool: {
        auto out = Napi::Uint8Array::New(env, n);
        if (n > 0) std::memcpy(out.Data(), t.data_ptr(), n);
        return out;
      }
      default:
        throw std::runtime_error("unsupported dtype");
    }
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, "free", [&]() -> Napi::Value {
    table().remove(info[0].As<Napi::Number>().Int64Value());
    return info.Env().Undefined();
  });
}

Napi::Value Live(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(table().live()));
}

// strides(id) -> element strides of the native tensor (tests check kernels return row-major NHWC).
Napi::Value Strides(const Napi::CallbackInfo& info) {
  return guarded(info, "strides", [&]() -> Napi::Value {
    const auto st = tensorArg(info[0]).strides();
    Napi::Array out = Napi::Array::New(info.Env(), st.size());
    for (size_t i = 0; i < st.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(st[i])));
    return out;
  });
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "setThreads", [&]() -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

// allocatorStats() -> { cachedBytes, liveBytes, hits, misses } of the caching allocator.
Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  const auto s = ssl::CachingCpuAllocator::instance().stats();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("cachedBytes", Napi::Number::New(info.Env(), static_cast<double>(s.cachedBytes)));
  out.Set("liveBytes", Napi::Number::New(info.Env(), static_cast<double>(s.liveBytes)));
  out.Set("hits", Napi::Number::New(info.Env(), static_cast<double>(s.hits)));
  out.Set("misses", Napi::Number::New(info.Env(), static_cast<double>(s.misses)));
  return out;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  ssl::CachingCpuAllocator::instance().emptyCache();
  return info.Env().Undefined();
}

// setCacheLimit(bytes): most freed memory kept for reuse (0 disables caching).
Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  ssl::CachingCpuAllocator::instance().setLimit(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
  return info.Env().Undefined();
}

Napi::Value Config(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), at::show_config());
}

// ---- NHWC convolution: tfjs filters are [kh, kw, cin, cout], ATen's [cout, cin, kh, kw] ----

at::Tensor nchwView(const at::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}); }
at::Tensor nhwcOf(const at::Tensor& nchw) { return nchw.permute({0, 2, 3, 1}).contiguous(); }
at::Tensor atenFilter(const at::Tensor& hwio) { return hwio.permute({3, 2, 0, 1}); }

// ---- convolution precision: fp32, or bf16 arithmetic between fp32 tensors ----
// With bf16 on, each convolution (forward and both gradients) casts its operands to bfloat16, runs
// oneDNN's bf16 kernel (which accumulates in fp32) and returns fp32: autocast for convolutions
// only, so master weights, batch norm, softmax and the loss stay fp32. Worth it only where the CPU
// has bf16 arithmetic (avx512_bf16, AMX); elsewhere oneDNN emulates bf16 at a fraction of fp32's
// speed, which is why the JavaScript side only turns it on after reading the CPU flags.
bool g_bf16Conv = false;

// Measured on an avx512_bf16 EPYC: oneDNN's bf16 filter gradient for a 3-channel input took 270 ms
// against a few ms in fp32, so convolutions over few input channels (an RGB or grey stem) and
// grouped ones stay fp32; from 16 input channels on, bf16 wins.
constexpr int64_t kBf16MinInputChannels = 16;

// inChannels: the filter's input channels per group (tfjs HWIO filters: dimension 2).
bool bf16For(int64_t inChannels, int64_t groups) {
  return g_bf16Conv && groups == 1 && inChannels >= kBf16MinInputChannels;
}

at::Tensor convOperand(const at::Tensor& t, bool bf16) { return bf16 ? t.to(at::kBFloat16) : t; }
at::Tensor fp32(const at::Tensor& t) { return t.scalar_type() == at::kFloat ? t : t.to(at::kFloat); }

// setConvPrecision(bf16: boolean)
Napi::Value SetConvPrecision(const Napi::CallbackInfo& info) {
  g_bf16Conv = info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

struct ConvGeometry {
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups;
};

// Arguments from JS: stride [sh, sw], padding [ph, pw] (symmetric), dilation [dh, dw], groups.
ConvGeometry geometry(const Napi::CallbackInfo& info, size_t first) {
  return ConvGeometry{intList(info[first]), intList(info[first + 1]), intList(info[first + 2]),
                      info[first + 3].As<Napi::Number>().Int64Value()};
}

// conv2d(x, filter, stride, padding, dilation, groups) -> y (NHWC). For depthwise convs the
// filter is [kh, kw, 1, C] as ATen wants [C, 1, kh, kw]: the same permute works.
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2d", [&]() -> Napi::Value {
    const at::Tensor& x = tensorArg(info[0]);
    const at::Tensor& w = tensorArg(info[1]);
    const ConvGeometry g = geometry(info, 2);
    const bool bf = bf16For(w.size(2), g.groups);
    at::Tensor y = at::convolution(convOperand(nchwView(x), bf), convOperand(atenFilter(w), bf), c10::nullopt, g.stride,
                                   g.padding, g.dilation, false, {0, 0}, g.groups);
    return describe(info.Env(), nhwcOf(fp32(y)));
  });
}

// conv2dBackward(dy, x, filter, stride, padding, dilation, groups, needInput, needFilter)
// -> [dx | null, dfilter | null]: one convolution_backward for both gradients.
Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackward", [&]() -> Napi::Value {
    const at::Tensor& dy = tensorArg(info[0]);
    const at::Tensor& x = tensorArg(info[1]);
    const at::Tensor& w = tensorArg(info[2]);
    const ConvGeometry g = geometry(info, 3);
    const bool bf = bf16For(w.size(2), g.groups);
    const bool needInput = info[7].ToBoolean().Value();
    const bool needFilter = info[8].ToBoolean().Value();
    auto r = at::convolution_backward(convOperand(nchwView(dy), bf), convOperand(nchwView(x), bf), convOperand(atenFilter(w), bf),
                                      c10::nullopt, g.stride, g.padding, g.dilation, false, {0, 0}, g.groups,
                                      {needInput, needFilter, false});
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(uint32_t{0}, needInput ? describe(env, nhwcOf(fp32(std::get<0>(r)))) : env.Null());
    out.Set(uint32_t{1}, needFilter ? describe(env, fp32(std::get<1>(r)).permute({2, 3, 1, 0}).contiguous()) : env.Null());
    return out;
  });
}

// conv2dBackpropInput(dy, filter, inputShape NHWC, stride, padding, dilation, groups) -> dx.
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackpropInput", [&]() -> Napi::Value {
    const at::Tensor& dy = tensorArg(info[0]);
    const at::Tensor& w = tensorArg(info[1]);
    const std::vector<int64_t> s = intList(info[2]);
    const ConvGeometry g = geometry(info, 3);
    const bool bf = bf16For(w.size(2), g.groups);
    // convolution_backward only reads the input's shape and layout when the filter gradient is off.
    const at::Tensor dyIn = convOperand(nchwView(dy), bf);
    at::Tensor xShape = at::empty({s[0], s[3], s[1], s[2]}, dyIn.options().memory_format(at::MemoryFormat::ChannelsLast));
    auto r = at::convolution_backward(dyIn, xShape, convOperand(atenFilter(w), bf), c10::nullopt, g.stride, g.padding,
                                      g.dilation, false, {0, 0}, g.groups, {true, false, false});
    return describe(info.Env(), nhwcOf(fp32(std::get<0>(r))));
  });
}

// conv2dBackpropFilter(x, dy, filterShape HWIO, stride, padding, dilation, groups) -> dfilter.
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBackpropFilter", [&]() -> Napi::Value {
    const at::Tensor& x = tensorArg(info[0]);
    const at::Tensor& dy = tensorArg(info[1]);
    const std::vector<int64_t> s = intList(info[2]);
    ConvGeometry g = geometry(info, 3);
    const bool bf = bf16For(s[2], g.groups);
    at::Tensor src = convOperand(nchwView(x), bf);
    at::Tensor wShape = at::empty({s[3], s[2], s[0], s[1]}, src.options());
    // libtorch 1.13's weight-only convolution_backward corrupts the heap ("free(): invalid next
    // size") for a strided 1x1 filter without padding. Such a conv only reads x[:, :, ::sh, ::sw]:
    // take that view and run the stride-1 gradient, which is the same sum.
    const bool strided1x1 = s[0] == 1 && s[1] == 1 && g.padding[0] == 0 && g.padding[1] == 0 && (g.stride[0] > 1 || g.stride[1] > 1);
    if (strided1x1) {
      src = src.slice(2, 0, c10::nullopt, g.stride[0]).slice(3, 0, c10::nullopt, g.stride[1]).contiguous(at::MemoryFormat::ChannelsLast);
      g.stride = {1, 1};
    }
    auto r = at::convolution_backward(convOperand(nchwView(dy), bf), src, wShape, c10::nullopt, g.stride, g.padding,
                                      g.dilation, false, {0, 0}, g.groups, {false, true, false});
    return describe(info.Env(), fp32(std::get<1>(r)).permute({2, 3, 1, 0}).contiguous());
  });
}

// ---- batch norm over the last axis of NHWC [N, H, W, C] or NC [N, C] input ----

at::Tensor channelsFirst(const at::Tensor& x) { return x.dim() == 4 ? nchwView(x) : x; }
at::Tensor channelsLast(const at::Tensor& y) { return y.dim() == 4 ? nhwcOf(y) : y.contiguous(); }

c10::optional<at::Tensor> optionalTensor(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return c10::nullopt;
  return tensorArg(v);
}

// The activation of a fused call, in place on its fresh output: act 0 none, 1 relu, 2 leaky relu
// with slope alpha.
void activateInPlace(at::Tensor& y, int act, double alpha, const char* caller) {
  if (act == 1) {
    at::relu_(y);
  } else if (act == 2) {
    at::leaky_relu_(y, alpha);
  } else if (act != 0) {
    throw std::runtime_error(std::string(caller) + ": unknown activation code " + std::to_string(act));
  }
}

// conv2dBiasAct(x, filter, bias|null, stride, padding, dilation, groups, act, alpha) -> y (NHWC):
// the convolution with its bias in one oneDNN call, then the activation in place on the fresh
// output (act 0 none, 1 relu, 2 leaky relu with slope alpha). The inference pass of a conv whose
// BatchNorm was folded into filter and bias; never on the tape, so in place is safe.
Napi::Value Conv2dBiasAct(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dBiasAct", [&]() -> Napi::Value {
    const at::Tensor& x = tensorArg(info[0]);
    const at::Tensor& w = tensorArg(info[1]);
    const ConvGeometry g = geometry(info, 3);
    const bool bf = bf16For(w.size(2), g.groups);
    c10::optional<at::Tensor> bias = optionalTensor(info[2]);
    if (bias) bias = convOperand(*bias, bf);
    at::Tensor y = fp32(at::convolution(convOperand(nchwView(x), bf), convOperand(atenFilter(w), bf), bias, g.stride, g.padding,
                                        g.dilation, false, {0, 0}, g.groups));
    activateInPlace(y, info[7].As<Napi::Number>().Int32Value(), info[8].As<Napi::Number>().DoubleValue(), "conv2dBiasAct");
    return describe(info.Env(), nhwcOf(y));
  });
}

// batchNormTrain(x, gamma|null, beta|null, eps) -> [y, mean, invstd] with batch statistics.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormTrain", [&]() -> Napi::Value {
    const at::Tensor& x = tensorArg(info[0]);
    auto r = at::native_batch_norm(channelsFirst(x), optionalTensor(info[1]), optionalTensor(info[2]), c10::nullopt,
                                   c10::nullopt, true, 0.0, info[3].As<Napi::Number>().DoubleValue());
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(uint32_t{0}, describe(env, channelsLast(std::get<0>(r))));
    out.Set(uint32_t{1}, describe(env, std::get<1>(r)));
    out.Set(uint32_t{2}, describe(env, std::get<2>(r)));
    return out;
  });
}

// batchNormTrainBackward(dy, x, gamma|null, mean, invstd, eps, needX, needGamma, needBeta)
// -> [dx|null, dgamma|null, dbeta|null].
// batchNormActTrain(x, gamma|null, beta|null, eps, act, alpha) -> [z, mean, invstd]: batch norm with
// batch statistics, then the activation in place on its fresh output (act 1 relu, 2 leaky relu
// with slope alpha). The normalised tensor is never kept: the backward reads z, whose sign is
// the normalised value's for any slope > 0, and x.
Napi::Value BatchNormActTrain(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormActTrain", [&]() -> Napi::Value {
    const at::Tensor& x = tensorArg(info[0]);
    auto r = at::native_batch_norm(channelsFirst(x), optionalTensor(info[1]), optionalTensor(info[2]), c10::nullopt,
                                   c10::nullopt, true, 0.0, info[3].As<Napi::Number>().DoubleValue());
    at::Tensor z = channelsLast(std::get<0>(r));
    const int act = info[4].As<Napi::Number>().Int32Value();
    // Code 0 would make this plain batchNormTrain: refused, as the JS side never sends it.
    if (act == 0) throw std::runtime_error("batchNormActTrain: activation code 0 (none); use batchNormTrain");
    activateInPlace(z, act, info[5].As<Napi::Number>().DoubleValue(), "batchNormActTrain");
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(uint32_t{0}, describe(env, z));
    out.Set(uint32_t{1}, describe(env, std::get<1>(r)));
    out.Set(uint32_t{2}, describe(env, std::get<2>(r)));
    return out;
  });
}

Napi::Value BatchNormTrainBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormTrainBackward", [&]() -> Napi::Value {
    const at::Tensor& dy = tensorArg(info[0]);
    const at::Tensor& x = tensorArg(info[1]);
    const std::array<bool, 3> mask = {info[6].ToBoolean().Value(), info[7].ToBoolean().Value(),
                                      info[8].ToBoolean().Value()};
    // The channels_last kernel wants dy in the same layout as x.
    auto r = at::native_batch_norm_backward(channelsFirst(dy), channelsFirst(x), optionalTensor(info[2]),
                                            c10::nullopt, c10::nullopt, tensorArg(info[3]), tensorArg(info[4]), true,
                                            info[5].As<Napi::Number>().DoubleValue(), mask);
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(uint32_t{0}, mask[0] ? describe(env, channelsLast(std::get<0>(r))) : env.Null());
    out.Set(uint32_t{1}, mask[1] ? describe(env, std::get<1>(r)) : env.Null());
    out.Set(uint32_t{2}, mask[2] ? describe(env, std::get<2>(r)) : env.Null());
    return out;
  });
}

// batchNormEval(x, mean, variance, gamma|null, beta|null, eps) -> y with the given statistics.
Napi::Value BatchNormEval(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormEval", [&]() -> Napi::Value {
    const at::Tensor& x = tensorArg(info[0]);
    auto r = at::native_batch_norm(channelsFirst(x), optionalTensor(info[3]), optionalTensor(info[4]),
                                   tensorArg(info[1]), tensorArg(info[2]), false, 0.0,
                                   info[5].As<Napi::Number>().DoubleValue());
    return describe(info.Env(), channelsLast(std::get<0>(r)));
  });
}

// ---- parameter updates: one N-API call instead of four or five boxed calls and their frees ----

// sgdUpdate(param, grad, velocity, lr, momentum, weightDecay, nesterov) -> [param', velocity'].
// The same ATen ops in the same order as the boxed version (torch.optim.SGD's _single_tensor_sgd,
// 1.13), so results are bit for bit those of PyTorch and of the previous implementation.
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "sgdUpdate", [&]() -> Napi::Value {
    const at::Tensor& param = tensorArg(info[0]);
    const at::Tensor& grad = tensorArg(info[1]);
    const at::Tensor& velocity = tensorArg(info[2]);
    const double lr = info[3].As<Napi::Number>().DoubleValue();
    const double momentum = info[4].As<Napi::Number>().DoubleValue();
    const double wd = info[5].As<Napi::Number>().DoubleValue();
    const bool nesterov = info[6].ToBoolean().Value();
    const at::Tensor d = wd != 0 ? at::add(grad, param, wd) : grad;
    at::Tensor v = at::add(at::mul(velocity, momentum), d);
    const at::Tensor step = nesterov ? at::add(d, v, momentum) : v;
    at::Tensor p = at::add(param, step, -lr);
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(uint32_t{0}, describe(env, p));
    out.Set(uint32_t{1}, describe(env, v));
    return out;
  });
}

// emaUpdate(target, source, decay) -> decay·target + (1 − decay)·source, as the boxed version.
Napi::Value EmaUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "emaUpdate", [&]() -> Napi::Value {
    const double decay = info[2].As<Napi::Number>().DoubleValue();
    return describe(info.Env(), at::add(at::mul(tensorArg(info[0]), decay), at::mul(tensorArg(info[1]), 1 - decay)));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // We never use autograd (tfjs does the differentiation): skip its dispatch overhead for good.
  static c10::InferenceMode* inference = new c10::InferenceMode(true);
  (void)inference;
  // Reuse large freed blocks instead of page-faulting fresh ones every step (caching-allocator.h).
  c10::SetCPUAllocator(&ssl::CachingCpuAllocator::instance(), 100);
  exports.Set("op", Napi::Function::New(env, Op));
  exports.Set("call", Napi::Function::New(env, Call));
  exports.Set("fromData", Napi::Function::New(env, FromData));
  exports.Set("toData", Napi::Function::New(env, ToData));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("live", Napi::Function::New(env, Live));
  exports.Set("strides", Napi::Function::New(env, Strides));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("config", Napi::Function::New(env, Config));
  exports.Set("allocatorStats", Napi::Function::New(env, AllocatorStats));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache));
  exports.Set("setCacheLimit", Napi::Function::New(env, SetCacheLimit));
  exports.Set("setConvPrecision", Napi::Function::New(env, SetConvPrecision));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBiasAct", Napi::Function::New(env, Conv2dBiasAct));
  exports.Set("conv2dBackward", Napi::Function::New(env, Conv2dBackward));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  exports.Set("batchNormTrainBackward", Napi::Function::New(env, BatchNormTrainBackward));
  exports.Set("batchNormActTrain", Napi::Function::New(env, BatchNormActTrain));
  exports.Set("batchNormEval", Napi::Function::New(env, BatchNormEval));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
  exports.Set("emaUpdate", Napi::Function::New(env, EmaUpdate));
  return exports;
}

}  // namespace

NODE_API_MODULE(ssl_torch, Init)
