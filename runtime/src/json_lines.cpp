#include "pave/json_lines.h"

#include <algorithm>
#include <cstring>

namespace pave::rt {
namespace {

constexpr std::string_view kType = "\"type\"";

// The string after the next `"type"` member name at or after `at` (moved past it), or an
// empty view. No unescaping: the key only groups.
std::string_view nextType(std::string_view line, size_t& at) {
  const size_t name = line.find(kType, at);
  if (name == std::string_view::npos) {
    at = line.size();
    return {};
  }
  size_t i = name + kType.size();
  while (i < line.size() && (line[i] == ' ' || line[i] == ':' || line[i] == '\t')) ++i;
  if (i >= line.size() || line[i] != '"') {
    at = i;
    return {};
  }
  const size_t end = line.find('"', i + 1);
  at = end == std::string_view::npos ? line.size() : end + 1;
  return line.substr(i + 1, (end == std::string_view::npos ? line.size() : end) - i - 1);
}

uint32_t groupKey(std::string_view line) {
  size_t at = 0;
  const std::string_view first = nextType(line, at), second = nextType(line, at);
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over both, with a separator
  for (std::string_view s : {first, std::string_view("\0", 1), second})
    for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001b3ull;
  return uint32_t(h ^ (h >> 32));
}

}  // namespace

void decisionOrder(std::span<const std::string_view> inputs, std::vector<uint32_t>& order) {
  // (key, index) in one word: sorting the words groups by key and keeps input order in a group.
  thread_local std::vector<uint64_t> keyed;
  keyed.resize(inputs.size());
  for (uint32_t i = 0; i < inputs.size(); ++i) keyed[i] = uint64_t(groupKey(inputs[i])) << 32 | i;
  std::sort(keyed.begin(), keyed.end());
  order.resize(inputs.size());
  for (size_t i = 0; i < keyed.size(); ++i) order[i] = uint32_t(keyed[i]);
}

}  // namespace pave::rt
