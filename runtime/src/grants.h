// The grant step of an allow or approval decision (SPEC §5 step 5): the approvals of the
// matching approve rules, and each grant's value from its default and the matching rules
// that assign it, merged by its operator, in one of three ways: rule by rule
// (grantsAndApprovals), for one contributing allow rule (oneAllowGrants), or from the
// bitsets of a walk by bitsets (grantsByBits, with the plan's grant tables).
// Included once, by decide.cpp (see evaluation.h).
#pragma once
#include <algorithm>
#include <string>

#include "evaluation.h"

namespace pave::rt {
namespace {

// Combines grant values with the merge operator; false on a `unique` conflict.
inline bool Evaluation::merge(MergeOp op, Value& acc, const Value& v) {
  switch (op) {
    case MergeOp::Min: if (v.i < acc.i) acc = v; return true;
    case MergeOp::Max: if (v.i > acc.i) acc = v; return true;
    case MergeOp::And: acc = Value::boolean(acc.i && v.i); return true;
    case MergeOp::Or: acc = Value::boolean(acc.i || v.i); return true;
    case MergeOp::Unique: return equalValues(acc, v);
    case MergeOp::Union:
    case MergeOp::Intersect: mergeSets(op == MergeOp::Union, acc, v); return true;
  }
  return false;
}
// The union or intersection of two sorted sets. Out of line, as the other cold paths of
// the grant step, so that its loop keeps its values in registers.
void Evaluation::mergeSets(bool uni, Value& acc, const Value& v) {
  Value* out = st.scratch.arena.allocArray<Value>(size_t(acc.n) + v.n);
  uint32_t n = 0, i = 0, j = 0;
  while (i < acc.n || j < v.n) {
    int c = i == acc.n ? 1 : j == v.n ? -1 : compareValues(acc.elems[i], v.elems[j]);
    if (c == 0) out[n++] = acc.elems[i], ++i, ++j;
    else if (c < 0) { if (uni) out[n++] = acc.elems[i]; ++i; }
    else { if (uni) out[n++] = v.elems[j]; ++j; }
  }
  acc = Value::set(out, n);
}

// The approval of a matching approve rule: its groups sorted and de-duplicated (computed
// at load time when they are constants). False on errors.
inline bool Evaluation::approval(const RuleUse& use) {
  if (use.approversConst) {
    st.approvals.push({use.rule, use.groups, use.quorum});
    return true;
  }
  return evaluatedApproval(use);
}
bool Evaluation::evaluatedApproval(const RuleUse& use) {
  const Rule& r = m.rules[use.rule];
  Approval a{use.rule, {}, use.quorum};
  bool ok = true;
  auto* groups = st.scratch.arena.allocArray<std::string_view>(r.approvers.size());
  size_t n = 0;
  for (uint32_t fn : r.approvers) {
    Value g = run(fn);
    if (g.kind != Kind::String) {
      evalError(a.rule, g.isError() ? g : Value::error("approver is not a String"));
      ok = false;
      continue;
    }
    groups[n++] = g.str();
  }
  std::sort(groups, groups + n);
  a.groups = {groups, size_t(std::unique(groups, groups + n) - groups)};
  st.approvals.push(a);
  return ok;
}

// The value a rule assigns to a grant.
inline Value Evaluation::grantValue(const RuleUse::Grant& grant) {
  switch (grant.form) {
    case RuleUse::Grant::Form::Constant: return grant.k;
    case RuleUse::Grant::Form::Load: {
      const Value& v = roots[grant.root][grant.slot];
      if (v.kind != Kind::Absent && v.kind != Kind::Error) return v;
      break;  // the bytecode reports the error
    }
    case RuleUse::Grant::Form::Run: break;
  }
  return run(grant.fn);
}

// Evaluates approvers and grants of the matching allow/approve rules that contribute
// (RuleUse::contributes), in rule order (so each grant merges its values in rule order).
// False on errors.
bool Evaluation::grantsAndApprovals(const RequestIndex& ri) {
  bool ok = true;
  defaultGrants(ri);
  const RequestType& rt = m.schema.requests[st.decision.requestType];
  // Loaded once: the stores below are of values, which could alias them.
  const uint32_t stamp = st.stamp, count = st.matchedN;
  const RuleUse* const* const matched = st.matched.data();
  Decider::State::GrantFirst* const firsts = st.grantFirst.data();
  Value* const grants = st.grants.data();
  const GrantDecl* const decls = rt.grants.data();
  for (uint32_t i = 0; i < count; ++i) {
    const RuleUse& use = *matched[i];
    if (use.effect == Effect::Approve) ok &= approval(use);
    // Value `v` of grant `g`: the first is stored, the others merged into it.
    auto assign = [&](uint32_t g, const Value& v) {
      Decider::State::GrantFirst& first = firsts[g];
      if (first.stamp != stamp) {
        grants[g] = v;
        first = {stamp, use.rule};
      } else if (!merge(decls[g].merge, grants[g], v)) {
        grantConflict(rt, g, first.rule, use.rule);
        ok = false;
      }
    };
    ok &= ruleGrants<false>(use, assign);
  }
  return ok;
}

// Calls assign(g, value) for each grant `use` assigns, in order; false when a value is
// an error (reported). Inline: the values that are not constants computed in line
// (grantValue) rather than by a call (computeGrant).
template <bool Inline, typename Assign>
inline bool Evaluation::ruleGrants(const RuleUse& use, Assign assign) {
  bool ok = true;
  for (const RuleUse::Grant& grant : use.grants) {
    if (grant.form == RuleUse::Grant::Form::Constant) {  // used where it is: no copy, never an error
      assign(grant.grant, grant.k);
      continue;
    }
    const Value v = Inline ? grantValue(grant) : computeGrant(grant);
    if (v.isError()) {
      evalError(use.rule, v);
      ok = false;
    } else {
      assign(grant.grant, v);
    }
  }
  return ok;
}

// The request type's grants at their defaults (the grant step then assigns them).
inline void Evaluation::defaultGrants(const RequestIndex& ri) {
  Value* out = st.grants.data();
  for (const Value& v : ri.grantDefaults) *out++ = v;
  st.grants.n = uint32_t(ri.grantDefaults.size());
}

// The grants and approvals of a set walked by bitsets with RuleSet::grantTable: the
// approvals of the matching approve rules, and each grant's values, first stored, the
// others merged, from the matching rules that assign it, in set order (as
// grantsAndApprovals would, rule by rule: the merges and the conflicts reported are the
// same, and errors are sorted by rule afterwards). False on a conflict. OneWord as for
// walkByBits.
template <bool OneWord>
bool Evaluation::grantsByBits(const RuleSet& set, const RequestIndex& ri) {
  defaultGrants(ri);
  const uint32_t words = OneWord ? 1 : set.words;
  const uint64_t* const hit = st.hit.data();
  const uint64_t* const approves = set.bitsOf(RuleSet::Approves);
  Approval* approvals = st.approvals.end();
  for (uint32_t w = 0; w < words; ++w)
    for (uint64_t x = hit[w] & approves[w]; x; x &= x - 1)
      *approvals++ = set.grantTable.approvalAt[size_t(w) * 64 + lowestBit(x)];
  st.approvals.n = uint32_t(approvals - st.approvals.data());
  const RequestType& rt = m.schema.requests[st.decision.requestType];
  const uint32_t count = uint32_t(rt.grants.size()), n = uint32_t(set.rules.size());
  Value* const grants = st.grants.data();
  bool ok = true;
  for (uint32_t g = 0; g < count; ++g) {
    const uint64_t* const assigns = set.grantTable.rules.data() + size_t(g) * words;
    const RuleSet::GrantSource* const src = set.grantTable.src.data() + size_t(g) * n;
    // Calls fn(position, value) for each matching rule that assigns grant g, in order.
    auto each = [&](auto&& fn) {
      for (uint32_t w = 0; w < words; ++w)
        for (uint64_t x = hit[w] & assigns[w]; x; x &= x - 1) {
          const uint32_t pos = w * 64 + uint32_t(lowestBit(x));
          const RuleSet::GrantSource& s = src[pos];
          fn(pos, s.k ? *s.k : roots[s.root][s.slot]);
        }
    };
    const MergeOp op = rt.grants[g].merge;
    if (op == MergeOp::Min || op == MergeOp::Max) {  // the first least (greatest) value
      const Value* best = nullptr;
      each([&](uint32_t, const Value& v) {
        if (!best || (op == MergeOp::Min ? v.i < best->i : v.i > best->i)) best = &v;
      });
      if (best) grants[g] = *best;
      continue;
    }
    uint32_t first = kNone;  // the first rule that assigns it
    each([&](uint32_t pos, const Value& v) {
      if (first == kNone) {
        grants[g] = v;
        first = set.walk.ruleIds[pos];
      } else if (!merge(op, grants[g], v)) {
        grantConflict(rt, g, first, set.walk.ruleIds[pos]);
        ok = false;
      }
    });
  }
  return ok;
}

// A grant's value that is not a constant (grantValue out of line, like the other cold
// paths of grantsAndApprovals).
Value Evaluation::computeGrant(const RuleUse::Grant& grant) { return grantValue(grant); }
// A `unique` grant given different values by rules `first` and `rule`.
void Evaluation::grantConflict(const RequestType& rt, uint32_t g, uint32_t first, uint32_t rule) {
  st.errors.push_back({std::string(errorCode(Err::GrantConflict)), {}, rule,
                       "grant '" + std::string(p.str(rt.grants[g].name)) + "' is assigned different values by '" +
                           std::string(p.str(m.rules[first].name)) + "' and '" +
                           std::string(p.str(m.rules[rule].name)) + "'"});
}

// The grants of an allow decision where at most one matching rule assigns grants (the
// only one in st.matched, if any): the defaults, then that rule's values (nothing to
// merge, no approvals). Out of line, like grantsAndApprovals. False on errors.
bool Evaluation::oneAllowGrants(const RequestIndex& ri) {
  defaultGrants(ri);
  if (st.matchedN == 0) return true;  // no matching rule assigns grants
  Value* const grants = st.grants.data();
  return ruleGrants<true>(*st.matched[0], [&](uint32_t g, const Value& v) { grants[g] = v; });
}

}  // namespace
}  // namespace pave::rt
