// Internal: the per-Decider state (scratch memory reused across decisions).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "program.h"

namespace pave::rt {

// A parsed JSON value living in the decider's arena.
struct JNode {
  enum Type : uint8_t { Null, False, True, Number, String, Array, Object } type = Null;
  bool isInt = false;
  int64_t i = 0;
  std::string_view s;                      // String: unescaped text; Number: its text
  const JNode* kids = nullptr;             // Array elements, Object values
  const std::string_view* keys = nullptr;  // Object keys
  uint32_t n = 0;
};

// A list of a decision, with room for the most a decision of the decider's bundle can hold
// (sized once by prepare), so that adding to it only stores.
template <typename T>
struct DecisionList {
  std::vector<T> buf;
  uint32_t n = 0;
  void push(const T& x) { buf[n++] = x; }
  T* data() { return buf.data(); }
  T* begin() { return buf.data(); }
  T* end() { return buf.data() + n; }
  bool empty() const { return n == 0; }
  void clear() { n = 0; }
  std::span<const T> view() const { return {buf.data(), n}; }
};

struct Decider::State {
  Scratch scratch;
  std::vector<Value> principal, request, context;
  Input input;
  bool bound = false;
  uint64_t present[3] = {};  // binding: the tracked attributes set, by FastTest::Root
  // The decision: its lists are filled below while deciding, then published (publish).
  Decision decision;
  DecisionList<uint32_t> rules, denyRules, exceptions;
  DecisionList<Approval> approvals;
  DecisionList<Value> grants;
  DecisionList<std::string_view> reasons;
  std::vector<DecisionError> errors;  // rare: grown as needed
  std::vector<TraceEntry> trace;      // explaining
  std::vector<uint64_t> bits;  // dispatch: the rules still in
  // By position in the rule set (walkByBits): the rules that matched, that erred.
  std::vector<uint64_t> hit, erred;
  // Memoized functions: a result is current when its stamp is this decision's.
  std::vector<uint32_t> memoStamp;
  std::vector<Value> memoValue;
  uint32_t stamp = 0;
  std::vector<uint8_t> denyState;  // per rule index, while lifting: 1 matched, 2 lifted
  // The matching allow/approve rules: the first matchedN (sized for every applicable rule
  // of the largest request type, so a decision only stores).
  std::vector<const RuleUse*> matched;
  uint32_t matchedN = 0;
  DecisionList<uint32_t> matching;  // the matching exceptions
  // Per grant index: the first rule that assigned it, current when its stamp is this
  // decision's (so nothing is reset between decisions).
  struct GrantFirst {
    uint32_t stamp = 0;
    uint32_t rule = kNone;
  };
  std::vector<GrantFirst> grantFirst;
  // JSON parsing.
  std::vector<JNode> jstack;
  std::vector<std::string_view> jkeys;
  std::vector<uint8_t> seen;
  std::vector<Value> jvalues;                                // set elements (fast path)
  std::vector<std::pair<std::string_view, Value>> jentries;  // map entries (fast path)
  std::string out;

  // Sizes the per-slot and per-rule arrays for the decider's bundle (once).
  void prepare(const LoadedBundle::Impl& p);
  // Forgets the previous decision and input.
  void reset();
  // Forgets the previous decision (its request type stays).
  void clearDecision(bool explain);
  // Points the decision's lists at what was decided.
  void publish() {
    Decision& d = decision;
    d.rules = rules.view();
    d.denyRules = denyRules.view();
    d.exceptions = exceptions.view();
    d.approvals = approvals.view();
    d.grants = grants.view();
    d.reasons = reasons.view();
    d.errors = errors;
    d.trace = trace;
  }
};

[[gnu::always_inline]] inline void Decider::State::clearDecision(bool explain) {
  Decision& d = decision;
  d.outcome = Outcome::Deny;
  rules.clear();
  denyRules.clear();
  exceptions.clear();
  approvals.clear();
  grants.clear();
  reasons.clear();
  errors.clear();
  trace.clear();
  d.explained = explain;
}

// json_input.cpp: parses and validates one input (SPEC §7.2) into `st.input`. On problems,
// fills `st.errors` and returns false.
bool decodeJsonInput(const LoadedBundle::Impl& p, std::string_view json, Decider::State& st);

// decide.cpp: runs the decision procedure (SPEC §5) over `st.input`.
void evaluate(const LoadedBundle::Impl& p, Decider::State& st, bool explain);

// bind.cpp: whether `v` is a valid value of type `t` (for values bound without JSON).
bool valueFits(const LoadedBundle::Impl& p, TypeId t, const Value& v);

}  // namespace pave::rt
