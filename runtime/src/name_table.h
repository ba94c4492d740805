// Internal: a small immutable string table for load-time indexes.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace pave::rt {

// Whether n bytes are equal. Names and keys are short, so up to 16 bytes are compared in
// line with two overlapping loads from each end.
inline bool equalBytes(const char* a, const char* b, size_t n) {
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) {
    uint64_t x0, x1, y0, y1;
    std::memcpy(&x0, a, 8), std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y0, b, 8), std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 4) {
    uint32_t x0, x1, y0, y1;
    std::memcpy(&x0, a, 4), std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y0, b, 4), std::memcpy(&y1, b + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// A fixed map from names (attribute and type names, string constants of dispatch keys) to
// small integers: open addressing over a power-of-two table at most half full, built once
// at load time. A decision looks up a few short strings, and std::unordered_map's hashing
// and bucket walk cost more than the rest of such a lookup.
class NameTable {
 public:
  // When a name repeats, its first entry wins.
  explicit NameTable(const std::vector<std::pair<std::string_view, int32_t>>& entries = {}) {
    size_t size = std::bit_ceil(std::max<size_t>(2 * entries.size(), 4));
    slots_.resize(size);
    mask_ = uint32_t(size - 1);
    bool repeated = false;
    for (uint32_t pos = 0; pos < entries.size(); ++pos) {
      const auto& [name, value] = entries[pos];
      uint32_t i = uint32_t(hash(name)) & mask_;
      while (slots_[i].value >= 0 && slots_[i].name != name) i = (i + 1) & mask_;
      if (slots_[i].value < 0) slots_[i] = {name, value, pos};
      else repeated = true;
    }
    if (!repeated) order_ = entries;  // with a repeated name, only find() (first one wins)
  }
  // The value of `name`, or -1.
  int32_t find(std::string_view name) const { return slot(name).value; }
  // The same, for names that usually come in the order of the entries (the attributes of
  // an input object): `cursor` is where the last name was found plus one, and the entry
  // there is compared first, before hashing.
  int32_t find(std::string_view name, uint32_t& cursor) const {
    if (cursor < order_.size()) {
      const auto& [expected, value] = order_[cursor];
      if (expected.size() == name.size() && equalBytes(expected.data(), name.data(), name.size())) {
        ++cursor;
        return value;
      }
    }
    const Slot& s = slot(name);
    cursor = s.pos + 1;
    return s.value;
  }

 private:
  struct Slot {
    std::string_view name;
    int32_t value = -1;  // -1: empty
    uint32_t pos = 0;    // the entry's position
  };
  // The slot of `name`, or an empty one.
  const Slot& slot(std::string_view name) const {
    for (uint32_t i = uint32_t(hash(name)) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value < 0) return s;
      if (s.name.size() == name.size() && equalBytes(s.name.data(), name.data(), name.size())) return s;
    }
  }
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
  std::vector<std::pair<std::string_view, int32_t>> order_;  // the entries, unless a name repeats
};

}  // namespace pave::rt
