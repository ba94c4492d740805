// Internal: a verified bundle ready for evaluation, and the per-call scratch state.
#pragma once

#include <array>
#include <deque>
#include <map>
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

namespace pave::rt {

// A function that is one test of an input attribute against a constant, such as
// `request.env == Env.prod`, `principal is Human` or `request.duration <= 4h`: the decider
// evaluates it without the interpreter whenever the attribute is present (otherwise it runs
// the bytecode, so errors and their messages stay those of the VM).
struct FastTest {
  // IsPrincipal: `principal is T`; Has: `has(attr)`; Load: an attribute as is; Constant:
  // a constant (`k`); Compare: below.
  enum class Form : uint8_t { None, IsPrincipal, Has, Load, Constant, Compare };
  enum class Root : uint8_t { Principal, Request, Context };
  Form form = Form::None;
  Root root = Root::Request;
  // EQ NE LT LE GT GE (input OP constant), IN_SET IN_CIDR (input in constant), LIKE
  // STARTS_WITH ENDS_WITH CONTAINS_STR (input.op(constant)), IN_MAP (constant in input).
  Op op = Op::EQ;
  // Compare on a map entry (`request.tags["owner"] == "x"`): the attribute is a map and the
  // test reads its entry `entry_key`; a missing key leaves the test undecided.
  bool entry = false;
  // Has and Compare only: the function is `not` of the test (`not has(request.x)`,
  // `not (request.duration <= 1h)`); a decided result is inverted, an undecided one stays so.
  bool negate = false;
  // Compare only: the test is on the attribute's size (String bytes, Set elements, Map
  // entries), as `request.justification.size() >= 13`.
  bool size = false;
  // Compare only: the test is guarded by `has` of its attribute (`has(request.x) and
  // <test>`, the usual form for an optional attribute): false when the attribute is absent
  // (or belongs to another principal type), the test otherwise.
  bool guarded = false;
  uint32_t slot = 0;
  uint32_t ptype = 0;       // IsPrincipal; Compare on the principal: the type LOAD_PRIN requires
  std::string_view entry_key;
  Value k;
};

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

struct CompiledFn {
  const Instr* code = nullptr;
  uint32_t size = 0;
  uint32_t num_regs = 0;
  std::vector<Value> consts;  // materialized: strings point into the model's string table
  const Value* tables = nullptr;  // LoadedBundle::Impl::tables (LOAD_TABLE)
  const TableIndex* table_index = nullptr;  // LoadedBundle::Impl::table_index
  FastTest fast;
  // A condition conjunct that several rules share (the code generator interns identical
  // functions): its result is kept for the rest of the decision. kNone: not memoized.
  uint32_t memo = kNone;
};

// How a RuleSet guard is tested (Conjunct::probe): its fast test specialized, at load time,
// for the principal type of the set and the kind of its constant, so that the common tests
// cost a load, a kind check and a compare. Generic: run the function (fast test, memo or
// bytecode). Every probe answers -1 (undecided: run the function) unless the input value
// has the kind the test expects.
enum class GuardProbe : uint8_t {
  Generic,
  Has,      // the attribute is present
  Bool,     // a Bool attribute as is
  Eq,       // Bool, Int, Duration, Timestamp `==` k (`!=` with negate)
  EnumEq,   // Enum `==` k (same enum and member)
  EnumIn,   // Enum member in a constant set: k.n the enum, k.i the member bitmask (< 64 members)
  StrEq,    // String `==` k
  MapHas,   // the String k is a key of a Map attribute
  StrPrefix, StrSuffix, StrContains,  // a String attribute starts with, ends with, contains k
  Size,     // the size of a String, Set or Map attribute `cmp` k (Int); with `guarded`, false when absent
  Lt, Le, Gt, Ge,  // Int, Duration, Timestamp against k of the same kind
};

// A conjunct of a rule: its index in the condition, its function, and (in a RuleSet) the
// dispatch key whose bitset already decides it whenever the input's value of the key is one
// the key names (see RuleSet), so the decision need not run it again, and its probe.
struct Conjunct {
  uint32_t index = 0;
  uint32_t fn = 0;
  uint8_t key_bit = 0;  // the key's bit in the mask of decided keys (at most 8 keys); 0: none
  GuardProbe probe = GuardProbe::Generic;
  bool negate = false;  // invert a decided probe
  uint8_t root = 0;     // FastTest::Root of the attribute the probe reads
  bool guarded = false;  // Size: FastTest::guarded
  Op cmp = Op::EQ;       // Size: EQ NE LT LE GT GE
  uint32_t slot = 0;
  Value k;
};

// A rule as seen from one request type.
struct RuleUse {
  uint32_t rule;
  Effect effect;
  // Its grant assignments, sorted by grant index.
  struct Grant {
    uint32_t grant;  // index in the request type's grants
    uint32_t fn;
    // Constant: the function is the constant `k`. Load: it is a request or context
    // attribute as is (`root`, `slot`), read straight from the input when present.
    enum class Form : uint8_t { Run, Constant, Load } form = Form::Run;
    uint8_t root = 0;  // Load: FastTest::Root
    uint32_t slot = 0;
    Value k;
  };
  std::vector<Grant> grants;
  // Those conjuncts with a fast test, which a decision that is not explained checks first,
  // and the others.
  std::vector<Conjunct> guards, others;
  // Approve rules whose approvers are all string constants: the groups, sorted and
  // de-duplicated once at load time (`approvers_const`); otherwise evaluated per decision.
  bool approvers_const = false;
  std::vector<std::string_view> groups;
  uint32_t quorum = 1;  // Approve
  // Whether a match of this allow/approve rule adds to the decision past its name: an
  // approve rule, or one that assigns grants.
  bool contributes = false;
  // In a RuleSet, rules with the same conjuncts (the same functions, in the same order,
  // decided by the same dispatch keys) share their result: Leads, the first of them, gives
  // its result to the later ones, which Follow it (`same_as`: the leading rule's position).
  enum class Share : uint8_t { None, Leads, Follows } share = Share::None;
  uint32_t same_as = kNone;
  // Leads: its followers' bits in the set (RuleSet::followers, `words` from this offset),
  // which a result of this rule other than an error takes out of the walk at once.
  uint32_t followers = kNone;
};

// A dispatch key of a rule list: one Enum, Bool or String input attribute that guards
// compare with constants (`request.env == Env.prod`, `principal.team == "x"`,
// `request.role in ["a", "b"]`, a Bool attribute as is). Per value of the attribute, a
// bitset over the list of the rules whose guards on it can hold: a rule left out has a
// conjunct that is false for that value, so it cannot match (a false conjunct decides even
// when another one is an error).
struct DispatchKey {
  FastTest::Root root = FastTest::Root::Request;
  uint32_t slot = 0;
  bool entry = false;           // the key is an entry of a map attribute (FastTest::entry)
  std::string_view entry_key;
  Kind kind = Kind::Enum;  // Enum: value index = member; Bool: 0/1; String: `strings`
  uint32_t values = 0;
  NameTable strings;            // String: constant → value index
  std::vector<uint64_t> bits;  // values × words, then (String) one more row for any other string
};

// The rules of one request type that a decision for one principal type (not explained)
// walks: `rules` without those a `principal is T` conjunct rules out, and dispatch keys
// that narrow them further by the input's values.
struct RuleSet {
  std::vector<RuleUse> rules;  // sorted by qualified name
  std::vector<DispatchKey> keys;
  uint32_t words = 0;          // bitset words per value
  uint64_t last_mask = 0;      // the bits of the last word that are rules
  bool shares = false;         // some rules share their results (RuleUse::Share)
  std::vector<uint64_t> followers;  // per leading rule, the bitset of its followers
  // Whether a decision (not explained) walks this set by bitsets (walkByBits in
  // decide.cpp): when some rules share their results or the dispatch keys can decide
  // rules alone. It records which rules matched in bitsets over `rules` and takes its
  // lists from them with the bitsets below (`words` each).
  bool by_bits = false;
  // The rules whose every conjunct is a guard a dispatch key decides (a rule without
  // conjuncts too): when the dispatch leaves such a rule in and decided the keys of its
  // guards, it matches without being walked.
  std::vector<uint64_t> decided;
  std::vector<uint64_t> key_needs;  // per key (keys.size() × words): those rules with a guard it decides
  uint32_t keys_needed = 0;         // the keys with a rule in key_needs
  // The rules by what a match of them does: Rules, the allow and approve rules (a match
  // makes them the decision's rules); Approves; Denies; Exceptions; Contributes, the
  // allow/approve rules that assign grants or name approvers (RuleUse::contributes).
  enum Of : uint32_t { Rules, Approves, Denies, Exceptions, Contributes, kOfCount };
  std::vector<uint64_t> of;         // kOfCount × words
  std::vector<uint32_t> rule_ids;   // per rule: its index in the model
  const uint64_t* bitsOf(Of which) const { return of.data() + size_t(which) * words; }
  // Grants by bitsets (a set walked by bitsets whose contributing rules all assign
  // constants or required attributes, and name constant approvers): a decision takes each
  // grant's values from the matching rules that assign it, in set order, and the approvals
  // from the matching approve rules, without listing the rules that matched.
  bool grants_by_bits = false;
  static constexpr size_t kMaxGrantTable = size_t(1) << 16;  // (grants + 2) × rules, at most
  std::vector<uint64_t> grant_rules;  // per grant (grants × words): the rules that assign it
  // Per grant and rule (grants × rules): what it assigns, a constant (`k`, in grant_pool)
  // or an attribute (`root`, `slot`).
  struct GrantSource {
    const Value* k = nullptr;
    uint32_t slot = 0;
    uint8_t root = 0;
  };
  std::vector<GrantSource> grant_src;
  std::vector<Value> grant_pool;
  std::vector<Approval> approval_at;  // per rule: an approve rule's approval
  RuleSet() = default;
  RuleSet(RuleSet&&) = default;
  RuleSet& operator=(RuleSet&&) = default;
  RuleSet(const RuleSet&) = delete;  // grant_src and approval_at point into the set
};

using detail::BindSlot;

// How binding without JSON fills one input object: a principal type's attributes, a request
// type's range of slots, or the context. When the range spans at most 64 slots, binding
// tracks which slots were set (BindSlot::bit, bit i for slot `first + i`), so that
// decideBound clears only the slots left unset and checks the required ones in one test;
// otherwise Decider::bind clears the whole range and decideBound walks `required`.
struct BindObject {
  std::vector<BindSlot> slots;  // indexed by slot (request: bundle-wide slot)
  uint32_t count = 0;           // slots.size()
  uint32_t first = 0, end = 0;  // the range of slots its attributes are in
  bool tracked = false;
  uint64_t all = 0;             // tracked: the range's bits
  uint64_t required_mask = 0;   // tracked: the required attributes' bits
  std::vector<uint32_t> required;  // the slots of its required attributes
};

struct RequestIndex {
  std::vector<RuleUse> rules;   // every applicable rule, sorted by qualified name
  std::vector<RuleSet> by_principal;  // per principal type
  std::vector<Value> grant_defaults;
  BindObject bind;  // its request attributes, by bundle-wide slot
  std::vector<uint8_t> allows;  // per principal type: 1 if a principal of it may make the request
  bool has_approve = false;
};

// Lookup of a type by qualified name, else by short name when that is unique.
struct TypeNames {
  std::unordered_map<std::string_view, int32_t> qualified;
  std::unordered_map<std::string_view, int32_t> short_names;  // -1: ambiguous
  int32_t find(std::string_view name) const {
    if (auto it = qualified.find(name); it != qualified.end()) return it->second;
    auto it = short_names.find(name);
    return it == short_names.end() ? -1 : it->second;
  }
};

struct LoadedBundle::Impl {
  Bundle model;
  // Functions specialized for a principal type (specializeForPrincipal): their code, and
  // per (function, principal type) the index in `fns` of the specialized one.
  std::deque<std::vector<Instr>> specialized_code;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> specialized;
  std::array<uint8_t, 32> digest{};
  std::string digest_hex;
  std::string signer_key_hex;  // SHA-256 of the raw public key that verified the signature
  bool is_signed = false;
  uint16_t format_minor = 0;
  size_t file_size = 0;
  std::vector<std::pair<std::string, size_t>> section_sizes;

