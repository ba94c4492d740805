// Small typed ids: an index into one of the vectors that own the compiler's data (AST
// nodes, checked expressions, types, interned strings). The tag makes ids of different
// tables distinct types; UINT32_MAX is "none".
#pragma once

#include <cstdint>

namespace pave {

template <typename Tag>
struct Id {
  uint32_t value = UINT32_MAX;
  bool valid() const { return value != UINT32_MAX; }
  explicit operator bool() const { return valid(); }
  friend bool operator==(Id a, Id b) { return a.value == b.value; }
  friend bool operator!=(Id a, Id b) { return a.value != b.value; }
  friend bool operator<(Id a, Id b) { return a.value < b.value; }
};

}  // namespace pave
