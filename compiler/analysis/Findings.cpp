#include "analysis/Findings.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <unordered_map>
#include <functional>
#include <set>

#include <pave/literals.h>

namespace pave::analysis {

using nlohmann::json;
using sema::RequestId;
using sema::RuleId;
using sema::RuleInfo;

namespace {

constexpr int64_t kLongException = 90 * 86400;

bool isGranting(const RuleInfo& r) { return r.effect == ast::Effect::Allow || r.effect == ast::Effect::Approve; }

std::string quoted(const std::string& name) { return "`" + name + "`"; }

std::string names(const sema::CheckedProgram& p, const std::vector<RuleId>& rules) {
  std::string out;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i == 3) return out + " and " + std::to_string(rules.size() - 3) + " more";
    if (i) out += i + 1 == rules.size() ? " and " : ", ";
    out += quoted(p.rule(rules[i]).name);
  }
  return out;
}

std::string decisionOf(const json& d) { return d.is_object() ? d.value("decision", "") : ""; }

// The deny matched (true, not on an error) and is not lifted: it is among `denyRules`. A
// denied decision alone is not enough, since another deny may be what denies the input.
bool inConflict(const json& decision, const std::string& deny) {
  return matchedTrue(decision, deny) && listed(decision, "deny_rules", deny);
}

void addUnique(std::vector<RuleId>& v, RuleId r) {
  if (std::find(v.begin(), v.end(), r) == v.end()) v.push_back(r);
}

Finding inconclusive(RuleId r, msg::Rendered what) { return {std::move(what), r, std::nullopt, {}, {}, std::nullopt}; }

/// The rules a deny brings along: the deny and every exception lifting it.
void withExceptions(const Plan& plan, RuleId deny, std::vector<RuleId>& rules) {
  addUnique(rules, deny);
  for (RuleId e : plan.exceptionsOf[deny.value]) addUnique(rules, e);
}

struct RuleJob {
  Worker& w;
  const Plan& plan;
  const sema::CheckedProgram& p;
  RuleId id;
  const RuleInfo& r;
  std::vector<Finding> out;
  std::vector<RequestId> live;
  std::optional<json> matchWitness;
  std::map<uint32_t, json> inputs;  // per live type: the match witness
  std::map<uint32_t, json> seen;  // per live type: the VM's decision (with trace) on the match witness

  std::optional<json> witnessOf(RequestId t) const {
    auto it = inputs.find(t.value);
    return it == inputs.end() ? std::nullopt : std::optional<json>(it->second);
  }

  // Per live type: how each rule matched on the match witness (1 true, 2 error), so that
  // looking a rule up does not scan the whole trace.
  std::map<uint32_t, std::unordered_map<std::string, int>> traced;

  bool sampleMatched(RequestId t, const std::string& rule, bool orError) {
    auto& index = traced[t.value];
    if (index.empty())
      if (const json* d = sample(t); d && d->is_object() && d->contains("trace"))
        for (const json& e : (*d)["trace"])
          if (e.is_object()) index.emplace(e.value("rule", ""), e["matched"] == true ? 1 : e["matched"] == "error" ? 2 : 0);
    auto it = index.find(rule);
    return it != index.end() && (it->second == 1 || (orError && it->second == 2));
  }

  // What the VM decided on the witness that shows the rule matching on `t`.
  const json* sample(RequestId t) const {
    auto it = seen.find(t.value);
    return it == seen.end() ? nullptr : &it->second;
  }

  bool matchQuery() {
    bool unknown = false;
    bool deny = r.effect == ast::Effect::Deny;
    std::string name = r.name;
    for (RequestId t : plan.typesOf(id)) {
      if ((deny ? plan.matchFacts(id, t) : plan.truthFacts(id, t)).empty) continue;
      QuerySpec q{"match", t, {id}, [this](DecisionEncoder& d) { return d.matches(id); },
                  [name, deny](const json& dec) { return deny ? matchedAtAll(dec, name) : matchedTrue(dec, name); }};
      QueryResult res = w.run(q);
      if (res.answer == Answer::Sat) {
        live.push_back(t);
        if (!matchWitness) matchWitness = res.witness;
        if (res.witness) {
          inputs[t.value] = *res.witness;
          seen[t.value] = w.decide(*res.witness);
          std::string d = decisionOf(seen[t.value]);
          if (d == "allow" || d == "approval") plan.granted[t.value] = true;
        }
      } else if (res.answer == Answer::Unknown) {
        unknown = true;
      }
    }
    if (!live.empty()) return true;
    if (unknown) {
      out.push_back(inconclusive(id, msg::InconclusiveCanMatch(r.name)));
    } else {
      out.push_back({msg::DeadRuleNever(r.name), id, std::nullopt, {}, {}, std::nullopt});
    }
    return false;
  }

