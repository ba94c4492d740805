// Internal: a loaded bundle (the verified model, its tables and its decision plan), and
// the per-call scratch state of the interpreter.
#pragma once

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "arena.h"
#include "big_array.h"
#include "json_tables.h"
#include "pave/bundle.h"
#include "pave/runtime.h"
#include "pave/value.h"
#include "plan/plan.h"

namespace pave::rt {

// A table's hash index (open addressing): per slot the key's 32-bit hash and row + 1, 0
// for an empty slot; at least twice as many slots as rows, so that a lookup reads one or
// two slots and compares one key.
struct TableIndex {
  BigArray<uint64_t> slots;  // (tag << 32) | (row + 1); 0: empty
  uint64_t mask = 0;
};

inline uint64_t hashKey(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xC2B2AE3D27D4EB4Full);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 32);
}

// The row of `key` in a table map (a Map value whose `family` is its table number + 1),
// or -1.
inline int64_t tableFind(const TableIndex& ix, const Value& map, std::string_view key) {
  const uint64_t h = hashKey(key);
  const uint32_t tag = uint32_t(h);
  for (uint64_t i = (h >> 32) & ix.mask;; i = (i + 1) & ix.mask) {
    const uint64_t s = ix.slots[i];
    if (s == 0) return -1;
    if (uint32_t(s >> 32) != tag) continue;
    const uint32_t row = uint32_t(s) - 1;
    const Value& k = map.elems[2 * row];
    if (k.n == key.size() && (k.n == 0 || std::memcmp(k.s, key.data(), k.n) == 0)) return row;
  }
}

// Lookup of a type by qualified name, else by short name when that is unique.
struct TypeNames {
  std::unordered_map<std::string_view, int32_t> qualified;
  std::unordered_map<std::string_view, int32_t> shortNames;  // -1: ambiguous
  int32_t find(std::string_view name) const {
    if (auto it = qualified.find(name); it != qualified.end()) return it->second;
    auto it = shortNames.find(name);
    return it == shortNames.end() ? -1 : it->second;
  }
};

struct LoadedBundle::Impl {
  Bundle model;
  std::array<uint8_t, 32> digest{};
  std::string digestHex;
  std::string signerKeyHex;  // SHA-256 of the raw public key that verified the signature
  bool isSigned = false;
  uint16_t formatMinor = 0;
  size_t fileSize = 0;
  std::vector<std::pair<std::string, size_t>> sectionSizes;

  // Tables (SPEC §2.3): per table a Map value over `tableStorage` (key, row, key, row, …;
  // rows point at their attribute values), made once at load.
  std::vector<Value> tables;
  std::vector<BigArray<Value>> tableStorage;
  std::vector<TableIndex> tableIndex;
  std::vector<BigVector<Value>> tablePools;   // set and map attribute elements
  std::vector<BigArray<uint8_t>> tableBytes;  // each table's rows as encoded (keys)
  DecisionPlan plan;  // built after verification (buildPlan)
  TypeNames requestNames;
  TypeNames principalNames;
  JsonTables json;  // for json_input.cpp and json_output.cpp

  std::string_view str(StrId id) const { return model.strings[id]; }
};

// Decoded input of one decision; arrays are indexed by slot.
struct Input {
  uint32_t requestType = 0;
  uint32_t principalType = 0;
  const Value* principal = nullptr;
  const Value* request = nullptr;  // indexed by bundle-wide request slot
  const Value* context = nullptr;
};

struct LoopFrame {
  const Value* elems;
  uint32_t count;
  uint32_t next;
  uint32_t body;     // pc of the first body instruction
  uint16_t var;
  uint8_t mode;
  bool skip;         // entered with an empty or error set: nothing to fold
  bool sawError;
  Value error;
};

struct Scratch {
  std::vector<Value> regs;
  std::array<LoopFrame, kMaxLoopDepth> loops;
  Arena arena;
};

// interpreter.cpp
Value execute(const CompiledFn& fn, const Input& in, Scratch& s);
// A fast test on the input (Undecided: the attribute is absent or of another kind, run the
// code).
Truth runFastTest(const FastTest& t, const Input& in);
// A Has, Load or Compare test on a present, non-error input value `v` of its attribute.
Truth fastCompare(const FastTest& t, const Value& v);
// The input value a Load test reads, or null when the code must run (absent, other principal).
const Value* fastLoad(const FastTest& t, const Input& in);
// Set membership and comparison helpers shared with the decider.
bool setContains(const Value& set, const Value& x);
// The value of `key` in a map value (keys sorted), or null: a small map (most are) is
// searched in line, comparing lengths first; a larger one by binary search.
const Value* mapEntrySorted(const Value& map, std::string_view key);
inline const Value* mapEntry(const Value& map, std::string_view key) {
  if (map.n > 8) return mapEntrySorted(map, key);
  for (uint32_t e = 0; e < map.n; ++e) {
    const Value& k = map.elems[2 * e];
    if (k.n == key.size() && equalBytes(k.s, key.data(), k.n)) return &map.elems[2 * e + 1];
  }
  return nullptr;
}

// Materializes a constant of `model` as a run-time value (set and map elements kept in
// `storage`).
Value materialize(const Bundle& model, const Const& c, std::vector<std::unique_ptr<Value[]>>& storage);

// Sorts and de-duplicates `n` values in place; returns the new count.
uint32_t sortUnique(Value* v, uint32_t n);
// Decodes and checks the tables' rows (left encoded by the reader) into `impl.tables` and
// builds their hash indexes. False with a message when a row is malformed.
bool materializeTables(LoadedBundle::Impl& impl, std::string* error);
// For tests: how many LoadedBundle objects exist in the process.
size_t liveBundleCount();

// Kind of run-time value carried by a type kind.
inline Kind kindOf(TypeKind k) {
  static constexpr Kind kKinds[] = {Kind::Bool, Kind::Int, Kind::String, Kind::Duration, Kind::Timestamp,
                                    Kind::Ip,   Kind::Cidr, Kind::Enum,  Kind::Set,      Kind::Map, Kind::Record};
  return kKinds[size_t(k)];
}

}  // namespace pave::rt
