// Internal: the decision plan, the value the runtime builds from a verified bundle once,
// after loading (buildPlan), and that every decision reads. It holds the bundle's functions
// ready to run (constants materialized, fast tests recognized, shared conjuncts memoized,
// code specialized per principal type) and, per request type and principal type, the rule
// set a decision walks: its guards' probes, dispatch keys, shared results, walk bitsets and
// grant tables, and the bind slots of binding without JSON. Each part is made by its own
// file of runtime/src/plan/ (see buildPlan).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "name_table.h"
#include "pave/bundle.h"
#include "pave/runtime.h"
#include "pave/value.h"
#include "plan/fast_test.h"

namespace pave::rt {

struct TableIndex;

// A function of the bundle as the plan runs it.
struct CompiledFn {
  const Instr* code = nullptr;
  uint32_t size = 0;
  uint32_t numRegs = 0;
  std::vector<Value> consts;  // materialized: strings point into the model's string table
  const Value* tables = nullptr;  // LoadedBundle::Impl::tables (LOAD_TABLE)
  const TableIndex* tableIndex = nullptr;  // LoadedBundle::Impl::tableIndex
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
  uint8_t keyBit = 0;  // the key's bit in the mask of decided keys (at most 8 keys); 0: none
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
  // de-duplicated once at load time (`approversConst`); otherwise evaluated per decision.
  bool approversConst = false;
  std::vector<std::string_view> groups;
  uint32_t quorum = 1;  // Approve
  // Whether a match of this allow/approve rule adds to the decision past its name: an
  // approve rule, or one that assigns grants.
  bool contributes = false;
  // In a RuleSet, rules with the same conjuncts (the same functions, in the same order,
  // decided by the same dispatch keys) share their result: Leads, the first of them, gives
  // its result to the later ones, which Follow it (`sameAs`: the leading rule's position).
  enum class Share : uint8_t { None, Leads, Follows } share = Share::None;
  uint32_t sameAs = kNone;
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
  std::string_view entryKey;
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
  // dispatch.cpp: the dispatch keys, and the bitsets' shape.
  std::vector<DispatchKey> keys;
  uint32_t words = 0;          // bitset words per value
  uint64_t lastMask = 0;       // the bits of the last word that are rules
  // sharing.cpp: rules with the same conjuncts share their results (RuleUse::Share).
  struct Sharing {
    bool any = false;                 // some rules share their results
    std::vector<uint64_t> followers;  // per leading rule, the bitset of its followers
  } sharing;
  // The rules by what a match of them does: Rules, the allow and approve rules (a match
  // makes them the decision's rules); Approves; Denies; Exceptions; Contributes, the
  // allow/approve rules that assign grants or name approvers (RuleUse::contributes).
  enum Of : uint32_t { Rules, Approves, Denies, Exceptions, Contributes, OfCount };
  // sharing.cpp: whether a decision (not explained) walks this set by bitsets
  // (walkByBits in walks.h): when some rules share their results or the dispatch keys can
  // decide rules alone. It records which rules matched in bitsets over `rules` and takes
  // its lists from them with the bitsets below (`words` each).
  struct WalkBits {
    bool byBits = false;
    // The rules whose every conjunct is a guard a dispatch key decides (a rule without
    // conjuncts too): when the dispatch leaves such a rule in and decided the keys of its
    // guards, it matches without being walked.
    std::vector<uint64_t> decided;
    std::vector<uint64_t> keyNeeds;  // per key (keys.size() × words): those rules with a guard it decides
    uint32_t keysNeeded = 0;         // the keys with a rule in keyNeeds
    std::vector<uint64_t> of;        // OfCount × words
    std::vector<uint32_t> ruleIds;   // per rule: its index in the model
  } walk;
  const uint64_t* bitsOf(Of which) const { return walk.of.data() + size_t(which) * words; }
  // grant_tables.cpp: grants by bitsets (a set walked by bitsets whose contributing rules
  // all assign constants or required attributes, and name constant approvers): a decision
  // takes each grant's values from the matching rules that assign it, in set order, and
  // the approvals from the matching approve rules, without listing the rules that matched.
  static constexpr size_t kMaxGrantTable = size_t(1) << 16;  // (grants + 2) × rules, at most
  // What a rule assigns to a grant: a constant (`k`, in GrantTable::pool) or an attribute
  // (`root`, `slot`).
  struct GrantSource {
    const Value* k = nullptr;
    uint32_t slot = 0;
    uint8_t root = 0;
  };
  struct GrantTable {
    bool byBits = false;
    std::vector<uint64_t> rules;      // per grant (grants × words): the rules that assign it
    std::vector<GrantSource> src;     // per grant and rule (grants × rules)
    std::vector<Value> pool;
    std::vector<Approval> approvalAt;  // per rule: an approve rule's approval
  } grantTable;
  RuleSet() = default;
  RuleSet(RuleSet&&) = default;
  RuleSet& operator=(RuleSet&&) = default;
  RuleSet(const RuleSet&) = delete;  // grantTable points into the set
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
  uint64_t requiredMask = 0;    // tracked: the required attributes' bits
  std::vector<uint32_t> required;  // the slots of its required attributes
};

struct RequestIndex {
  std::vector<RuleUse> rules;   // every applicable rule, sorted by qualified name
  std::vector<RuleSet> byPrincipal;  // per principal type
  std::vector<Value> grantDefaults;
  BindObject bind;  // its request attributes, by bundle-wide slot
  std::vector<uint8_t> allows;  // per principal type: 1 if a principal of it may make the request
  bool hasApprove = false;
};

// The decision plan (see the top of this file). Built once per loaded bundle; immutable
// afterwards, shared by every Decider. Pointers in it point into the bundle (code, strings)
// and into itself (constants, specialized code), so it is moved, never copied.
struct DecisionPlan {
  std::vector<CompiledFn> fns;  // per function of the bundle, then the specialized ones
  std::vector<std::unique_ptr<Value[]>> constStorage;  // set/map element arrays of constants
  // Functions specialized for a principal type (specializeForPrincipal): their code, and
  // per (function, principal type) the index in `fns` of the specialized one.
  std::deque<std::vector<Instr>> specializedCode;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> specialized;
  std::vector<RequestIndex> requests;   // per request type
  std::vector<uint32_t> rulesByName;    // rule indices sorted by name
  // Binding without JSON: per principal type its attributes, and the context's.
  std::vector<BindObject> principalBind;
  BindObject contextBind;
  uint32_t requestCount = 0, principalCount = 0;  // the schema's request and principal types
  uint32_t timeSlot = 0;
  uint32_t memoCount = 0;  // memoized functions
  uint32_t maxRegs = 1;
  uint32_t maxRequestSlot = 0;
  uint32_t maxPrincipalAttrs = 0;

  DecisionPlan() = default;
  DecisionPlan(DecisionPlan&&) = default;
  DecisionPlan& operator=(DecisionPlan&&) = default;
};

// plan/plan.cpp: the plan of a verified bundle. `tables` and `tableIndex` are the
// bundle's materialized tables (materializeTables), which LOAD_TABLE reads; they and
// `model` must outlive the plan.
DecisionPlan buildPlan(const Bundle& model, const Value* tables, const TableIndex* tableIndex);

// plan/plan.cpp: what `pave inspect --disasm` prints of the plan. After function `fn`'s
// code, its fast test and whether it is memoized, each line starting with "  ; ";
// after the functions, per request type and principal type the rule set a decision walks:
// its dispatch keys, and per rule each conjunct (`#i`, `'` when specialized for the type)
// as a probe, a fast test or bytecode, and the key that decides it.
std::string describeFunctionPlan(const DecisionPlan& plan, uint32_t fn);
std::string describeRuleSets(const Bundle& model, const DecisionPlan& plan);

}  // namespace pave::rt
