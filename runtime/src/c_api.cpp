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
thread_local std::string t_out;  // decision JSON, reused
std::atomic<uint64_t> g_next_id{1};

// Each thread keeps a decider for the bundle it used last. The cached decider does not own
// the bundle (it holds a non-owning alias of the handle's pointer), so pave_close frees
// the bundle even while other threads still cache a decider for it: ids are never reused,
// so such a stale decider is never used again, only destroyed when its thread moves on to
// another bundle or exits. The closing thread drops its own cached decider at once.
struct CachedDecider {
  uint64_t id = 0;
  std::unique_ptr<Decider> decider;
};
thread_local CachedDecider tDecider;

Decider& deciderFor(pave_bundle* bundle) {
  if (tDecider.id != bundle->id) {
    tDecider.decider.reset();
    tDecider.id = 0;
    std::shared_ptr<const LoadedBundle> borrowed(std::shared_ptr<const LoadedBundle>(), bundle->bundle.get());
    tDecider.decider = std::make_unique<Decider>(std::move(borrowed));
    tDecider.id = bundle->id;
  }
  return *tDecider.decider;
}

pave_bundle* wrap(std::shared_ptr<const LoadedBundle> b, const std::string& error) {
  if (!b) {
    t_last_error = error;
    return nullptr;
  }
  return new (std::nothrow) pave_bundle{std::move(b), g_next_id++};
}

pave::rt::LoadOptions options(const char* publicKeyPem) {
  pave::rt::LoadOptions o;
  if (publicKeyPem) o.publicKeysPem.emplace_back(publicKeyPem);  // "" is an invalid key, not "no key"
  return o;
}

void appendJsonString(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

char* copyOut(const std::string& out) {
  char* p = static_cast<char*>(std::malloc(out.size() + 1));
  if (!p) {
    t_last_error = "out of memory";
    return nullptr;
  }
  std::memcpy(p, out.data(), out.size());
  p[out.size()] = 0;
  return p;
}

// Decides into the thread's reused buffer t_out; nullptr (t_last_error set) on a failure.
const std::string* decideToThreadBuffer(pave_bundle* bundle, const char* inputJson, size_t size, int explain) {
  if (!bundle || (!inputJson && size)) {
    t_last_error = "invalid arguments";
    return nullptr;
  }
  try {
    Decider& decider = deciderFor(bundle);
    const pave::rt::Decision& d = decider.decide({inputJson ? inputJson : "", size}, explain != 0);
    std::string& out = t_out;
    out.clear();
    pave::rt::toJson(*bundle->bundle, d, out);
    return &out;
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

}  // namespace

extern "C" {
// The C API keeps C's naming (pave_snake_case), not the C++ code's.
// NOLINTBEGIN(readability-identifier-naming)

pave_bundle* pave_open(const uint8_t* bytes, size_t size, const char* publicKeyPem) {
  std::string error;
  try {
    return wrap(LoadedBundle::load({bytes, size}, options(publicKeyPem), &error), error);
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

pave_bundle* pave_open_file(const char* path, const char* publicKeyPem) {
  std::string error;
  try {
    return wrap(LoadedBundle::loadFile(path ? path : "", options(publicKeyPem), &error), error);
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

char* pave_decide(pave_bundle* bundle, const char* inputJson, size_t size, int explain) {
  const std::string* out = decideToThreadBuffer(bundle, inputJson, size, explain);
  return out ? copyOut(*out) : nullptr;
}

size_t pave_decide_into(pave_bundle* bundle, const char* inputJson, size_t size, int explain, char* buf, size_t cap) {
  if (!buf && cap) {
    t_last_error = "invalid arguments";
    return PAVE_DECIDE_FAILED;
  }
  const std::string* out = decideToThreadBuffer(bundle, inputJson, size, explain);
  if (!out) return PAVE_DECIDE_FAILED;
  if (out->size() <= cap && !out->empty()) std::memcpy(buf, out->data(), out->size());
  return out->size();
}

char* pave_bundle_info(const pave_bundle* bundle) {
  if (!bundle) {
    t_last_error = "invalid arguments";
    return nullptr;
  }
  try {
    const LoadedBundle& b = *bundle->bundle;
    const pave::rt::Bundle& m = b.model();
    auto str = [&](std::string& out, pave::rt::StrId id) {
      if (id == pave::rt::kNone || id >= m.strings.size()) out += "null";
      else appendJsonString(out, m.strings[id]);
    };
    std::string out = "{\"digest\":\"sha256:";
    out += b.digestHex();
    out += '"';
    out += b.isSigned() ? ",\"signed\":true" : ",\"signed\":false";
    out += ",\"signer_key\":";
    if (b.signerKeyHex().empty()) out += "null";
    else out += "\"sha256:" + std::string(b.signerKeyHex()) + '"';
    out += ",\"name\":";
    str(out, m.meta.name);
    out += ",\"revision\":";
    str(out, m.meta.revision);
    out += ",\"compiler_version\":";
    str(out, m.meta.compilerVersion);
    out += ",\"sources_digest\":";
    str(out, m.meta.sourcesDigest);
    out += ",\"rules\":" + std::to_string(m.rules.size());
    out += ",\"request_types\":[";
    for (size_t i = 0; i < m.schema.requests.size(); ++i) {
      if (i) out += ',';
      str(out, m.schema.requests[i].name);
    }
    out += "],\"principal_types\":[";
    for (size_t i = 0; i < m.schema.principals.size(); ++i) {
      if (i) out += ',';
      str(out, m.schema.principals[i].name);
    }
    out += "]}";
    return copyOut(out);
  } catch (const std::exception& e) {
    t_last_error = e.what();
    return nullptr;
  }
}

const char* pave_version(void) { return PAVE_VERSION_STRING; }

const char* pave_last_error(void) { return t_last_error.c_str(); }
void pave_free(void* p) { std::free(p); }
void pave_close(pave_bundle* bundle) {
  if (bundle && tDecider.id == bundle->id) {
    tDecider.decider.reset();
    tDecider.id = 0;
  }
  delete bundle;
}

// NOLINTEND(readability-identifier-naming)
}  // extern "C"
