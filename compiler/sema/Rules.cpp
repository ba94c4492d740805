// Rules (SPEC §3): clause shape, targets, exceptions, conditions, approvers and grants.
#include <algorithm>

#include "sema/internal/Checker.h"
#include <pave/literals.h>

namespace pave::sema::internal {

namespace {

bool clauseAllowed(ast::Effect effect, ast::ClauseKind k) {
  using C = ast::ClauseKind;
  switch (k) {
    case C::When:
    case C::Unless:
    case C::Because: return true;
    case C::By: return effect == ast::Effect::Approve;
    case C::Grant: return effect == ast::Effect::Allow || effect == ast::Effect::Approve;
    default: return effect == ast::Effect::Exception;
  }
}

std::string_view clauseHint(ast::ClauseKind k) {
  using C = ast::ClauseKind;
  switch (k) {
    case C::By: return "only `approve` rules have approvers";
    case C::Grant: return "only `allow` and `approve` rules assign grants";
    default: return "`lifts`, `until`, `owner` and `ticket` belong to `exception` rules";
  }
}

const ast::Clause* findClause(const ast::RuleDecl& rule, ast::ClauseKind k) {
  for (const ast::Clause& c : rule.clauses)
    if (c.kind == k) return &c;
  return nullptr;
}

}  // namespace

void Checker::checkClauseShape(const DeclEntry& d, const ast::RuleDecl& rule) {
  const ast::Decl& decl = ast_.decl(d.id);
  std::string effect(ast::effectName(rule.effect));
  std::vector<ast::ClauseKind> seen;
  for (const ast::Clause& c : rule.clauses) {
    std::string kw(ast::clauseKeyword(c.kind));
    if (!clauseAllowed(rule.effect, c.kind)) {
      report(msg::ClauseNotOnEffect, c.range, kw,
             effect == "allow" || effect == "approve" || effect == "exception" ? "an" : "a", effect)
          .note(std::string(clauseHint(c.kind)));
    } else if (std::find(seen.begin(), seen.end(), c.kind) != seen.end()) {
      report(msg::RepeatedClause, c.keywordRange, kw);
    }
    seen.push_back(c.kind);
    if (c.kind == ast::ClauseKind::By && c.quorum && *c.quorum < 1) report(msg::QuorumBelowOne, c.quorumRange);
  }
  bool isException = rule.effect == ast::Effect::Exception;
  if (!isException && !rule.hasOn)
    report(msg::RuleWithoutOn, decl.range, effect, d.qname)
        .note("like `" + effect + " " + std::string(ast_.str(decl.name)) +
              " on CloudRole …`, or `on *` for every request type");
  if (isException && rule.hasOn)
    report(msg::ExceptionWithOn, rule.onRange)
        .note("an exception applies to the request types of the deny rule it lifts");
  if (rule.effect == ast::Effect::Approve && !findClause(rule, ast::ClauseKind::By))
    report(msg::ApproveWithoutBy, decl.range, d.qname).note("like `by \"sre-leads\"`");
  if (isException) {
    std::vector<std::string> missing;
    for (ast::ClauseKind k : {ast::ClauseKind::Lifts, ast::ClauseKind::Until, ast::ClauseKind::Owner})
      if (!findClause(rule, k)) missing.emplace_back(ast::clauseKeyword(k));
    if (!missing.empty()) {
      report(msg::ExceptionMissingClauses, decl.range, d.qname, missing)
          .note(
              "exceptions are explicit, owned and time-bound: `lifts <deny rule>`, `until <timestamp>`, `owner "
              "\"team\"`");
    }
  }
}

void Checker::resolveTargets(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r) {
  if (rule.effect == ast::Effect::Exception || !rule.hasOn) return;
  r.onStar = rule.onStar;
  if (rule.onStar) {
    for (uint32_t i = 0; i < p_.requests.size(); ++i) r.targets.push_back(RequestId{i});
  } else {
    for (ast::NameId n : rule.targets)
      if (auto decl = resolveDeclName(n, {ast::DeclKind::Request}, "request type"))
        r.targets.push_back(requestOf_.at(decl->value));
  }
  std::sort(r.targets.begin(), r.targets.end());
  r.targets.erase(std::unique(r.targets.begin(), r.targets.end()), r.targets.end());
  ruleBodyCheckable_[ruleOf_.at(d.id.value).value] = !r.targets.empty();
}

void Checker::resolveException(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r) {
  ExceptionInfo ex;
  for (const ast::Clause& c : rule.clauses) {
    if (c.kind == ast::ClauseKind::Owner) ex.owner = c.text;
    if (c.kind == ast::ClauseKind::Ticket) ex.ticket = c.text;
    if (c.kind == ast::ClauseKind::Until) {
      ex.until = c.until;
      if (c.untilValid && c.until <= options_.now)
        report(msg::ExceptionExpired, ast_.decl(d.id).range, d.qname, rt::formatTimestamp(c.until))
            .note("the check time is " + rt::formatTimestamp(options_.now) +
                  "; renew the exception with a later `until`, or remove it");
    }
  }
  if (const ast::Clause* lifts = findClause(rule, ast::ClauseKind::Lifts)) {
    Resolved res = resolve(lifts->lifts, false);
    const uint32_t n = ast_.name(lifts->lifts).numSegments;
    if (res.kind == Resolved::Kind::Error) {
    } else if (res.consumed < n || res.kind != Resolved::Kind::Decl) {
      report(msg::UnknownRule, ast_.name(lifts->lifts).range, ast_.nameText(lifts->lifts));
    } else if (ast_.decl(res.decl).kind != ast::DeclKind::Rule ||
               ast_.rules[ast_.decl(res.decl).index].effect != ast::Effect::Deny) {
      const ast::Decl& target = ast_.decl(res.decl);
      std::string what = target.kind == ast::DeclKind::Rule
                             ? "an " + std::string(ast::effectName(ast_.rules[target.index].effect)) + " rule"
                             : "a " + std::string(ast::declKindName(target.kind));
      report(msg::LiftsNotADeny, lifts->range, d.qname, res.path, what)
          .related(target.kind == ast::DeclKind::Rule ? res.path : "", target.range, bt(res.path) + " is declared here")
          .note("exceptions lift guardrails: they name the `deny` rule they suspend");
    } else {
      RuleId target = ruleOf_.at(res.decl.value);
      ex.lifts = target;
      r.targets = p_.rules[target.value].targets;
      r.onStar = p_.rules[target.value].onStar;
      ruleBodyCheckable_[ruleOf_.at(d.id.value).value] = ruleBodyCheckable_[target.value];
    }
  }
  r.exception = std::move(ex);
}

void Checker::checkRuleGrants(const ast::Clause& c, RuleInfo& r) {
  for (const ast::GrantAssign& g : c.grants) {
    std::string name(ast_.str(g.name));
    const GrantInfo* first = nullptr;
    bool ok = true;
    for (RequestId t : r.targets) {
      const RequestInfo& req = p_.requests[t.value];
      const GrantInfo* gi = req.grant(name);
      if (!gi) {
        DiagBuilder d = report(msg::UnknownGrant, g.nameRange, name, req.name);
        std::vector<std::string> names;
        for (const GrantInfo& x : req.grants) names.push_back(x.name);
        suggest(d, name, names, g.nameRange);
        ok = false;
        break;
      }
      addRef(g.nameRange, RefKind::Grant, req.decl, static_cast<uint32_t>(gi - req.grants.data()), gi->range);
      if (first && gi->type != first->type) {
        report(msg::GrantTypesDiffer, g.nameRange, name, tname(first->type), tname(gi->type));
        ok = false;
        break;
      }
      first = gi;
    }
    CExprId v = check(g.value);
    if (!ok || !first) continue;
    if (!expect(v, first->type, "the value of grant " + bt(name))) continue;
    if (std::any_of(r.grants.begin(), r.grants.end(), [&](const GrantAssignment& x) { return x.grant == name; })) {
      report(msg::GrantAssignedTwice, g.nameRange, name);
      continue;
    }
    r.grants.push_back({name, v, g.nameRange.to(ast_.expr(g.value).range)});
  }
}

void Checker::checkRuleBody(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r) {
  if (const ast::Clause* when = findClause(rule, ast::ClauseKind::When)) {
    ast::ExprId e = when->exprs[0];
    std::vector<ast::ExprId> operands = ast_.expr(e).kind == ast::ExprKind::And ? children(e) : std::vector{e};
    std::vector<CExprId> conj = checkConjunction(operands, "the `when` condition");  // facts stay for the rest
    if (operands.size() > 1) p_.astExprTypes[e.value] = p_.types.boolean();
    for (size_t i = 0; i < operands.size(); ++i) r.condition.push_back({conj[i], ast_.expr(operands[i]).range, false});
  }
  if (const ast::Clause* unless = findClause(rule, ast::ClauseKind::Unless)) {
    ast::ExprId e = unless->exprs[0];
    CExprId c = checkBool(e, "the `unless` condition");
    SourceRange range = ast_.expr(e).range;
    r.condition.push_back({isError(c) ? c : make(CExprKind::Not, p_.types.boolean(), range, {c}), range, true});
  }
  for (const ast::Clause& c : rule.clauses) {
    if (!clauseAllowed(rule.effect, c.kind)) continue;
    if (c.kind == ast::ClauseKind::By) {
      for (ast::ExprId g : c.exprs) {
        CExprId v = check(g);
        if (expect(v, p_.types.string(), "an approver group")) r.approvers.push_back(v);
      }
      if (c.quorum) r.quorum = *c.quorum;
    }
    if (c.kind == ast::ClauseKind::Grant) checkRuleGrants(c, r);
  }
  r.numVars = unit_.numVars;
}

void Checker::checkRules() {
  ruleBodyCheckable_.clear();
  for (const DeclEntry& e : decls_) {
    const ast::Decl& d = ast_.decl(e.id);
    if (d.kind != ast::DeclKind::Rule) continue;
    const ast::RuleDecl& rule = ast_.rules[d.index];
    ruleOf_[e.id.value] = RuleId{static_cast<uint32_t>(p_.rules.size())};
    RuleInfo r;
    setDeclInfo(r, e);
    r.effect = rule.effect;
    r.file = ast_.files[d.file].file;
    for (const ast::Clause& c : rule.clauses)
      if (c.kind == ast::ClauseKind::Because) r.because = c.text;
    p_.rules.push_back(std::move(r));
    ruleBodyCheckable_.push_back(false);
  }
  auto forEachRule = [&](auto&& fn, auto&& wanted) {
    for (const DeclEntry& e : decls_) {
      const ast::Decl& d = ast_.decl(e.id);
      if (d.kind != ast::DeclKind::Rule || !wanted(d)) continue;
      UnitGuard unit(*this, UnitScope{UnitScope::Kind::Rule, {}, false, {}, e.qname, "rule"}, d.file);
      fn(e, ast_.rules[d.index], p_.rules[ruleOf_.at(e.id.value).value]);
    }
  };
  // CheckOptions::bodyFiles: the other files' rules get only what the checked ones read,
  // the targets of deny rules (an exception copies those of the rule it lifts).
  auto checked = [&](const ast::Decl& d) { return options_.checksBodiesOf(ast_.files[d.file].file); };
  forEachRule([&](const DeclEntry& e, const ast::RuleDecl& rule, RuleInfo& r) {
    if (options_.checksBodiesOf(r.file)) checkClauseShape(e, rule);  // diagnostics only
    resolveTargets(e, rule, r);
  }, [&](const ast::Decl& d) { return checked(d) || ast_.rules[d.index].effect == ast::Effect::Deny; });
  forEachRule([&](const DeclEntry& e, const ast::RuleDecl& rule, RuleInfo& r) {
    resolveException(e, rule, r);
  }, [&](const ast::Decl& d) { return ast_.rules[d.index].effect == ast::Effect::Exception; });
  forEachRule([&](const DeclEntry& e, const ast::RuleDecl& rule, RuleInfo& r) {
    checkAnnotations(e, rule, r);
    if (!ruleBodyCheckable_[ruleOf_.at(e.id.value).value]) return;
    unit_.scope.targets = r.targets;
    unit_.scope.onStar = r.onStar;
    for (RequestId t : r.targets)
      for (PrincipalId p : p_.requests[t.value].principals) unit_.scope.principals.push_back(p);
    std::sort(unit_.scope.principals.begin(), unit_.scope.principals.end());
    unit_.scope.principals.erase(std::unique(unit_.scope.principals.begin(), unit_.scope.principals.end()),
                                 unit_.scope.principals.end());
    checkRuleBody(e, rule, r);
  }, checked);
}

}  // namespace pave::sema::internal