  std::vector<RuleId> overlapping(RequestId t, ast::Effect effect, bool denyMatching, const Facts& region) {
    std::vector<RuleId> found;
    for (RuleId o : plan.candidates(t, region, denyMatching)) {
      const RuleInfo& info = p.rule(o);
      if (o == id || info.effect != effect) continue;
      const Facts& f = denyMatching ? plan.matchFacts(o, t) : plan.truthFacts(o, t);
      if (!disjoint(region, f)) found.push_back(o);
    }
    return found;
  }

  // Drops members of `set` that `unsat` does not need (small sets only), keeping the order.
  static std::vector<RuleId> minimal(std::vector<RuleId> set, const std::function<bool(const std::vector<RuleId>&)>& unsat) {
    if (set.size() > 8) return set;
    for (size_t i = set.size(); i-- > 0;) {
      std::vector<RuleId> fewer = set;
      fewer.erase(fewer.begin() + long(i));
      if (unsat(fewer)) set = std::move(fewer);
    }
    return set;
  }

  // Rule matches without a deny among `denies` (none lifted) or, with `approves`, an approve rule.
  Answer escapes(RequestId t, const std::vector<RuleId>& denies, const std::vector<RuleId>* approves) {
    std::vector<RuleId> rules{id};
    std::vector<std::string> approveNames;
    if (approves)
      for (RuleId a : *approves) {
        rules.push_back(a);
        approveNames.push_back(p.rule(a).name);
      }
    std::vector<std::string> denyNames;
    for (RuleId d : denies) {
      withExceptions(plan, d, rules);
      denyNames.push_back(p.rule(d).name);
    }
    std::string name = r.name;
    bool byApproval = approves != nullptr;
    QuerySpec q{byApproval ? "allow-shadow" : "shadow", t, rules,
                [this, rules, byApproval](DecisionEncoder& dec) {
                  z3::expr f = dec.matchesTrue(id) && !dec.denied(rules);
                  return byApproval ? f && !dec.anyMatch(rules, ast::Effect::Approve) : f;
                },
                [name, approveNames, denyNames](const json& dec) {
                  if (!matchedTrue(dec, name)) return false;
                  for (const std::string& n : denyNames)
                    if (listed(dec, "deny_rules", n)) return false;
                  for (const std::string& n : approveNames)
                    if (matchedTrue(dec, n)) return false;
                  return true;
                }};
    return w.run(q).answer;
  }

  // Every input the rule matches is denied (by denies no exception lifts there).
  bool shadowedByDenies() {
    std::vector<RuleId> related;
    bool unknown = false;
    for (RequestId t : live) {
      if (const json* d = sample(t); d && matchedTrue(*d, r.name) && (*d)["deny_rules"].empty()) return false;
      std::vector<RuleId> denies = overlapping(t, ast::Effect::Deny, true, plan.truthFacts(id, t));
      if (denies.empty()) return false;
      Answer a = escapes(t, denies, nullptr);
      if (a == Answer::Sat) return false;
      if (a == Answer::Unknown) {
        unknown = true;
        continue;
      }
      denies = minimal(denies, [&](const std::vector<RuleId>& d) { return escapes(t, d, nullptr) == Answer::Unsat; });
      for (RuleId d : denies) addUnique(related, d);
    }
    if (unknown) {
      out.push_back(inconclusive(id, msg::InconclusiveDenied(r.name)));
      return true;  // nothing more can be said with confidence
    }
    std::sort(related.begin(), related.end());
    out.push_back({msg::ShadowedByDeny(ast::effectName(r.effect), r.name, names(p, related)),
                   id,
                   std::nullopt,
                   related,
                   {},
                   matchWitness});
    return true;
  }

  // An allow whose every match also matches an approve rule (or is denied).
  bool shadowedByApprovals() {
    std::vector<RuleId> approves, denies;
    bool unknown = false;
    for (RequestId t : live) {
      if (const json* d = sample(t); d && decisionOf(*d) == "allow") return false;
      std::vector<RuleId> a = overlapping(t, ast::Effect::Approve, false, plan.truthFacts(id, t));
      if (a.empty()) return false;
      std::vector<RuleId> d = overlapping(t, ast::Effect::Deny, true, plan.truthFacts(id, t));
      Answer ans = escapes(t, d, &a);
      if (ans == Answer::Sat) return false;
      if (ans == Answer::Unknown) {
        unknown = true;
        continue;
      }
      a = minimal(a, [&](const std::vector<RuleId>& fewer) { return escapes(t, d, &fewer) == Answer::Unsat; });
      d = minimal(d, [&](const std::vector<RuleId>& fewer) { return escapes(t, fewer, &a) == Answer::Unsat; });
      for (RuleId x : a) addUnique(approves, x);
      for (RuleId x : d) addUnique(denies, x);
    }
    if (unknown) {
      out.push_back(inconclusive(id, msg::InconclusiveYieldsAllow(r.name)));
      return true;
    }
    std::sort(approves.begin(), approves.end());
    std::sort(denies.begin(), denies.end());
    std::vector<RuleId> related = approves;
    for (RuleId d : denies) addUnique(related, d);
    out.push_back({denies.empty() ? msg::AllowShadowedByApprove(r.name, names(p, approves))
                                  : msg::AllowShadowedByApproveOrDeny(r.name, names(p, approves), names(p, denies)),
                   id,
                   std::nullopt,
                   related,
                   {},
                   matchWitness});
    return true;
  }

