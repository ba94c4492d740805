// Run-time values: a 24-byte tagged union that never owns memory. Strings, sets and maps
// point into the loaded bundle (constants), the decoded input, or the per-call arena.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "pave/bundle.h"

namespace pave::rt {

enum class Kind : uint8_t { Absent = 0, Error, Bool, Int, String, Duration, Timestamp, Ip, Cidr, Enum, Set, Map, Record };

struct Value {
  Kind kind = Kind::Absent;
  uint8_t family = 0;  // Ip, Cidr: 4 or 6
  uint8_t prefix = 0;  // Cidr
  uint8_t pad = 0;
  uint32_t n = 0;      // String, Error: length; Set: element count; Map: entry count; Enum: enum index;
                       // Record: attribute count
  union {
    int64_t i;           // Bool, Int, Duration, Timestamp, Enum member
    const char* s;       // String, Error message
    const Value* elems;  // Set: n values; Map: 2n values (key0, value0, key1, …), keys sorted;
                         // Record (a table row): n attribute values, Absent where an optional one is
    uint8_t ip[16];
  };

  Value() : i(0) {}
  static Value boolean(bool b) { Value v; v.kind = Kind::Bool; v.i = b; return v; }
  static Value integer(int64_t x, Kind k = Kind::Int) { Value v; v.kind = k; v.i = x; return v; }
  static Value string(std::string_view t) {
    Value v; v.kind = Kind::String; v.s = t.data(); v.n = uint32_t(t.size()); return v;
  }
  static Value error(std::string_view msg) {
    Value v; v.kind = Kind::Error; v.s = msg.data(); v.n = uint32_t(msg.size()); return v;
  }
  static Value enumMember(uint32_t enumIndex, int64_t member) {
    Value v;
    v.kind = Kind::Enum;
    v.n = enumIndex;
    v.i = member;
    return v;
  }
  static Value set(const Value* e, uint32_t count) { Value v; v.kind = Kind::Set; v.elems = e; v.n = count; return v; }
  static Value map(const Value* e, uint32_t count) { Value v; v.kind = Kind::Map; v.elems = e; v.n = count; return v; }

  bool isError() const { return kind == Kind::Error; }
  bool isTrue() const { return kind == Kind::Bool && i != 0; }
  bool isFalse() const { return kind == Kind::Bool && i == 0; }
  std::string_view str() const { return {s, n}; }
};
static_assert(sizeof(Value) == 24, "values stay small");

// `out = v`, field by field. For a value built just before (a register an instruction just
// wrote, a result), a plain copy loads 16 bytes across the narrower stores that built it;
// the processor cannot forward those stores to the load, which then waits for them to
// reach the cache. Loads of the fields, each within one store, are forwarded.
inline void copyFields(Value& out, const Value& v) {
  out.kind = v.kind;
  out.family = v.family;
  out.prefix = v.prefix;
  out.n = v.n;
  out.i = v.i;
  uint64_t high;  // the rest of an address
  std::memcpy(&high, v.ip + 8, 8);
  std::memcpy(out.ip + 8, &high, 8);
}

// Total order within one kind (sets: lexicographic by elements); used to sort sets and
// compare for equality. Values of different kinds order by kind.
int compareValues(const Value& a, const Value& b);
inline bool equalValues(const Value& a, const Value& b) { return compareValues(a, b) == 0; }

}  // namespace pave::rt
