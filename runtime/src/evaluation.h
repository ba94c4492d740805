// Internal: the evaluation of one decision, in three files compiled as one translation
// unit: decide.cpp (the procedure, SPEC §5: dispatch, walk, lift, outcome) includes this,
// walks.h (the walk by bitsets) and grants.h (the grant step and approvals), and nothing
// else does. One unit with internal linkage lets GCC inline the parts called once and
// specialize the out-of-line walks for their callers: split into separately compiled
// files, a decision on the 1,000-rule bundle took 4% more instructions (bench/icount.sh).
// What the walks run for every rule (probe, matchGuarded, the plain walk, a function's
// value) is here, in line, so that each walk compiles it into its loop.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bits.h"
#include "decider_state.h"
#include "pave/decision_errors.h"

namespace pave::rt {
namespace {  // one translation unit (see above)
using Err = DecisionErrorCode;


// walks.h: whether string `v` contains string `k`. Out of line: the search in line would
// stop GCC from inlining the probes into the walk.
[[gnu::noinline]] bool containsString(const Value& v, const Value& k);
// walks.h: GuardProbe::Size on `v` (before `negate`). Out of line, like containsString.
[[gnu::noinline]] Truth sizeProbe(const Conjunct& c, const Value& v);

// A guard's probe (GuardProbe) on the input's values by root (principal, request,
// context).
[[gnu::always_inline]] inline Truth probe(const Conjunct& c, const Value* const* roots) {
  constexpr Truth kUndecided = Truth::Undecided;
  if (c.probe == GuardProbe::Generic) return kUndecided;
  const Value& v = roots[c.root][c.slot];
  const Value& k = c.k;
  bool r;
  switch (c.probe) {
    case GuardProbe::Has: r = v.kind != Kind::Absent; break;
    case GuardProbe::Bool:
      if (v.kind != Kind::Bool) return kUndecided;
      r = v.i != 0;
      break;
    case GuardProbe::Eq:
      if (v.kind != k.kind) return kUndecided;
      r = v.i == k.i;
      break;
    case GuardProbe::EnumEq:
      if (v.kind != Kind::Enum) return kUndecided;
      r = v.n == k.n && v.i == k.i;
      break;
    case GuardProbe::EnumIn:
      if (v.kind != Kind::Enum || v.n != k.n || uint64_t(v.i) >= 64) return kUndecided;
      r = (uint64_t(k.i) >> v.i) & 1;
      break;
    case GuardProbe::StrEq:
      if (v.kind != Kind::String) return kUndecided;
      r = v.n == k.n && equalBytes(v.s, k.s, v.n);
      break;
    case GuardProbe::MapHas: {
      if (v.kind != Kind::Map) return kUndecided;
      r = mapEntry(v, k.str()) != nullptr;
      break;
    }
    case GuardProbe::StrPrefix:
      if (v.kind != Kind::String) return kUndecided;
      r = v.n >= k.n && equalBytes(v.s, k.s, k.n);
      break;
    case GuardProbe::StrSuffix:
      if (v.kind != Kind::String) return kUndecided;
      r = v.n >= k.n && equalBytes(v.s + (v.n - k.n), k.s, k.n);
      break;
    case GuardProbe::StrContains:
      if (v.kind != Kind::String) return kUndecided;
      r = containsString(v, k);
      break;
    case GuardProbe::Size: {
      const Truth s = sizeProbe(c, v);
      if (s == kUndecided) return kUndecided;
      r = s == Truth::True;
      break;
    }
    case GuardProbe::Lt:
    case GuardProbe::Le:
    case GuardProbe::Gt:
    case GuardProbe::Ge:
      if (v.kind != k.kind) return kUndecided;
      r = c.probe == GuardProbe::Lt ? v.i < k.i : c.probe == GuardProbe::Le ? v.i <= k.i
          : c.probe == GuardProbe::Gt ? v.i > k.i : v.i >= k.i;
      break;
    default: return kUndecided;
  }
  return Truth(int(r) ^ int(c.negate));
}

struct Evaluation {
  const LoadedBundle::Impl& p;
  Decider::State& st;
  const Bundle& m = p.model;
  // The input's values by FastTest::Root, for the probes.
  const Value* const roots[3] = {st.input.principal, st.input.request, st.input.context};