  std::vector<CompiledFn> fns;
  std::vector<std::unique_ptr<Value[]>> const_storage;  // set/map element arrays of constants
  // Tables (SPEC §2.3): per table a Map value over `table_storage` (key, row, key, row, …;
  // rows point at their attribute values), made once at load.
  std::vector<Value> tables;
  std::vector<BigArray<Value>> table_storage;
  std::vector<TableIndex> table_index;
  std::vector<BigVector<Value>> table_pools;  // set and map attribute elements
  std::vector<BigArray<uint8_t>> table_bytes;  // each table's rows as encoded (keys)
  std::vector<RequestIndex> requests;
  std::vector<uint32_t> rules_by_name;                  // rule indices sorted by name
  // Binding without JSON: per principal type its attributes, and the context's.
  std::vector<BindObject> principal_bind;
  BindObject context_bind;
  uint32_t request_count = 0, principal_count = 0;  // the schema's request and principal types
  uint32_t time_slot = 0;
  uint32_t memo_count = 0;  // memoized functions
  uint32_t max_regs = 1;
  uint32_t max_request_slot = 0;
  uint32_t max_principal_attrs = 0;
  TypeNames request_names;
  TypeNames principal_names;
  JsonTables json;  // for json_input.cpp and json_output.cpp

  std::string_view str(StrId id) const { return model.strings[id]; }
};

// Decoded input of one decision; arrays are indexed by slot.
struct Input {
  uint32_t request_type = 0;
  uint32_t principal_type = 0;
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
  bool saw_error;
  Value error;
};

struct Scratch {
  std::vector<Value> regs;
  std::array<LoopFrame, kMaxLoopDepth> loops;
  Arena arena;
};

// interpreter.cpp
Value execute(const CompiledFn& fn, const Input& in, Scratch& s);
// Recognizes the one-test functions of FastTest.
FastTest recognizeFastTest(const Function& f, const std::vector<Value>& consts);
// 1 true, 0 false, -1 undecided (the attribute is absent or of another kind: run the code).
int runFastTest(const FastTest& t, const Input& in);
// A Has, Load or Compare test on a present, non-error input value `v` of its attribute.
int fastCompare(const FastTest& t, const Value& v);
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

// specialize.cpp: the code of `f` for a decision whose principal is of type `pt`:
// `principal is T` and `has(principal.x)` of another type folded to constants, branches on
// constants taken, and what can no longer run removed; empty when nothing folds.
std::vector<Instr> specializeForPrincipal(const Function& f, uint32_t pt);

// Materializes a constant of the model as a run-time value (storage kept in `impl`).
Value materialize(LoadedBundle::Impl& impl, const Const& c);

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
