// Grant tables (RuleSet::grantTable): for a set walked by bitsets whose contributing
// rules assign constants or required attributes, per grant the rules that assign it and
// where each value comes from, so a decision takes grants from bitsets of matching rules.
#include <algorithm>

#include "plan/build.h"

namespace pave::rt {

// Grants by bitsets (RuleSet::grantTable), for the sets walked by bitsets where every
// contributing rule names constant approvers (if any) and assigns constants or attributes
// every valid input has (never an error): the rules that assign each grant, and where.
void indexGrants(const Schema& s, const RequestType& rt, RuleSet& set) {
  set.grantTable.byBits = false;
  if (!set.walk.byBits) return;
  // The tables take 16 bytes per grant and rule and 32 per rule: a set with more than
  // RuleSet::kMaxGrantTable of those entries (about 1 MB) takes its grants rule by rule.
  if ((rt.grants.size() + 2) * set.rules.size() > RuleSet::kMaxGrantTable) return;
  auto required = [&](const RuleUse::Grant& g) {
    switch (g.form) {
      case RuleUse::Grant::Form::Constant: return true;
      case RuleUse::Grant::Form::Load:
        if (g.root == uint8_t(FastTest::Root::Context)) return g.slot < s.context.size() && !s.context[g.slot].optional;
        if (g.root != uint8_t(FastTest::Root::Request)) return false;
        return std::any_of(rt.attrs.begin(), rt.attrs.end(),
                           [&](const RequestAttr& a) { return a.slot == g.slot && !a.optional; });
      case RuleUse::Grant::Form::Run: return false;
    }
    return false;
  };
  for (const RuleUse& use : set.rules) {
    if (!use.contributes) continue;
    if (use.effect == Effect::Approve && !use.approversConst) return;
    for (size_t i = 0; i < use.grants.size(); ++i) {
      const RuleUse::Grant& g = use.grants[i];  // sorted by grant: one value per grant
      if (g.grant >= rt.grants.size() || !required(g) || (i > 0 && use.grants[i - 1].grant == g.grant)) return;
    }
  }
  const size_t grants = rt.grants.size(), n = set.rules.size();
  set.grantTable.rules.assign(grants * set.words, 0);
  set.grantTable.src.assign(grants * n, {});
  set.grantTable.pool.clear();
  set.grantTable.approvalAt.assign(n, {});
  for (const RuleUse& use : set.rules)
    for (const RuleUse::Grant& g : use.grants)
      if (use.contributes && g.form == RuleUse::Grant::Form::Constant) set.grantTable.pool.push_back(g.k);
  const Value* k = set.grantTable.pool.data();  // not resized below: pointers stay valid
  for (uint32_t pos = 0; pos < n; ++pos) {
    const RuleUse& use = set.rules[pos];
    if (!use.contributes) continue;
    if (use.effect == Effect::Approve) set.grantTable.approvalAt[pos] = {use.rule, use.groups, use.quorum};
    for (const RuleUse::Grant& g : use.grants) {
      set.grantTable.rules[size_t(g.grant) * set.words + pos / 64] |= uint64_t(1) << (pos % 64);
      RuleSet::GrantSource& src = set.grantTable.src[size_t(g.grant) * n + pos];
      if (g.form == RuleUse::Grant::Form::Constant)
        src.k = k++;
      else
        src.root = g.root, src.slot = g.slot;
    }
  }
  set.grantTable.byBits = true;
}

}  // namespace pave::rt
