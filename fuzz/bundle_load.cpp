// libFuzzer target: arbitrary bytes as a bundle through the loader and verifier, and any
// bundle that loads through disassembly, inspection and a few decisions, each explained
// and not (they must agree but for the trace). Nothing may crash, trip a sanitizer or hang.
//
// Mutated bundles almost never carry a matching SHA-256 trailer, which would stop every
// input at the digest check. So each input is loaded twice: as given, and with its last
// 32 bytes replaced by the digest of everything before them (unsigned bundles), which
// lets mutations reach the section decoders and the verifier.
#include <openssl/sha.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pave/runtime.h"

namespace {

constexpr const char* kInputs[] = {
    R"({"type":"CloudRole","principal":{"type":"Human","email":"a@b.c","groups":["g"],"on_call":true},
        "request":{"account":"1","owner":"team-a","role":"admin","env":"prod","duration":"30m",
        "tags":{"cost-center":"1"},"justification":"a justification of twenty characters"},
        "context":{"time":"2026-11-27T10:00:00Z","break_glass":false,"source_ip":"10.0.0.1"}})",
    R"({"type":"SecretAccess","principal":{"type":"Agent","model":"m","operator":"team-data"},
        "request":{"path":"kv/teams/team-data/x","mode":"read","persistent":true,"ttl":"10m"},
        "context":{"time":"2026-11-27T22:00:00Z","break_glass":false}})",
};

void exercise(const uint8_t* data, size_t size) {
  std::string error;
  auto bundle = pave::rt::LoadedBundle::load({data, size}, {}, &error);
  if (!bundle) return;
  (void)pave::rt::disassemble(bundle->model());
  (void)pave::rt::inspect(*bundle);
  pave::rt::Decider decider(bundle);
  for (const char* input : kInputs) {
    // Explaining changes nothing but the trace: the plain decision takes every shortcut
    // (dispatch, probes, functions specialized per principal type), the explained one none.
    std::string plain = decider.decideJson(input, false);
    auto p = nlohmann::json::parse(plain, nullptr, false);
    auto e = nlohmann::json::parse(decider.decideJson(input, true), nullptr, false);
    if (p.is_discarded() || e.is_discarded()) {
      std::fprintf(stderr, "decision is not valid JSON:\n%s\n", plain.c_str());
      std::abort();
    }
    e.erase("trace");
    if (e != p) {
      std::fprintf(stderr, "explaining changed the decision:\n%s\n%s\n", p.dump().c_str(), e.dump().c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(data, size);
  if (size > SHA256_DIGEST_LENGTH) {
    std::vector<uint8_t> fixed(data, data + size);
    size_t content = size - SHA256_DIGEST_LENGTH;
    SHA256(fixed.data(), content, fixed.data() + content);
    exercise(fixed.data(), fixed.size());
  }
  return 0;
}