  // One query per pair is most of the analyzer's work on large repositories (an allow
  // overlaps every catch-all deny of its type). Instead, per request type, ask whether the
  // rule conflicts with *any* deny still pending; a witness, run through the VM, settles
  // every pending deny it shows matching on a denied input, and an unsat answer settles
  // all of them at once. A query that runs out of budget falls back to one query per pair,
  // so a finding is only ever reported, or reported inconclusive, on the same proof as before.
  void conflicts() {
    std::string name = r.name;
    std::vector<RuleId> denies;
    for (RequestId t : live)
      for (RuleId d : overlapping(t, ast::Effect::Deny, false, plan.truthFacts(id, t))) addUnique(denies, d);
    std::sort(denies.begin(), denies.end());
    std::map<uint32_t, std::optional<json>> found;  // deny → witness
    std::set<uint32_t> unknown;
    // Settles the pending denies a VM decision shows in conflict with this rule; true if any.
    auto harvest = [&](const json& dec, const std::optional<json>& witness, const std::vector<RuleId>& pending) {
      if (!matchedTrue(dec, name) || decisionOf(dec) != "deny") return false;
      bool any = false;
      for (RuleId d : pending)
        if (!found.count(d.value) && inConflict(dec, p.rule(d).name)) {
          found.emplace(d.value, witness);
          any = true;
        }
      return any;
    };
    auto pairQuery = [&](RequestId t, RuleId d) {
      std::string deny = p.rule(d).name;
      std::vector<RuleId> rules{id};
      withExceptions(plan, d, rules);
      QuerySpec q{"conflict", t, rules,
                  [this, d, rules](DecisionEncoder& dec) {
                    return dec.matchesTrue(id) && dec.matchesTrue(d) && !dec.lifted(d, rules);
                  },
                  [name, deny](const json& dec) {
                    return matchedTrue(dec, name) && decisionOf(dec) == "deny" && inConflict(dec, deny);
                  }};
      QueryResult res = w.run(q);
      if (res.answer == Answer::Sat) found.emplace(d.value, res.witness);
      else if (res.answer == Answer::Unknown) unknown.insert(d.value);
    };
    for (RequestId t : live) {
      std::vector<RuleId> pending;
      for (RuleId d : denies)
        if (!found.count(d.value) && !disjoint(plan.truthFacts(id, t), plan.truthFacts(d, t))) pending.push_back(d);
      if (pending.empty()) continue;
      if (const json* dec = sample(t)) harvest(*dec, witnessOf(t), pending);
      for (;;) {
        pending.erase(std::remove_if(pending.begin(), pending.end(), [&](RuleId d) { return found.count(d.value) > 0; }),
                      pending.end());
        if (pending.empty()) break;
        if (pending.size() == 1) {
          pairQuery(t, pending[0]);
          break;
        }
        std::vector<RuleId> rules{id};
        std::vector<std::string> denyNames;
        for (RuleId d : pending) {
          withExceptions(plan, d, rules);
          denyNames.push_back(p.rule(d).name);
        }
        QuerySpec q{"conflict-any", t, rules,
                    [this, pending, rules](DecisionEncoder& dec) {
                      z3::expr_vector alts(dec.encoder().ctx());
                      for (RuleId d : pending) alts.push_back(dec.matchesTrue(d) && !dec.lifted(d, rules));
                      return dec.matchesTrue(id) && z3::mk_or(alts);
                    },
                    [name, denyNames](const json& dec) {
                      if (!matchedTrue(dec, name) || decisionOf(dec) != "deny") return false;
                      return std::any_of(denyNames.begin(), denyNames.end(),
                                         [&](const std::string& n) { return inConflict(dec, n); });
                    }};
        QueryResult res = w.run(q);
        if (res.answer == Answer::Unsat) break;  // no pending deny conflicts on `t`
        if (res.answer == Answer::Sat && res.witness && harvest(w.decide(*res.witness), res.witness, pending)) continue;
        // Out of budget (or a witness that settles nothing): one query per pair.
        for (RuleId d : pending) pairQuery(t, d);
        break;
      }
    }
    for (RuleId d : denies) {
      std::string deny = p.rule(d).name;
      if (auto it = found.find(d.value); it != found.end()) {
        out.push_back(
            {msg::ConflictWithDeny(ast::effectName(r.effect), r.name, deny), id, std::nullopt, {d}, {}, it->second});
      } else if (unknown.count(d.value)) {
        out.push_back(inconclusive(id, msg::InconclusiveConflict(r.name, deny)));
      }
    }
  }

