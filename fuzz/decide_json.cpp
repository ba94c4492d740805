// libFuzzer target: arbitrary bytes as a decision input (SPEC §7.2) against a bundle,
// by default the example repository's. Nothing may crash, trip a sanitizer or hang, and:
//   - the decision JSON is well-formed JSON;
//   - deciding is deterministic (the same input twice gives the same bytes);
//   - explaining changes nothing but the added "trace" (the decider takes shortcuts only
//     when not explaining, so this checks they never change a decision);
//   - the order of a batch (rt::decisionOrder over the input's lines, as `pave eval -` and
//     /v1/decide/batch use it) is a permutation of the lines.
//
// The bundle is read from the file named by PAVE_FUZZ_BUNDLE (see fuzz/README.md).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pave/json_lines.h"
#include "pave/runtime.h"

namespace {

std::unique_ptr<pave::rt::Decider> g_decider;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* path = std::getenv("PAVE_FUZZ_BUNDLE");
  if (!path) {
    std::fprintf(stderr, "fuzz_decide_json: set PAVE_FUZZ_BUNDLE to a bundle (.pvb), e.g. one built from examples/\n");
    std::abort();
  }
  std::string error;
  auto bundle = pave::rt::LoadedBundle::loadFile(path, {}, &error);
  if (!bundle) {
    std::fprintf(stderr, "fuzz_decide_json: cannot load %s: %s\n", path, error.c_str());
    std::abort();
  }
  g_decider = std::make_unique<pave::rt::Decider>(std::move(bundle));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string plain = g_decider->decideJson(input, false);
  std::string again = g_decider->decideJson(input, false);
  std::string explained = g_decider->decideJson(input, true);
  if (plain != again) {
    std::fprintf(stderr, "nondeterministic decision:\n%s\n%s\n", plain.c_str(), again.c_str());
    std::abort();
  }
  auto j = nlohmann::json::parse(plain, nullptr, false);
  auto e = nlohmann::json::parse(explained, nullptr, false);
  if (j.is_discarded() || e.is_discarded()) {
    std::fprintf(stderr, "decision is not valid JSON:\n%s\n%s\n", plain.c_str(), explained.c_str());
    std::abort();
  }
  e.erase("trace");
  if (e != j) {
    std::fprintf(stderr, "explaining changed the decision:\n%s\n%s\n", plain.c_str(), explained.c_str());
    std::abort();
  }
  std::vector<std::string_view> lines;
  for (size_t at = 0; at <= input.size();) {
    const size_t nl = std::min(input.find('\n', at), input.size());
    lines.push_back(input.substr(at, nl - at));
    at = nl + 1;
  }
  std::vector<uint32_t> order;
  pave::rt::decisionOrder(lines, order);
  std::vector<bool> seen(lines.size());
  for (uint32_t i : order) {
    if (i >= lines.size() || seen[i]) {
      std::fprintf(stderr, "decisionOrder is not a permutation of %zu lines\n", lines.size());
      std::abort();
    }
    seen[i] = true;
  }
  if (order.size() != lines.size()) std::abort();
  return 0;
}
