// Internal: what the JSON input decoder and the decision writer precompute once per loaded
// bundle, so that a decision spends its time on the input's values and not on the schema.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pave/runtime.h"

namespace pave::rt {

// A fixed map from names to small integers: open addressing over a power-of-two table at
// most half full. Faster than std::unordered_map for the few short keys of a schema.
class NameTable {
 public:
  // When a name repeats, its first entry wins.
  explicit NameTable(const std::vector<std::pair<std::string_view, int32_t>>& entries = {});
  // The value of `name`, or -1.
  int32_t find(std::string_view name) const {
    for (uint32_t i = uint32_t(hash(name)) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value < 0) return -1;
      if (s.name == name) return s.value;
    }
  }

 private:
  struct Slot {
    std::string_view name;
    int32_t value = -1;  // -1: empty
  };
  // Up to 8 bytes from each end and the length, mixed by multiplication: enough to tell the
  // names of a schema apart, and a handful of instructions for a short name.
  static uint64_t hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t head = 0, tail = 0;
    if (n >= 8) {
      std::memcpy(&head, p, 8);
      std::memcpy(&tail, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t h, t;
      std::memcpy(&h, p, 4);
      std::memcpy(&t, p + n - 4, 4);
      head = h, tail = t;
    } else if (n > 0) {
      head = uint64_t(uint8_t(p[0])) | uint64_t(uint8_t(p[n / 2])) << 8 | uint64_t(uint8_t(p[n - 1])) << 16;
    }
    uint64_t h = (head * 0x9e3779b97f4a7c15ull) ^ (tail * 0xc2b2ae3d27d4eb4full) ^ n;
    return h ^ (h >> 29);
  }
  std::vector<Slot> slots_;
  uint32_t mask_ = 0;
};

struct JsonTables {
  // Input (SPEC §7.2). Type names resolve as TypeNames::find does; an attribute name to its
  // position in the schema's list (the first one when a name repeats, as the DOM path does).
  NameTable request_types, principal_types;
  std::vector<NameTable> request_attrs;    // per request type: index into RequestType::attrs
  std::vector<NameTable> principal_attrs;  // per principal type: attribute slot
  NameTable context_attrs;                 // context slot
  // Output (SPEC §7.4): the JSON text of everything a decision only refers to.
  std::vector<std::string> rule_names;               // per rule: its quoted name
  std::vector<std::string> request_type_names;       // per request type: its quoted name
  std::vector<std::vector<std::string>> grant_keys;  // per request type and grant: `"name":`
  std::vector<std::string> exceptions;  // per rule: its object in "exceptions" (exceptions only)
  std::string bundle;                   // `"bundle":{…}`
};

// Fills `impl.json` from the rest of `impl` (the model and the type-name maps).
void buildJsonTables(LoadedBundle::Impl& impl);

// Appends `s` as a JSON string literal (`"`, `\` and control characters escaped).
void appendJsonQuoted(std::string_view s, std::string& out);
// Eight bytes from `p`, the first one in the low lane on any host.
inline uint64_t loadLanes(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

// The bytes a JSON string cannot hold as they are ('"', '\' and those below 0x20), among
// the eight bytes of `w` from loadLanes: the high bit of each such byte's lane is set, and
// the lowest set bit is exact (lanes above a hit may be set falsely, by the borrow).
inline uint64_t jsonSpecialBytes(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}

// Whether appendJsonQuoted would escape a byte of `s`. Inline: the decision writer asks
// for every string it writes.
inline bool needsJsonEscape(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size(), i = 0;
  for (; i + 8 <= n; i += 8) {
    if (jsonSpecialBytes(loadLanes(p + i))) return true;
  }
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c == '"' || c == '\\') return true;
  }
  return false;
}

}  // namespace pave::rt