  bool sameShape(RuleId s) const {
    const RuleInfo& o = p.rule(s);
    if (o.effect != r.effect || o.targets != r.targets || o.onStar != r.onStar || o.quorum != r.quorum) return false;
    return plan.shapes[s.value] == plan.shapes[id.value];
  }

  // `a` implies `b` on every given type (for denies: while neither is lifted).
  Answer implies(RuleId a, RuleId b, const std::vector<RequestId>& types) {
    bool deny = p.rule(a).effect == ast::Effect::Deny;
    for (RequestId t : types) {
      std::vector<RuleId> rules{a, b};
      if (deny) {
        withExceptions(plan, a, rules);
        withExceptions(plan, b, rules);
      }
      QuerySpec q{deny ? "implies-deny" : "implies", t, rules,
                  [a, b, deny, rules](DecisionEncoder& dec) {
                    if (!deny) return dec.matchesTrue(a) && !dec.matchesTrue(b);
                    return dec.matches(a) && !dec.lifted(a, rules) && !(dec.matches(b) && !dec.lifted(b, rules));
                  },
                  nullptr};
      QueryResult res = w.run(q);
      if (res.answer != Answer::Unsat) return res.answer;
    }
    return Answer::Unsat;
  }

  void redundancy() {
    bool deny = r.effect == ast::Effect::Deny;
    // Every live type is a target of `s` (same shape, same targets), and `s` must overlap
    // the rule on each, so the candidates on the first are all there is to try.
    RequestId first = live.front();
    for (RuleId s : plan.candidates(first, deny ? plan.matchFacts(id, first) : plan.truthFacts(id, first), deny)) {
      if (s == id || !sameShape(s)) continue;
      bool overlaps = true;
      for (RequestId t : live) {
        // The rule's own witness is a counterexample when `s` does not match it.
        if (sample(t) && !sampleMatched(t, p.rule(s).name, deny)) overlaps = false;
        const Facts& a = deny ? plan.matchFacts(id, t) : plan.truthFacts(id, t);
        const Facts& b = deny ? plan.matchFacts(s, t) : plan.truthFacts(s, t);
        if (disjoint(a, b)) overlaps = false;
      }
      if (!overlaps) continue;
      Answer a = implies(id, s, live);
      if (a == Answer::Unknown) {
        out.push_back(inconclusive(id, msg::InconclusiveImplied(r.name, p.rule(s).name)));
        continue;
      }
      if (a != Answer::Unsat) continue;
      // Equivalent rules: only the later one is redundant.
      if (s.value > id.value && implies(s, id, plan.typesOf(id)) == Answer::Unsat) continue;
      out.push_back({deny                               ? msg::RedundantDeny(r.name, p.rule(s).name)
                     : r.effect == ast::Effect::Approve ? msg::RedundantSameGrantsAndApprovers(r.name, p.rule(s).name)
                                                        : msg::RedundantSameGrants(r.name, p.rule(s).name),
                     id,
                     std::nullopt,
                     {s},
                     {},
                     std::nullopt});
      return;
    }
  }

