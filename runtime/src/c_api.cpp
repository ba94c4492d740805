#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "pave/runtime.h"
#include "pave/vm.h"

using pave::rt::Decider;
using pave::rt::LoadedBundle;

struct pave_bundle {
  std::shared_ptr<const LoadedBundle> bundle;
  uint64_t id;
};

namespace {

thread_local std::string t_last_error;
std::atomic<uint64_t> g_next_id{1};

// Each thread keeps a decider for the bundle it used last.
struct CachedDecider {
  uint64_t id = 0;
  std::unique_ptr<Decider> decider;
};
thread_local CachedDecider t_decider;

pave_bundle* wrap(std::shared_ptr<const LoadedBundle> b, const std::string& error) {
  if (!b) {
    t_last_error = error;
    return nullptr;
  }
  return new (std::nothrow) pave_bundle{std::move(b), g_next_id++};
}

pave::rt::LoadOptions options(const char* public_key_pem) {
  pave::rt::LoadOptions o;
  if (public_key_pem) o.public_key_pem = public_key_pem;
  return o;
}

}  // namespace

extern "C" {

pave_bundle* pave_open(const uint8_t* bytes, size_t size, const char* public_key_pem) {
  std::string error;
  try {
    return wrap(LoadedBundle::load({bytes, size}, options(public_key_pem), &error), error);
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

pave_bundle* pave_open_file(const char* path, const char* public_key_pem) {
  std::string error;
  try {
    return wrap(LoadedBundle::loadFile(path ? path : "", options(public_key_pem), &error), error);
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

char* pave_decide(pave_bundle* bundle, const char* input_json, size_t size, int explain) {
  if (!bundle || (!input_json && size)) {
    t_last_error = "invalid arguments";
    return nullptr;
  }
  try {
    if (t_decider.id != bundle->id) {
      t_decider.decider = std::make_unique<Decider>(bundle->bundle);
      t_decider.id = bundle->id;
    }
    std::string out = t_decider.decider->decideJson({input_json ? input_json : "", size}, explain != 0);
    char* p = static_cast<char*>(std::malloc(out.size() + 1));
    if (!p) {
      t_last_error = "out of memory";
      return nullptr;
    }
    std::memcpy(p, out.data(), out.size() + 1);
    return p;
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

const char* pave_last_error(void) { return t_last_error.c_str(); }
void pave_free(void* p) { std::free(p); }
void pave_close(pave_bundle* bundle) { delete bundle; }

}  // extern "C"
