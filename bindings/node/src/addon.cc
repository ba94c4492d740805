// The C API (pave/vm.h) for Node.js; index.js builds the public API on it. A reader-writer
// lock lets the main thread and the worker threads of decideAsync decide at once, while
// close() waits for the decisions in progress and then frees the bundle.
#include <napi.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "pave/vm.h"

namespace {

struct Result {
  char* p = nullptr;
  Result() = default;
  Result(const Result&) = delete;
  ~Result() { pave_free(p); }
};

// The bundle, shared by the JS object and the async decisions in flight.
struct Shared {
  pave_bundle* b = nullptr;
  std::shared_mutex mu;
  ~Shared() { pave_close(b); }
};

Napi::Error closedError(Napi::Env env) {
  Napi::Error e = Napi::Error::New(env, "the bundle is closed");
  e.Set("code", Napi::String::New(env, "ERR_PAVE_CLOSED"));
  return e;
}

// A growable buffer whose bytes are never cleared: its size is its capacity.
struct Buf {
  std::string bytes = std::string(4096, '\0');
  void atLeast(size_t n) {
    if (bytes.size() < n) bytes.resize(n);
  }
  // After an exceptional input or decision (over 1 MB), give the memory back.
  void trim() {
    if (bytes.size() > (1u << 20)) bytes = std::string(4096, '\0');
  }
};

// Input text: a string (UTF-8) or a Buffer, into out (length n). Strings are written in one
// pass; only a string that may not have fit is measured and written again.
bool inputText(const Napi::Value& v, Buf& out, size_t& n) {
  if (v.IsString()) {
    napi_env env = v.Env();
    napi_get_value_string_utf8(env, v, out.bytes.data(), out.bytes.size(), &n);
    if (n + 4 >= out.bytes.size()) {  // maybe cut short (never inside a character): measure it
      napi_get_value_string_utf8(env, v, nullptr, 0, &n);
      out.atLeast(n + 1);
      napi_get_value_string_utf8(env, v, out.bytes.data(), out.bytes.size(), &n);
    }
    return true;
  }
  if (v.IsBuffer()) {
    auto buf = v.As<Napi::Buffer<char>>();
    n = buf.Length();
    out.atLeast(n);
    if (n) std::memcpy(out.bytes.data(), buf.Data(), n);
    return true;
  }
  return false;
}

// The input text as its own string (for decideAsync, whose worker thread keeps it).
bool inputText(const Napi::Value& v, std::string& out) {
  if (v.IsString()) {
    out = v.As<Napi::String>().Utf8Value();
    return true;
  }
  if (v.IsBuffer()) {
    auto buf = v.As<Napi::Buffer<char>>();
    out.assign(buf.Data(), buf.Length());
    return true;
  }
  return false;
}

// One synchronous decision with pave_decide_into, its JSON into out (no allocation to free;
// decided again into a larger buffer when it did not fit). False on an internal failure
// (pave_last_error says why).
bool decideInto(pave_bundle* b, const char* in, size_t size, bool explain, Buf& out, size_t& n) {
  n = pave_decide_into(b, in, size, explain ? 1 : 0, out.bytes.data(), out.bytes.size());
  if (n == PAVE_DECIDE_FAILED) return false;
  if (n > out.bytes.size()) {
    out.atLeast(n);
    n = pave_decide_into(b, in, size, explain ? 1 : 0, out.bytes.data(), out.bytes.size());
    if (n == PAVE_DECIDE_FAILED) return false;
  }
  return n <= out.bytes.size();
}

class DecideWorker : public Napi::AsyncWorker {
 public:
  DecideWorker(Napi::Env env, std::shared_ptr<Shared> s, std::string input, bool explain)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), s_(std::move(s)),
        input_(std::move(input)), explain_(explain) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::shared_lock lock(s_->mu);
    if (!s_->b) {
      closed_ = true;
      return;
    }
    Result r;
    r.p = pave_decide(s_->b, input_.data(), input_.size(), explain_ ? 1 : 0);
    if (!r.p) error_ = pave_last_error();
    else out_ = r.p;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (closed_) deferred_.Reject(closedError(env).Value());
    else if (!error_.empty()) deferred_.Reject(Napi::Error::New(env, error_).Value());
    else deferred_.Resolve(Napi::String::New(env, out_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Shared> s_;
  std::string input_, out_, error_;
  bool explain_, closed_ = false;
};

class NativeBundle : public Napi::ObjectWrap<NativeBundle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeBundle",
                       {StaticMethod<&NativeBundle::OpenFile>("openFile"),
                        StaticMethod<&NativeBundle::OpenBytes>("openBytes"),
                        InstanceMethod<&NativeBundle::Decide>("decide"),
                        InstanceMethod<&NativeBundle::DecideAsync>("decideAsync"),
                        InstanceMethod<&NativeBundle::BenchCApi>("benchCApi"),
                        InstanceMethod<&NativeBundle::Info>("info"),
                        InstanceMethod<&NativeBundle::Close>("close"),
                        InstanceAccessor<&NativeBundle::Closed>("closed")});
  }

  NativeBundle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBundle>(info) {}

  static Napi::FunctionReference* constructor;

  static Napi::Value Wrap(Napi::Env env, pave_bundle* b) {
    Napi::Object o = constructor->New({});
    NativeBundle* self = Napi::ObjectWrap<NativeBundle>::Unwrap(o);
    self->s_ = std::make_shared<Shared>();
    self->s_->b = b;
    return o;
  }

  // keys: null/undefined (not checked) or a string (PEM text, maybe several keys).
  static Napi::Value OpenFile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
    std::string path = info[0].As<Napi::String>();
    std::string keys;
    bool has_keys = keyArg(info, 1, keys);
    pave_bundle* b = pave_open_file(path.c_str(), has_keys ? keys.c_str() : nullptr);
    if (!b) throw openError(env, pave_last_error());
    return Wrap(env, b);
  }

  static Napi::Value OpenBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "data must be a Uint8Array");
    auto data = info[0].As<Napi::Uint8Array>();
    std::string keys;
    bool has_keys = keyArg(info, 1, keys);
    pave_bundle* b = pave_open(data.Data(), data.ByteLength(), has_keys ? keys.c_str() : nullptr);
    if (!b) throw openError(env, pave_last_error());
    return Wrap(env, b);
  }

  Napi::Value Decide(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    thread_local Buf input, out;
    size_t size = 0;
    if (info.Length() < 1 || !inputText(info[0], input, size))
      throw Napi::TypeError::New(env, "input must be a string or a Buffer");
    bool explain = info.Length() > 1 && info[1].ToBoolean();
    if (!s_) throw closedError(env);
    size_t n = 0;
    bool ok;
    {
      std::shared_lock lock(s_->mu);
      if (!s_->b) throw closedError(env);
      ok = decideInto(s_->b, input.bytes.data(), size, explain, out, n);
    }
    input.trim();
    if (!ok) throw Napi::Error::New(env, pave_last_error());
    Napi::String result = Napi::String::New(env, out.bytes.data(), n);
    out.trim();
    return result;
  }

  // For bench/bindings_bench.sh only: the C API baseline in this process. Decides
  // inputs[i % n] for i < iterations with pave_decide (malloc'd result, freed), as a C
  // program would, so the binding's overhead is measured against it under the same load.
  Napi::Value BenchCApi(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "benchCApi(inputs: string[], iterations: number)");
    if (!s_) throw closedError(env);
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::string> inputs;
    for (uint32_t i = 0; i < arr.Length(); ++i) inputs.push_back(arr.Get(i).As<Napi::String>());
    if (inputs.empty()) throw Napi::TypeError::New(env, "no inputs");
    int64_t iters = info[1].As<Napi::Number>().Int64Value();
    std::shared_lock lock(s_->mu);
    if (!s_->b) throw closedError(env);
    size_t sink = 0;
    for (int64_t i = 0; i < iters; ++i) {
      const std::string& in = inputs[static_cast<size_t>(i) % inputs.size()];
      char* d = pave_decide(s_->b, in.data(), in.size(), 0);
      if (!d) throw Napi::Error::New(env, pave_last_error());
      sink += static_cast<unsigned char>(d[13]);
      pave_free(d);
    }
    return Napi::Number::New(env, static_cast<double>(sink));
  }

  Napi::Value DecideAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string input;
    if (info.Length() < 1 || !inputText(info[0], input))
      throw Napi::TypeError::New(env, "input must be a string or a Buffer");
    bool explain = info.Length() > 1 && info[1].ToBoolean();
    if (!s_) throw closedError(env);
    auto* w = new DecideWorker(env, s_, std::move(input), explain);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!s_) throw closedError(env);
    std::shared_lock lock(s_->mu);
    if (!s_->b) throw closedError(env);
    Result r;
    r.p = pave_bundle_info(s_->b);
    if (!r.p) throw Napi::Error::New(env, pave_last_error());
    return Napi::String::New(env, r.p);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!s_) return info.Env().Undefined();
    pave_bundle* b;
    {
      std::unique_lock lock(s_->mu);  // waits for the decisions in progress
      b = s_->b;
      s_->b = nullptr;
    }
    pave_close(b);
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) {
    if (!s_) return Napi::Boolean::New(info.Env(), true);
    std::shared_lock lock(s_->mu);
    return Napi::Boolean::New(info.Env(), s_->b == nullptr);
  }

 private:
  std::shared_ptr<Shared> s_;

  static bool keyArg(const Napi::CallbackInfo& info, size_t i, std::string& out) {
    if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return false;
    if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "public keys must be a string");
    out = info[i].As<Napi::String>();
    return true;
  }
  static Napi::Error openError(Napi::Env env, const char* message) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", Napi::String::New(env, "ERR_PAVE_OPEN"));
    return e;
  }
};

Napi::FunctionReference* NativeBundle::constructor = nullptr;

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = NativeBundle::Init(env);
  NativeBundle::constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("NativeBundle", cls);
  exports.Set("version", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::String::New(info.Env(), pave_version());
              }));
  return exports;
}

}  // namespace

NODE_API_MODULE(pave_native, InitModule)