  // `unbounded-duration`: the rule caps a Duration attribute from above (`request.ttl <=
  // 4h`, also through a def) or grants it, and still matches when it is negative.
  void unboundedDurations() {
    std::set<std::pair<int, std::string>> attrs;  // (root, attribute): request and context ones
    auto durationAttr = [&](sema::CExprId x) -> std::optional<std::pair<int, std::string>> {
      const sema::CExpr& e = p.expr(x);
      if (e.kind != sema::CExprKind::Attr || p.types.kind(e.type) != sema::TypeKind::Duration) return std::nullopt;
      if (e.root() != sema::Root::Request && e.root() != sema::Root::Context) return std::nullopt;
      return std::pair<int, std::string>{int(e.root()), std::string(p.str(sema::StrId{e.a}))};
    };
    std::function<void(sema::CExprId)> walk = [&](sema::CExprId x) {
      const sema::CExpr& e = p.expr(x);
      if (e.kind == sema::CExprKind::Compare) {
        auto op = static_cast<ast::CompareOp>(e.op);
        if (op == ast::CompareOp::Lt || op == ast::CompareOp::Le)
          if (auto a = durationAttr(p.child(x, 0))) attrs.insert(*a);
        if (op == ast::CompareOp::Gt || op == ast::CompareOp::Ge)
          if (auto a = durationAttr(p.child(x, 1))) attrs.insert(*a);
      }
      for (uint32_t i = 0; i < e.numChildren; ++i) walk(p.child(x, i));
    };
    for (const sema::Conjunct& c : r.condition) walk(c.expr);
    for (const sema::GrantAssignment& g : r.grants)
      if (auto a = durationAttr(g.value)) attrs.insert(*a);
    std::string name = r.name;
    for (const auto& [root, attr] : attrs) {
      bool isRequest = root == int(sema::Root::Request);
      std::string base = isRequest ? requestVarName(attr) : contextVarName(attr);
      std::string path = std::string(isRequest ? "request." : "context.") + attr;
      bool unknown = false, reported = false;
      for (RequestId t : live) {
        const sema::AttrInfo* info = isRequest ? p.requests[t.value].attr(attr) : p.context.attr(attr);
        if (!info) continue;
        sema::TypeId type = info->type;
        bool optional = info->optional;
        QuerySpec q{"negative-duration " + path, t, {id},
                    [this, base, type, optional](DecisionEncoder& dec) {
                      Encoder& enc = dec.encoder();
                      return dec.matchesTrue(id) && enc.present(base, optional) && enc.input(base, type).x < 0;
                    },
                    [name](const json& dec) { return matchedTrue(dec, name); }};
        QueryResult res = w.run(q);
        const json* value = nullptr;
        if (res.witness) {
          const json& section = (*res.witness)[isRequest ? "request" : "context"];
          if (section.is_object() && section.contains(attr)) value = &section[attr];
        }
        if (res.answer == Answer::Sat && value && value->is_string() && value->get<std::string>().starts_with("-")) {
          out.push_back({msg::NegativeDuration(ast::effectName(r.effect), r.name, path, value->get<std::string>()),
                         id,
                         std::nullopt,
                         {},
                         {"add a lower bound such as `" + path + " > 0s`"},
                         res.witness});
          reported = true;
          break;
        }
        if (res.answer == Answer::Unknown) unknown = true;
      }
      if (!reported && unknown) out.push_back(inconclusive(id, msg::InconclusiveNegative(r.name, path)));
    }
  }

  void grantConflicts() {
    std::string name = r.name;
    for (const sema::GrantAssignment& g : r.grants) {
      for (RequestId t : live) {
        const sema::GrantInfo* info = p.requests[t.value].grant(g.grant);
        if (!info || info->merge != sema::MergeOp::Unique) continue;
        bool reported = false;
        for (RuleId s : plan.candidates(t, plan.truthFacts(id, t), false)) {
          if (s.value >= id.value) break;
          const RuleInfo& other = p.rule(s);
          if (!isGranting(other)) continue;
          auto it = std::find_if(other.grants.begin(), other.grants.end(),
                                 [&](const sema::GrantAssignment& x) { return x.grant == g.grant; });
          if (it == other.grants.end() || p.dump(it->value) == p.dump(g.value)) continue;
          if (disjoint(plan.truthFacts(id, t), plan.truthFacts(s, t))) continue;
          std::string grant = g.grant, sname = other.name;
          sema::TypeId type = info->type;
          QuerySpec q{"grant-conflict " + grant, t, {id, s},
                      [this, s, grant, type](DecisionEncoder& dec) {
                        Sym a = dec.grantValue(id, grant), b = dec.grantValue(s, grant);
                        return dec.matchesTrue(id) && dec.matchesTrue(s) && !a.err && !b.err &&
                               !dec.encoder().equal(a.v, b.v, type);
                      },
                      [name, sname](const json& dec) { return matchedTrue(dec, name) && matchedTrue(dec, sname); }};
          QueryResult res = w.run(q);
          if (res.answer == Answer::Sat) {
            out.push_back({msg::UniqueGrantConflict(sname, name, grant),
                           id,
                           std::nullopt,
                           {s},
                           {"such a request is denied with error `grant-conflict`"},
                           res.witness});
            reported = true;
          } else if (res.answer == Answer::Unknown) {
            out.push_back(inconclusive(id, msg::InconclusiveGrantConflict(sname, name, grant)));
          }
        }
        if (reported) break;
      }
    }
  }
};

struct ExceptionJob {
  Worker& w;
  const Plan& plan;
  const sema::CheckedProgram& p;
  RuleId id;
  const RuleInfo& e;
  RuleId deny;
  std::vector<Finding> out;

