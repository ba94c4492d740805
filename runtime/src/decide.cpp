// The decision procedure (SPEC §5): match the applicable rules, lift denies, then
// deny → approval → allow → default deny, with grant merging. The walks are in
// evaluation.h and walks.h, the grant step in grants.h (one translation unit with this
// file, see evaluation.h), binding without JSON in bind.cpp.
#include <algorithm>
#include <string>

#include "evaluation.h"
#include "grants.h"
#include "walks.h"
#include "pave/literals.h"

namespace pave::rt {
namespace {

constexpr std::string_view kNoMatchingRule = "no-matching-rule";

inline Matched Evaluation::match(const Rule& r, int32_t& failed, Value& err) {
  bool sawError = false;
  for (size_t i = 0; i < r.conjuncts.size(); ++i) {
    Value v = run(r.conjuncts[i]);
    if (v.isFalse()) {
      failed = int32_t(i);
      return Matched::False;
    }
    if (!v.isTrue() && !sawError) {
      sawError = true;
      err = v.isError() ? v : Value::error("condition is not a Bool");
    }
  }
  return sawError ? Matched::Error : Matched::True;
}

void Evaluation::evalError(uint32_t rule, const Value& err) {
  st.errors.push_back({std::string(errorCode(Err::EvaluationError)), {}, rule, std::string(err.str())});
}

// Lifting: a matching exception active at `now` lifts its deny if that matched; the
// exceptions that lifted one are the decision's, and the denies they lifted drop out. A
// deny that matched only through an error is never lifted (SPEC §5 step 3): an exception
// covers known circumstances, not unknown ones.
inline void Evaluation::lift(int64_t now) {
  for (uint32_t r : st.denyRules) st.denyState[r] = 1;
  for (const DecisionError& e : st.errors)
    if (e.rule != kNone && st.denyState[e.rule] == 1) st.denyState[e.rule] = 3;
  for (uint32_t e : st.matching) {
    const Rule& x = m.rules[e];
    if (now < x.until && (st.denyState[x.lifts] == 1 || st.denyState[x.lifts] == 2)) st.denyState[x.lifts] = 2;
  }
  for (uint32_t e : st.matching) {
    const Rule& x = m.rules[e];
    if (now < x.until && st.denyState[x.lifts] == 2) st.exceptions.push(e);
  }
  uint32_t kept = 0;
  for (uint32_t r : st.denyRules) {
    if (st.denyState[r] == 1 || st.denyState[r] == 3) st.denyRules.data()[kept++] = r;
    st.denyState[r] = 0;
  }
  st.denyRules.n = kept;
}

// Narrows `set` by the input's values (see DispatchKey): leaves in `st.bits` the rules
// that can match, and returns the keys whose value is one they name (the guards those
// keys decide hold). OneWord: the set has exactly one word of rules (most sets have at
// most 64), so the word stays in a register and no loop runs over the others.
template <bool OneWord>
inline uint32_t Evaluation::select(const RuleSet& set) {
  const uint32_t words = OneWord ? 1 : set.words;
  if (!OneWord && words == 0) return 0;  // no rules
  uint64_t* acc = st.bits.data();  // sized for the largest set (prepare)
  if (!OneWord) {
    for (uint32_t w = 1; w + 1 < words; ++w) acc[w] = ~uint64_t(0);
    if (words > 1) acc[words - 1] = set.lastMask;
  }
  uint64_t acc0 = words == 1 ? set.lastMask : ~uint64_t(0);
  uint32_t decided = 0;
  // The keys' array and count loaded once (as far as the compiler knows, the calls and
  // stores in the loop could change them).
  const DispatchKey* const keys = set.keys.data();
  for (uint32_t k = 0, n = uint32_t(set.keys.size()); k < n; ++k) {
    const DispatchKey& key = keys[k];
    const Value* v = &roots[size_t(key.root)][key.slot];
    if (key.entry && (v->kind != Kind::Map || !(v = mapEntry(*v, key.entryKey)))) continue;
    if (v->kind != key.kind) continue;  // absent: every rule stays
    uint32_t row;
    if (key.kind == Kind::String) {
      const int32_t named = key.strings.find(v->str());
      row = named < 0 ? key.values : uint32_t(named);
    } else {
      if (uint64_t(v->i) >= key.values) continue;
      row = uint32_t(v->i);
    }
    if (row < key.values) decided |= uint32_t(1) << k;
    const uint64_t* bits = key.bits.data() + size_t(row) * words;
    acc0 &= bits[0];
    if (!OneWord)
      for (uint32_t w = 1; w < words; ++w) acc[w] &= bits[w];
  }
  acc[0] = acc0;
  return decided;
}

inline void Evaluation::run(bool explain) {
  Decision& d = st.decision;
  const RequestIndex& ri = p.plan.requests[d.requestType];
  const int64_t now = st.input.context[p.plan.timeSlot].i;
  bool anyApprove = false;
  const RuleSet* byBits = nullptr;  // a set walked by bitsets whose grants are taken so too
  st.matchedN = 0;
  st.matching.clear();
  // What a match does (walkByBits does the same by bitsets): allow/approve rules that
  // match are the decision's rules; matching (or erring) denies are its deny rules unless
  // an exception lifts them below.
  auto matched = [&](const RuleUse& use, Matched result, const Value& err) {
    if (result == Matched::Error) evalError(use.rule, err);
    switch (use.effect) {
      case Effect::Deny:
        if (result != Matched::False) st.denyRules.push(use.rule);
        break;
      case Effect::Exception:
        if (result == Matched::True) st.matching.push(use.rule);
        break;
      case Effect::Approve:
      case Effect::Allow:
        if (result != Matched::True) break;
        st.rules.push(use.rule);
        if (use.contributes) st.matched[st.matchedN++] = &use;
        anyApprove |= use.effect == Effect::Approve;
        break;
    }
  };
  if (explain) {
    // Every applicable rule, each traced.
    Value err;
    for (const RuleUse& use : ri.rules) {
      const Rule& rule = m.rules[use.rule];
      int32_t failed = -1;
      Matched result = match(rule, failed, err);
      matched(use, result, err);
      st.trace.push_back({use.rule, result, rule.effect == Effect::Exception && now < rule.until,
                         result == Matched::False ? failed : -1});
    }
  } else {
    // Only the rules that can match for this principal type and these dispatch values.
    const RuleSet& set = ri.byPrincipal[st.input.principalType];
    const bool oneWord = set.words == 1;
    const uint32_t decided = oneWord ? select<true>(set) : select<false>(set);
    if (set.walk.byBits) {
      anyApprove = oneWord ? walkByBits<true>(set, decided) : walkByBits<false>(set, decided);
      if (set.grantTable.byBits) byBits = &set;
    } else {
      walk(set, decided, matched);
    }
  }
  if (!st.matching.empty()) lift(now);

  if (!st.denyRules.empty()) {
    d.outcome = Outcome::Deny;
    for (uint32_t r : st.denyRules)
      st.reasons.push(m.rules[r].because != kNone ? p.str(m.rules[r].because) : p.str(m.rules[r].name));
  } else if (!st.rules.empty() && !st.errors.empty()) [[unlikely]] {
    // Some allow, approve or exception rule's condition erred: a decision that carries an
    // evaluation error is `deny` (SPEC §5 step 3); its `errors` say why.
    d.outcome = Outcome::Deny;
  } else if (!st.rules.empty()) {
    // Only the contributing rules (st.matched, or the bitsets) assign grants or name
    // approvers.
    const bool oneAllow = !anyApprove && st.matchedN <= 1;
    bool ok;
    if (byBits)
      ok = byBits->words == 1 ? grantsByBits<true>(*byBits, ri) : grantsByBits<false>(*byBits, ri);
    else
      ok = oneAllow ? oneAllowGrants(ri) : grantsAndApprovals(ri);
    if (ok) {
      d.outcome = anyApprove ? Outcome::Approval : Outcome::Allow;
    } else {
      d.outcome = Outcome::Deny;
      st.grants.clear();
      st.approvals.clear();
    }
  } else {
    d.outcome = Outcome::Deny;
    st.reasons.push(kNoMatchingRule);
  }
  if (st.errors.size() > 1) {
    std::stable_sort(st.errors.begin(), st.errors.end(), [&](const DecisionError& x, const DecisionError& y) {
      return p.str(m.rules[x.rule].name) < p.str(m.rules[y.rule].name);
    });
  }
}

}  // namespace

void Decider::State::prepare(const LoadedBundle::Impl& p) {
  if (scratch.regs.size() < p.plan.maxRegs) scratch.regs.resize(p.plan.maxRegs);
  principal.resize(std::max<size_t>(p.plan.maxPrincipalAttrs, 1));
  request.resize(std::max<size_t>(p.plan.maxRequestSlot, 1));
  context.resize(std::max<size_t>(p.model.schema.context.size(), 1));
  denyState.resize(p.model.rules.size());
  memoStamp.resize(p.plan.memoCount, 0);
  size_t grantsMax = 0;
  for (const RequestType& rt : p.model.schema.requests) grantsMax = std::max(grantsMax, rt.grants.size());
  grantFirst.resize(grantsMax);
  size_t setWords = 1;
  for (const RequestIndex& ri : p.plan.requests)
    for (const RuleSet& set : ri.byPrincipal) setWords = std::max<size_t>(setWords, set.words);
  bits.resize(setWords);
  hit.resize(setWords);
  erred.resize(setWords);
  // A decision walks each applicable rule of its request type at most once, so at most
  // that many rules (and approvals, matching exceptions, deny rules) enter its lists; the
  // reasons are its deny rules' or one.
  size_t applicable = 0;
  for (const RequestIndex& ri : p.plan.requests) applicable = std::max(applicable, ri.rules.size());
  matched.resize(applicable);
  for (auto* list : {&rules, &denyRules, &exceptions, &matching}) list->buf.resize(applicable);
  approvals.buf.resize(applicable);
  grants.buf.resize(grantsMax);
  reasons.buf.resize(applicable + 1);
  memoValue.resize(p.plan.memoCount);
}

void Decider::State::reset() {
  scratch.arena.reset();
  input = Input{};
  input.principal = principal.data();
  input.request = request.data();
  input.context = context.data();
  bound = false;
  clearDecision(false);
  decision.requestType = kNone;
}

void evaluate(const LoadedBundle::Impl& p, Decider::State& st, bool explain) {
  if (++st.stamp == 0) {  // wrapped: forget every stamp
    std::fill(st.memoStamp.begin(), st.memoStamp.end(), 0);
    std::fill(st.grantFirst.begin(), st.grantFirst.end(), Decider::State::GrantFirst{});
    st.stamp = 1;
  }
  Evaluation{p, st}.run(explain);
}

Decider::Decider(std::shared_ptr<const LoadedBundle> bundle) : bundle_(std::move(bundle)), st_(std::make_unique<State>()) {
  st_->prepare(bundle_->impl());
  st_->reset();
}
Decider::~Decider() = default;

const Decision& Decider::decide(std::string_view inputJson, bool explain) {
  const auto& p = bundle_->impl();
  st_->reset();
  st_->decision.explained = explain;
  if (decodeJsonInput(p, inputJson, *st_)) evaluate(p, *st_, explain);
  st_->publish();
  return st_->decision;
}

std::string Decider::decideJson(std::string_view inputJson, bool explain) {
  const Decision& d = decide(inputJson, explain);
  std::string out;
  out.reserve(512);
  toJson(*bundle_, d, out);
  return out;
}

}  // namespace pave::rt
