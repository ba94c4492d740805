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
  bool saw_error = false;
  for (size_t i = 0; i < r.conjuncts.size(); ++i) {
    Value v = run(r.conjuncts[i]);
    if (v.isFalse()) {
      failed = int32_t(i);
      return Matched::False;
    }
    if (!v.isTrue() && !saw_error) {
      saw_error = true;
      err = v.isError() ? v : Value::error("condition is not a Bool");
    }
  }
  return saw_error ? Matched::Error : Matched::True;
}

void Evaluation::evalError(uint32_t rule, const Value& err) {
  st.errors.push_back({std::string(errorCode(Err::EvaluationError)), {}, rule, std::string(err.str())});
}

// Lifting: a matching exception active at `now` lifts its deny if that matched; the
// exceptions that lifted one are the decision's, and the denies they lifted drop out. A
// deny that matched only through an error is never lifted (SPEC §5 step 3): an exception
// covers known circumstances, not unknown ones.
inline void Evaluation::lift(int64_t now) {
  for (uint32_t r : st.deny_rules) st.deny_state[r] = 1;
  for (const DecisionError& e : st.errors)
    if (e.rule != kNone && st.deny_state[e.rule] == 1) st.deny_state[e.rule] = 3;
  for (uint32_t e : st.matching) {
    const Rule& x = m.rules[e];
    if (now < x.until && (st.deny_state[x.lifts] == 1 || st.deny_state[x.lifts] == 2)) st.deny_state[x.lifts] = 2;
  }
  for (uint32_t e : st.matching) {
    const Rule& x = m.rules[e];
    if (now < x.until && st.deny_state[x.lifts] == 2) st.exceptions.push(e);
  }
  uint32_t kept = 0;
  for (uint32_t r : st.deny_rules) {
    if (st.deny_state[r] == 1 || st.deny_state[r] == 3) st.deny_rules.data()[kept++] = r;
    st.deny_state[r] = 0;
  }
  st.deny_rules.n = kept;
}

// Narrows `set` by the input's values (see DispatchKey): leaves in `st.bits` the rules
// that can match, and returns the keys whose value is one they name (the guards those
// keys decide hold). kOneWord: the set has exactly one word of rules (most sets have at
// most 64), so the word stays in a register and no loop runs over the others.
template <bool kOneWord>
inline uint32_t Evaluation::select(const RuleSet& set) {
  const uint32_t words = kOneWord ? 1 : set.words;
  if (!kOneWord && words == 0) return 0;  // no rules
  uint64_t* acc = st.bits.data();  // sized for the largest set (prepare)
  if (!kOneWord) {
    for (uint32_t w = 1; w + 1 < words; ++w) acc[w] = ~uint64_t(0);
    if (words > 1) acc[words - 1] = set.last_mask;
  }
  uint64_t acc0 = words == 1 ? set.last_mask : ~uint64_t(0);
  uint32_t decided = 0;
  // The keys' array and count loaded once (as far as the compiler knows, the calls and
  // stores in the loop could change them).
  const DispatchKey* const keys = set.keys.data();
  for (uint32_t k = 0, n = uint32_t(set.keys.size()); k < n; ++k) {
    const DispatchKey& key = keys[k];
    const Value* v = &roots[size_t(key.root)][key.slot];
    if (key.entry && (v->kind != Kind::Map || !(v = mapEntry(*v, key.entry_key)))) continue;
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
    if (!kOneWord)
      for (uint32_t w = 1; w < words; ++w) acc[w] &= bits[w];
  }
  acc[0] = acc0;
  return decided;
}