  // The rules that can matter where the exception and its deny both match.
  std::vector<RuleId> neighbourhood(RequestId t, const Facts& region) {
    std::vector<RuleId> rules{id, deny};
    std::vector<RuleId> denies = plan.candidates(t, region, true), granting = plan.candidates(t, region, false), both;
    std::set_union(denies.begin(), denies.end(), granting.begin(), granting.end(), std::back_inserter(both));
    for (RuleId o : both) {
      const RuleInfo& info = p.rule(o);
      if (o == deny || o == id) continue;
      if (info.effect == ast::Effect::Deny && !disjoint(region, plan.matchFacts(o, t))) withExceptions(plan, o, rules);
      if (isGranting(info) && !disjoint(region, plan.truthFacts(o, t))) addUnique(rules, o);
    }
    return rules;
  }

  enum class Reach { Yes, No, Unknown };

  Reach reachable() {
    bool unknown = false;
    std::string name = e.name;
    for (RequestId t : plan.typesOf(id)) {
      Facts region = intersect(plan.truthFacts(id, t), plan.matchFacts(deny, t));
      if (region.empty) continue;
      std::vector<RuleId> rules = neighbourhood(t, region);
      QuerySpec q{"reach", t, rules,
                  [this, rules](DecisionEncoder& d) {
                    SymOutcome o = d.outcome(rules);
                    return d.active(id) && d.matchesTrue(id) && d.matches(deny) && !o.deny;
                  },
                  [name](const json& dec) {
                    std::string s = decisionOf(dec);
                    return matchedTrue(dec, name) && listed(dec, "exceptions", name) && (s == "allow" || s == "approval");
                  }};
      QueryResult res = w.run(q);
      if (res.answer == Answer::Sat) return Reach::Yes;
      if (res.answer == Answer::Unknown) unknown = true;
    }
    return unknown ? Reach::Unknown : Reach::No;
  }

  // Which of the typical causes applies (the first whose weaker query is unsatisfiable).
  std::string cause(std::vector<RuleId>& related) {
    auto never = [&](const std::string& kind, std::function<z3::expr(DecisionEncoder&, const std::vector<RuleId>&)> f,
                     bool withNeighbours) {
      for (RequestId t : plan.typesOf(id)) {
        std::vector<RuleId> rules{id, deny};
        if (withNeighbours) rules = neighbourhood(t, intersect(plan.truthFacts(id, t), plan.matchFacts(deny, t)));
        QuerySpec q{kind, t, rules, [f, rules](DecisionEncoder& d) { return f(d, rules); }, nullptr};
        if (w.run(q).answer != Answer::Unsat) return false;
      }
      return true;
    };
    RuleId self = id, lifted = deny;
    if (never("cause-a", [self](DecisionEncoder& d, const std::vector<RuleId>&) { return d.matchesTrue(self); }, false))
      return "its condition is unsatisfiable";
    if (never("cause-b",
              [self, lifted](DecisionEncoder& d, const std::vector<RuleId>&) {
                return d.active(self) && d.matchesTrue(self) && d.matches(lifted);
              },
              false))
      return "it never matches together with `" + p.rule(deny).name + "`, the deny it lifts";
    if (never("cause-c",
              [self, lifted](DecisionEncoder& d, const std::vector<RuleId>& rules) {
                return d.active(self) && d.matchesTrue(self) && d.matches(lifted) && !d.denied(rules);
              },
              true)) {
      std::vector<RuleId> others;
      for (RequestId t : plan.typesOf(id))
        for (RuleId o : neighbourhood(t, intersect(plan.truthFacts(id, t), plan.matchFacts(deny, t))))
          if (o != deny && p.rule(o).effect == ast::Effect::Deny) addUnique(others, o);
      std::sort(others.begin(), others.end());
      for (RuleId o : others) addUnique(related, o);
      return "whenever it matches together with `" + p.rule(deny).name +
             "`, another deny it does not lift also matches" + (others.empty() ? "" : ": " + names(p, others));
    }
    return "whenever it lifts `" + p.rule(deny).name +
           "`, no allow or approve rule grants the request, so it is denied by default";
  }

