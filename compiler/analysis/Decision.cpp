#include "analysis/Decision.h"

namespace pave::analysis {

using sema::RuleId;

namespace {

z3::expr orAll(z3::context& ctx, const std::vector<z3::expr>& v) {
  if (v.empty()) return ctx.bool_val(false);
  z3::expr_vector ev(ctx);
  for (const auto& e : v) ev.push_back(e);
  return z3::mk_or(ev);
}

z3::expr andAll(z3::context& ctx, const std::vector<z3::expr>& v) {
  if (v.empty()) return ctx.bool_val(true);
  z3::expr_vector ev(ctx);
  for (const auto& e : v) ev.push_back(e);
  return z3::mk_and(ev);
}

}  // namespace

z3::expr DecisionEncoder::matchesTrue(RuleId r) {
  auto it = conditions_.find(r.value);
  if (it == conditions_.end()) it = conditions_.emplace(r.value, enc_.condition(enc_.program().rule(r))).first;
  return it->second.v.x && !it->second.err;
}

z3::expr DecisionEncoder::matches(RuleId r) {
  if (enc_.program().rule(r).effect != ast::Effect::Deny) return matchesTrue(r);
  matchesTrue(r);
  const Sym& s = conditions_.at(r.value);
  return s.v.x || s.err;
}

z3::expr DecisionEncoder::active(RuleId e) {
  return enc_.time() < enc_.ctx().int_val(enc_.program().rule(e).exception->until);
}

z3::expr DecisionEncoder::lifted(RuleId deny, const std::vector<RuleId>& rules) {
  std::vector<z3::expr> alts;
  for (RuleId r : rules) {
    const sema::RuleInfo& info = enc_.program().rule(r);
    if (info.effect == ast::Effect::Exception && info.exception->lifts == deny) alts.push_back(matchesTrue(r) && active(r));
  }
  return orAll(enc_.ctx(), alts);
}

z3::expr DecisionEncoder::denied(const std::vector<RuleId>& rules) {
  std::vector<z3::expr> alts;
  for (RuleId r : rules)
    if (enc_.program().rule(r).effect == ast::Effect::Deny) alts.push_back(matches(r) && !lifted(r, rules));
  return orAll(enc_.ctx(), alts);
}

z3::expr DecisionEncoder::anyMatch(const std::vector<RuleId>& rules, ast::Effect effect) {
  std::vector<z3::expr> alts;
  for (RuleId r : rules)
    if (enc_.program().rule(r).effect == effect) alts.push_back(matchesTrue(r));
  return orAll(enc_.ctx(), alts);
}

Sym DecisionEncoder::grantValue(RuleId r, const std::string& grant) {
  auto key = std::make_pair(r.value, grant);
  auto it = grants_.find(key);
  if (it != grants_.end()) return it->second;
  for (const sema::GrantAssignment& g : enc_.program().rule(r).grants)
    if (g.grant == grant) return grants_.emplace(key, enc_.encode(g.value)).first->second;
  return {SymVal(enc_.ctx().bool_val(false)), enc_.ctx().bool_val(true)};
}

z3::expr DecisionEncoder::evaluationFailure(const std::vector<RuleId>& rules, bool approval) {
  std::vector<z3::expr> alts;
  const sema::RequestInfo& req = enc_.program().requests[enc_.requestType().value];
  for (RuleId r : rules) {
    const sema::RuleInfo& info = enc_.program().rule(r);
    if (info.effect != ast::Effect::Allow && info.effect != ast::Effect::Approve) continue;
    std::vector<z3::expr> errs;
    for (const sema::GrantAssignment& g : info.grants)
      if (req.grant(g.grant)) errs.push_back(grantValue(r, g.grant).err);
    if (approval && info.effect == ast::Effect::Approve)
      for (sema::CExprId by : info.approvers) errs.push_back(enc_.encode(by).err);
    if (!errs.empty()) alts.push_back(matchesTrue(r) && orAll(enc_.ctx(), errs));
  }
  return orAll(enc_.ctx(), alts);
}

z3::expr DecisionEncoder::uniqueConflicts(const std::vector<RuleId>& rules) {
  std::vector<z3::expr> alts;
  const sema::RequestInfo& req = enc_.program().requests[enc_.requestType().value];
  for (const sema::GrantInfo& g : req.grants) {
    if (g.merge != sema::MergeOp::Unique) continue;
    std::vector<RuleId> assigning;
    for (RuleId r : rules) {
      const sema::RuleInfo& info = enc_.program().rule(r);
      if (info.effect != ast::Effect::Allow && info.effect != ast::Effect::Approve) continue;
      for (const sema::GrantAssignment& a : info.grants)
        if (a.grant == g.name) assigning.push_back(r);
    }
    for (size_t i = 0; i < assigning.size(); ++i)
      for (size_t j = i + 1; j < assigning.size(); ++j) {
        Sym a = grantValue(assigning[i], g.name), b = grantValue(assigning[j], g.name);
        alts.push_back(matchesTrue(assigning[i]) && matchesTrue(assigning[j]) && !a.err && !b.err &&
                       !enc_.equal(a.v, b.v, g.type));
      }
  }
  return orAll(enc_.ctx(), alts);
}

SymOutcome DecisionEncoder::outcome(const std::vector<RuleId>& rules) {
  z3::expr isDenied = denied(rules);
  z3::expr approve = anyMatch(rules, ast::Effect::Approve);
  z3::expr allow = anyMatch(rules, ast::Effect::Allow);
  z3::expr failed = evaluationFailure(rules, true) || uniqueConflicts(rules);
  z3::expr deny = isDenied || !(approve || allow) || failed;
  return {deny, !deny && approve, !deny && !approve && allow};
}

DecisionEncoder::MergedGrant DecisionEncoder::mergedGrant(const std::vector<RuleId>& rules, const sema::GrantInfo& g) {
  z3::context& ctx = enc_.ctx();
  std::vector<std::pair<z3::expr, SymVal>> assigned;  // (assigns, value)
  for (RuleId r : rules) {
    const sema::RuleInfo& info = enc_.program().rule(r);
    if (info.effect != ast::Effect::Allow && info.effect != ast::Effect::Approve) continue;
    for (const sema::GrantAssignment& a : info.grants)
      if (a.grant == g.name) assigned.emplace_back(matchesTrue(r), grantValue(r, g.name).v);
  }
  std::vector<z3::expr> flags;
  for (const auto& a : assigned) flags.push_back(a.first);
  z3::expr any = orAll(ctx, flags);
  SymVal def = enc_.literal(g.defaultValue);
  sema::TypeId elem = enc_.program().types.get(g.type).elem;
  MergedGrant out;
  switch (g.merge) {
    case sema::MergeOp::Union:
    case sema::MergeOp::Intersect: {
      bool uni = g.merge == sema::MergeOp::Union;
      out.contains = [this, assigned, any, def, elem, uni](const SymVal& z) {
        std::vector<z3::expr> parts;
        for (const auto& [on, v] : assigned)
          parts.push_back(uni ? on && enc_.member(z, v, elem) : z3::implies(on, enc_.member(z, v, elem)));
        z3::expr merged = uni ? orAll(enc_.ctx(), parts) : andAll(enc_.ctx(), parts);
        return z3::ite(any, merged, enc_.member(z, def, elem));
      };
      return out;
    }
    case sema::MergeOp::And:
    case sema::MergeOp::Or: {
      std::vector<z3::expr> parts;
      bool isAnd = g.merge == sema::MergeOp::And;
      for (const auto& [on, v] : assigned) parts.push_back(isAnd ? z3::implies(on, v.x) : on && v.x);
      out.value = SymVal(z3::ite(any, isAnd ? andAll(ctx, parts) : orAll(ctx, parts), def.x));
      return out;
    }
    case sema::MergeOp::Min:
    case sema::MergeOp::Max: {
      // The least (greatest) assigned value: an ite chain keeping the better candidate.
      z3::expr best = def.x;
      z3::expr have = ctx.bool_val(false);
      bool isMin = g.merge == sema::MergeOp::Min;
      for (const auto& [on, v] : assigned) {
        z3::expr better = isMin ? v.x < best : v.x > best;
        best = z3::ite(on && (!have || better), v.x, best);
        have = have || on;
      }
      out.value = SymVal(best);
      return out;
    }
    case sema::MergeOp::Unique: {
      SymVal v = def;
      for (auto it = assigned.rbegin(); it != assigned.rend(); ++it) v = enc_.iteVal(it->first, it->second, v, g.type);
      out.value = v;
      if (enc_.program().types.kind(g.type) == sema::TypeKind::Set)
        out.contains = [this, v, elem](const SymVal& z) { return enc_.member(z, v, elem); };
      return out;
    }
  }
  return out;
}

}  // namespace pave::analysis