inline void Evaluation::run(bool explain) {
  Decision& d = st.decision;
  const RequestIndex& ri = p.plan.requests[d.request_type];
  const int64_t now = st.input.context[p.plan.time_slot].i;
  bool any_approve = false;
  const RuleSet* by_bits = nullptr;  // a set walked by bitsets whose grants are taken so too
  st.matched_n = 0;
  st.matching.clear();
  // What a match does (walkByBits does the same by bitsets): allow/approve rules that
  // match are the decision's rules; matching (or erring) denies are its deny rules unless
  // an exception lifts them below.
  auto matched = [&](const RuleUse& use, Matched result, const Value& err) {
    if (result == Matched::Error) evalError(use.rule, err);
    switch (use.effect) {
      case Effect::Deny:
        if (result != Matched::False) st.deny_rules.push(use.rule);
        break;
      case Effect::Exception:
        if (result == Matched::True) st.matching.push(use.rule);
        break;
      case Effect::Approve:
      case Effect::Allow:
        if (result != Matched::True) break;
        st.rules.push(use.rule);
        if (use.contributes) st.matched[st.matched_n++] = &use;
        any_approve |= use.effect == Effect::Approve;
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
    const RuleSet& set = ri.by_principal[st.input.principal_type];
    const bool oneWord = set.words == 1;
    const uint32_t decided = oneWord ? select<true>(set) : select<false>(set);
    if (set.walk.by_bits) {
      any_approve = oneWord ? walkByBits<true>(set, decided) : walkByBits<false>(set, decided);
      if (set.grant_table.by_bits) by_bits = &set;
    } else {
      walk(set, decided, matched);
    }
  }
  if (!st.matching.empty()) lift(now);

  if (!st.deny_rules.empty()) {
    d.outcome = Outcome::Deny;
    for (uint32_t r : st.deny_rules)
      st.reasons.push(m.rules[r].because != kNone ? p.str(m.rules[r].because) : p.str(m.rules[r].name));
  } else if (!st.rules.empty() && !st.errors.empty()) [[unlikely]] {
    // Some allow, approve or exception rule's condition erred: a decision that carries an
    // evaluation error is `deny` (SPEC §5 step 3); its `errors` say why.
    d.outcome = Outcome::Deny;
  } else if (!st.rules.empty()) {
    // Only the contributing rules (st.matched, or the bitsets) assign grants or name
    // approvers.
    const bool one_allow = !any_approve && st.matched_n <= 1;
    bool ok;
    if (by_bits)
      ok = by_bits->words == 1 ? grantsByBits<true>(*by_bits, ri) : grantsByBits<false>(*by_bits, ri);
    else
      ok = one_allow ? oneAllowGrants(ri) : grantsAndApprovals(ri);
    if (ok) {
      d.outcome = any_approve ? Outcome::Approval : Outcome::Allow;
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
  if (scratch.regs.size() < p.plan.max_regs) scratch.regs.resize(p.plan.max_regs);
  principal.resize(std::max<size_t>(p.plan.max_principal_attrs, 1));
  request.resize(std::max<size_t>(p.plan.max_request_slot, 1));
  context.resize(std::max<size_t>(p.model.schema.context.size(), 1));
  deny_state.resize(p.model.rules.size());
  memo_stamp.resize(p.plan.memo_count, 0);
  size_t grants_max = 0;
  for (const RequestType& rt : p.model.schema.requests) grants_max = std::max(grants_max, rt.grants.size());
  grant_first.resize(grants_max);
  size_t set_words = 1;
  for (const RequestIndex& ri : p.plan.requests)
    for (const RuleSet& set : ri.by_principal) set_words = std::max<size_t>(set_words, set.words);
  bits.resize(set_words);
  hit.resize(set_words);
  erred.resize(set_words);
  // A decision walks each applicable rule of its request type at most once, so at most
  // that many rules (and approvals, matching exceptions, deny rules) enter its lists; the
  // reasons are its deny rules' or one.
  size_t applicable = 0;
  for (const RequestIndex& ri : p.plan.requests) applicable = std::max(applicable, ri.rules.size());
  matched.resize(applicable);
  for (auto* list : {&rules, &deny_rules, &exceptions, &matching}) list->buf.resize(applicable);
  approvals.buf.resize(applicable);
  grants.buf.resize(grants_max);
  reasons.buf.resize(applicable + 1);
  memo_value.resize(p.plan.memo_count);
}

void Decider::State::reset() {
  scratch.arena.reset();
  input = Input{};
  input.principal = principal.data();
  input.request = request.data();
  input.context = context.data();
  bound = false;
  clearDecision(false);
  decision.request_type = kNone;
}

void evaluate(const LoadedBundle::Impl& p, Decider::State& st, bool explain) {
  if (++st.stamp == 0) {  // wrapped: forget every stamp
    std::fill(st.memo_stamp.begin(), st.memo_stamp.end(), 0);
    std::fill(st.grant_first.begin(), st.grant_first.end(), Decider::State::GrantFirst{});
    st.stamp = 1;
  }
  Evaluation{p, st}.run(explain);
}

Decider::Decider(std::shared_ptr<const LoadedBundle> bundle) : bundle_(std::move(bundle)), st_(std::make_unique<State>()) {
  st_->prepare(bundle_->impl());
  st_->reset();
}
Decider::~Decider() = default;

const Decision& Decider::decide(std::string_view input_json, bool explain) {
  const auto& p = bundle_->impl();
  st_->reset();
  st_->decision.explained = explain;
  if (decodeJsonInput(p, input_json, *st_)) evaluate(p, *st_, explain);
  st_->publish();
  return st_->decision;
}

std::string Decider::decideJson(std::string_view input_json, bool explain) {
  const Decision& d = decide(input_json, explain);
  std::string out;
  out.reserve(512);
  toJson(*bundle_, d, out);
  return out;
}

}  // namespace pave::rt