  void redundancy() {
    for (RuleId o : plan.exceptionsOf[deny.value]) {
      if (o == id) continue;
      const RuleInfo& other = p.rule(o);
      if (other.exception->until < e.exception->until) continue;
      bool implied = true, unknown = false;
      for (RequestId t : plan.typesOf(id)) {
        if (disjoint(plan.truthFacts(id, t), plan.truthFacts(o, t)) && !plan.truthFacts(id, t).empty) {
          implied = false;
          break;
        }
        RuleId self = id;
        QuerySpec q{"implies", t, {id, o},
                    [self, o](DecisionEncoder& d) { return d.matchesTrue(self) && !d.matchesTrue(o); }, nullptr};
        Answer a = w.run(q).answer;
        if (a == Answer::Sat) implied = false;
        if (a == Answer::Unknown) unknown = true;
        if (!implied) break;
      }
      if (!implied) continue;
      if (unknown) {
        out.push_back(inconclusive(id, msg::InconclusiveExceptionImplied(e.name, other.name)));
        continue;
      }
      if (other.exception->until == e.exception->until && o.value > id.value) {
        // Equivalent exceptions with the same end: only the later one is redundant.
        bool back = true;
        for (RequestId t : plan.typesOf(id)) {
          QuerySpec q{"implies", t, {o, id},
                      [self = id, o](DecisionEncoder& d) { return d.matchesTrue(o) && !d.matchesTrue(self); }, nullptr};
          if (w.run(q).answer != Answer::Unsat) back = false;
        }
        if (back) continue;
      }
      out.push_back(
          {msg::ExceptionImplied(e.name, other.name, p.rule(deny).name, rt::formatTimestamp(other.exception->until)),
           id,
           std::nullopt,
           {o},
           {},
           std::nullopt});
      return;
    }
  }

  void run() {
    Reach reach = reachable();
    if (reach == Reach::Unknown) {
      out.push_back(inconclusive(id, msg::InconclusiveExceptionChanges(e.name)));
    } else if (reach == Reach::No) {
      std::vector<RuleId> related{deny};
      std::string why = cause(related);
      out.push_back({msg::ExceptionNeverChanges(e.name, why), id, std::nullopt, related, {}, std::nullopt});
      return;
    }
    redundancy();
  }
};

}  // namespace

namespace {

// The one value facts pin an attribute to (not for principal attributes, whose facts
// only hold for one principal type), as a key: two different keys cannot both hold.
std::optional<std::string> pinOf(const Facts& f, const std::string& attr, const Domain& d) {
  if (f.owner.count(attr)) return std::nullopt;
  if (d.enumMask && std::popcount(*d.enumMask) == 1) return "e" + std::to_string(std::countr_zero(*d.enumMask));
  if (d.among && d.among->size() == 1 && !d.excluded.count(*d.among->begin())) return "s" + *d.among->begin();
  if (d.lo == d.hi) return "i" + std::to_string(d.lo);
  if (d.boolean && !d.enumMask && !d.among && d.lo == INT64_MIN && d.hi == INT64_MAX)
    return std::string(*d.boolean ? "b1" : "b0");
  return std::nullopt;
}

}  // namespace

Plan::Plan(const sema::CheckedProgram& program, int64_t checkTime) : p(program), now(checkTime) {
  rulesOf.resize(p.requests.size());
  granted = std::make_unique<std::atomic<bool>[]>(p.requests.size());
  targets.resize(p.rules.size());
  exceptionsOf.resize(p.rules.size());
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const RuleInfo& r = p.rules[i];
    RuleId id{i};
    // Grants and approvers, order-insensitive (approvers also duplicate-insensitive).
    std::vector<std::string> grants, approvers;
    for (const sema::GrantAssignment& g : r.grants) grants.push_back(g.grant + "=" + p.dump(g.value));
    for (sema::CExprId a : r.approvers) approvers.push_back(p.dump(a));
    std::sort(grants.begin(), grants.end());
    std::sort(approvers.begin(), approvers.end());
    approvers.erase(std::unique(approvers.begin(), approvers.end()), approvers.end());
    std::string shape;
    for (const std::string& g : grants) shape += g + '\x1f';
    shape += '\x1e';
    for (const std::string& a : approvers) shape += a + '\x1f';
    shapes.push_back(std::move(shape));
    std::vector<RequestId> ts = r.targets;
    if (r.exception) {
      ts = p.rule(r.exception->lifts).targets;
      exceptionsOf[r.exception->lifts.value].push_back(id);
    }
    targets[i] = ts;
    for (RequestId t : ts) {
      rulesOf[t.value].push_back(id);
      factsTrue[{i, t.value}] = factsOf(p, r, t, false);
      factsMatch[{i, t.value}] = r.effect == ast::Effect::Deny ? factsOf(p, r, t, true) : factsTrue[{i, t.value}];
    }
  }
  pinsTrue.resize(p.requests.size());
  pinsMatch.resize(p.requests.size());
  for (uint32_t t = 0; t < p.requests.size(); ++t)
    for (bool match : {false, true}) {
      PinIndex& index = (match ? pinsMatch : pinsTrue)[t];
      const auto& all = match ? factsMatch : factsTrue;
      std::set<std::string> attrs;  // every attribute some rule pins
      for (RuleId r : rulesOf[t]) {
        const Facts& f = all.at({r.value, t});
        if (f.empty) continue;
        for (const auto& [k, d] : f.attrs)
          if (std::optional<std::string> v = pinOf(f, k, d)) {
            index.pinned[k][*v].push_back(r);
            attrs.insert(k);
          }
      }
      for (const std::string& k : attrs)
        for (RuleId r : rulesOf[t]) {
          const Facts& f = all.at({r.value, t});
          if (f.empty) continue;  // disjoint from everything
          auto it = f.attrs.find(k);
          if (it == f.attrs.end() || !pinOf(f, k, it->second)) index.unpinned[k].push_back(r);
        }
    }
}