  // A function's value: its fast test when that decides, else its bytecode.
  Value compute(const CompiledFn& f) {
    switch (f.fast.form) {
      case FastTest::Form::None: break;
      case FastTest::Form::Constant: return f.fast.k;
      case FastTest::Form::Load:
        if (const Value* v = fastLoad(f.fast, st.input)) return *v;
        break;
      default:
        if (Truth r = runFastTest(f.fast, st.input); r != Truth::Undecided) return Value::boolean(r == Truth::True);
    }
    return execute(f, st.input, st.scratch);
  }

  Value run(uint32_t fn) {
    const CompiledFn& f = p.plan.fns[fn];
    if (f.memo == kNone) return compute(f);
    if (st.memoStamp[f.memo] == st.stamp) return st.memoValue[f.memo];
    st.memoStamp[f.memo] = st.stamp;
    const Value v = compute(f);
    copyFields(st.memoValue[f.memo], v);  // just computed
    return v;
  }

  // Matching when not explaining: the conjuncts with a fast test first, since any false
  // conjunct decides, skipping those the dispatch keys in `decided` already found true; the
  // error reported is still that of the first erring conjunct.
  // Always in line (so is `probe`): with two instances of walkByBits, GCC would otherwise
  // call it, and the walks would save and reload their registers around each call.
  [[gnu::always_inline]] Matched matchGuarded(const RuleUse& use, uint32_t decided, Value& err) {
    uint32_t errAt = kNone;
    auto holds = [&](const Conjunct& c) {
      if (c.keyBit & decided) return true;
      Value v = run(c.fn);
      if (v.isFalse()) return false;
      if (!v.isTrue() && c.index < errAt) {
        errAt = c.index;
        err = v.isError() ? v : Value::error("condition is not a Bool");
      }
      return true;
    };
    for (const Conjunct& c : use.guards) {
      if (c.keyBit & decided) continue;
      const Truth r = probe(c, roots);
      if (r == Truth::False || (r == Truth::Undecided && !holds(c))) return Matched::False;
    }
    for (const Conjunct& c : use.others)
      if (!holds(c)) return Matched::False;
    return errAt == kNone ? Matched::True : Matched::Error;
  }

  // The walk of a rule list without a trace, one rule at a time in the set's order (by
  // name), for sets where no rule shares its result and the dispatch keys decide no rule
  // alone: what a match does (the `matched` callback of run()) happens as each rule is
  // walked.
  template <typename OnResult>
  void walk(const RuleSet& set, uint32_t decided, OnResult& matched) {
    Value err;
    for (uint32_t w = 0; w < set.words; ++w)
      for (uint64_t x = st.bits[w]; x; x &= x - 1) {
        const RuleUse& use = set.rules[size_t(w) * 64 + lowestBit(x)];
        matched(use, matchGuarded(use, decided, err), err);
      }
  }

  // walks.h: the walk of the sets walked by bitsets (RuleSet::walk).
  template <bool OneWord>
  [[gnu::noinline]] bool walkByBits(const RuleSet& set, uint32_t decided);

  // decide.cpp: the decision procedure.
  void run(bool explain);
  template <bool OneWord>
  uint32_t select(const RuleSet& set);
  Matched match(const Rule& r, int32_t& failed, Value& err);
  void lift(int64_t now);
  [[gnu::noinline]] void evalError(uint32_t rule, const Value& err);

  // grants.h: the grant step (four variants: rule by rule, one allow rule, by bitsets,
  // and a rule's value), approvals, merging.
  [[gnu::noinline]] bool grantsAndApprovals(const RequestIndex& ri);
  [[gnu::noinline]] bool oneAllowGrants(const RequestIndex& ri);
  template <bool OneWord>
  [[gnu::noinline]] bool grantsByBits(const RuleSet& set, const RequestIndex& ri);
  void defaultGrants(const RequestIndex& ri);
  Value grantValue(const RuleUse::Grant& grant);
  [[gnu::noinline]] Value computeGrant(const RuleUse::Grant& grant);
  template <bool Inline, typename Assign>
  bool ruleGrants(const RuleUse& use, Assign assign);
  [[gnu::noinline]] void grantConflict(const RequestType& rt, uint32_t g, uint32_t first, uint32_t rule);
  bool merge(MergeOp op, Value& acc, const Value& v);
  [[gnu::noinline]] void mergeSets(bool uni, Value& acc, const Value& v);
  bool approval(const RuleUse& use);
  [[gnu::noinline]] bool evaluatedApproval(const RuleUse& use);
};

}  // namespace
}  // namespace pave::rt