std::vector<RuleId> Plan::candidates(RequestId t, const Facts& region, bool match) const {
  const std::vector<RuleId>& all = rulesOf[t.value];
  if (region.empty) return {};
  const PinIndex& index = (match ? pinsMatch : pinsTrue)[t.value];
  const std::vector<RuleId>* pinned = nullptr;
  const std::vector<RuleId>* unpinned = nullptr;
  static const std::vector<RuleId> kNone;
  for (const auto& [k, d] : region.attrs) {
    std::optional<std::string> v = pinOf(region, k, d);
    if (!v) continue;
    auto byValue = index.pinned.find(k);
    if (byValue == index.pinned.end()) continue;
    auto rules = byValue->second.find(*v);
    const std::vector<RuleId>* a = rules == byValue->second.end() ? &kNone : &rules->second;
    auto rest = index.unpinned.find(k);
    const std::vector<RuleId>* b = rest == index.unpinned.end() ? &kNone : &rest->second;
    if (!pinned || a->size() + b->size() < pinned->size() + unpinned->size()) pinned = a, unpinned = b;
  }
  std::vector<RuleId> out;
  if (!pinned) {
    out = all;
  } else {
    out.reserve(pinned->size() + unpinned->size());
    std::merge(pinned->begin(), pinned->end(), unpinned->begin(), unpinned->end(), std::back_inserter(out));
  }
  pairsExamined += out.size();
  return out;
}

std::vector<Finding> analyzeRule(Worker& w, const Plan& plan, RuleId rule) {
  const RuleInfo& r = plan.p.rule(rule);
  RuleJob job{w, plan, plan.p, rule, r, {}, {}, std::nullopt, {}, {}, {}};
  if (plan.typesOf(rule).empty() || !job.matchQuery()) return std::move(job.out);
  if (isGranting(r)) {
    bool shadowed = job.shadowedByDenies();
    if (!shadowed && r.effect == ast::Effect::Allow) shadowed = job.shadowedByApprovals();
    if (!shadowed) job.conflicts();
    job.grantConflicts();
    job.unboundedDurations();
  }
  job.redundancy();
  return std::move(job.out);
}

std::vector<Finding> exceptionAge(const Plan& plan, RuleId exception) {
  const RuleInfo& e = plan.p.rule(exception);
  int64_t until = e.exception->until;
  if (until > plan.now && until - plan.now <= plan.expiringWindow)
    return {{msg::ExceptionExpiresSoon(e.name, rt::formatTimestamp(until), rt::formatDuration(until - plan.now),
                                       rt::formatDuration(plan.expiringWindow)),
             exception,
             std::nullopt,
             {},
             {},
             std::nullopt}};
  if (until - plan.now <= kLongException) return {};
  return {{msg::ExceptionRunsLong(e.name, rt::formatTimestamp(until), (until - plan.now) / 86400),
           exception,
           std::nullopt,
           {},
           {},
           std::nullopt}};
}

std::vector<Finding> analyzeException(Worker& w, const Plan& plan, RuleId exception) {
  const RuleInfo& e = plan.p.rule(exception);
  ExceptionJob job{w, plan, plan.p, exception, e, e.exception->lifts, {}};
  job.run();
  return std::move(job.out);
}

std::vector<Finding> analyzeRequestType(Worker& w, const Plan& plan, RequestId type) {
  const sema::CheckedProgram& p = plan.p;
  const std::vector<RuleId>& rules = plan.rulesOf[type.value];
  const std::string& name = p.requests[type.value].name;
  bool any = std::any_of(rules.begin(), rules.end(), [&](RuleId r) { return isGranting(p.rule(r)); });
  if (!any) return {{msg::NoRuleTargets(name), std::nullopt, type, {}, {}, std::nullopt}};
  if (plan.granted[type.value]) return {};  // some rule's witness was already allowed or approved
  QuerySpec q{"path", type, rules, [rules](DecisionEncoder& d) { return !d.outcome(rules).deny; },
              [](const json& dec) {
                std::string s = decisionOf(dec);
                return s == "allow" || s == "approval";
              }};
  QueryResult res = w.run(q);
  if (res.answer == Answer::Unsat) return {{msg::NoInputGranted(name), std::nullopt, type, {}, {}, std::nullopt}};
  if (res.answer == Answer::Unknown) return {{msg::InconclusivePath(name), std::nullopt, type, {}, {}, std::nullopt}};
  return {};
}

}  // namespace pave::analysis
