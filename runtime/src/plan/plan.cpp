// The decision plan (plan.h): buildPlan runs once per bundle, after verification. It makes
// the functions ready to run (constants materialized, fast tests recognized by
// fast_tests.cpp, shared conjuncts memoized), the rules each request type applies, sorted
// by name, and per principal type the rule set a decision walks: conjuncts specialized for
// the type (specialize.cpp), dispatch keys (dispatch.cpp), probes (probes.cpp), shared
// results and walk bitsets (sharing.cpp), grant tables (grant_tables.cpp); and the bind
// slots of binding without JSON (bind_slots.cpp).
#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "plan/build.h"

namespace pave::rt {

// The type of the value a fast test reads for principal type `pt`: the attribute's, or for
// a test on a map entry, the map's value type.
const TypeDesc* attrType(const PlanContext& ctx, const FastTest& t, uint32_t pt) {
  const Schema& s = ctx.model.schema;
  TypeId type = kNone;
  switch (t.root) {
    case FastTest::Root::Principal:
      if (t.ptype == pt && t.slot < s.principals[pt].attrs.size()) type = s.principals[pt].attrs[t.slot].type;
      break;
    case FastTest::Root::Request:
      if (t.slot < s.requestSlots.size()) type = s.requestSlots[t.slot].type;
      break;
    case FastTest::Root::Context:
      if (t.slot < s.context.size()) type = s.context[t.slot].type;
      break;
  }
  if (type == kNone) return nullptr;
  if (!t.entry) return &s.types[type];
  return s.types[type].kind == TypeKind::Map ? &s.types[s.types[type].elem] : nullptr;
}

namespace {

// The function `fn` specialized for principal type `pt` (specializeForPrincipal), or `fn`
// itself when nothing folds; made once per pair.
uint32_t specializedFn(PlanContext& ctx, uint32_t fn, uint32_t pt) {
  auto [it, added] = ctx.plan.specialized.emplace(std::make_pair(fn, pt), fn);
  if (!added) return it->second;
  const Function& f = ctx.model.functions[fn];
  std::vector<Instr> code = specializeForPrincipal(f, pt);
  if (code.empty()) return fn;
  Function view{f.numRegs, std::move(code), f.consts};
  CompiledFn c;
  c.consts = ctx.plan.fns[fn].consts;
  c.tables = ctx.plan.fns[fn].tables;
  c.tableIndex = ctx.plan.fns[fn].tableIndex;
  c.fast = recognizeFastTest(view, c.consts);
  const bool costly = c.fast.form == FastTest::Form::None || c.fast.form == FastTest::Form::Compare;
  c.memo = ctx.plan.fns[fn].memo != kNone && costly ? ctx.plan.memoCount++ : kNone;
  ctx.plan.specializedCode.push_back(std::move(view.code));
  c.code = ctx.plan.specializedCode.back().data();
  c.size = uint32_t(ctx.plan.specializedCode.back().size());
  c.numRegs = f.numRegs;
  ctx.plan.fns.push_back(std::move(c));
  return it->second = uint32_t(ctx.plan.fns.size() - 1);
}

// The conjuncts of a rule in the rule set of principal type `pt`: each specialized for the
// type, those that became `true` dropped, those that became one test moved to the guards.
void specializeConjuncts(PlanContext& ctx, uint32_t pt, RuleUse& use) {
  std::vector<Conjunct> all;
  for (const auto* list : {&use.guards, &use.others}) all.insert(all.end(), list->begin(), list->end());
  std::sort(all.begin(), all.end(), [](const Conjunct& x, const Conjunct& y) { return x.index < y.index; });
  use.guards.clear();
  use.others.clear();
  for (Conjunct c : all) {
    c.fn = specializedFn(ctx, c.fn, pt);
    const FastTest& t = ctx.plan.fns[c.fn].fast;
    if (t.form == FastTest::Form::Constant && t.k.isTrue()) continue;  // holds for this type
    (t.form != FastTest::Form::None ? use.guards : use.others).push_back(c);
  }
}

// A rule as one request type sees it: its conjuncts split into guards and the others, its
// grant assignments for the type, and its approvers when they are constants.
RuleUse ruleUse(const PlanContext& ctx, const RequestType& rt, uint32_t r) {
  const Rule& rule = ctx.model.rules[r];
  RuleUse use{r, rule.effect, {}, {}, {}, false, {}};
  for (const GrantAssign& g : rule.grants)
    for (uint32_t k = 0; k < rt.grants.size(); ++k)
      if (rt.grants[k].name == g.grant) {
        const FastTest& t = ctx.plan.fns[g.function].fast;
        RuleUse::Grant grant;
        grant.grant = k;
        grant.fn = g.function;
        if (t.form == FastTest::Form::Constant) {
          grant.form = RuleUse::Grant::Form::Constant;
          grant.k = t.k;
        } else if (t.form == FastTest::Form::Load && t.root != FastTest::Root::Principal) {
          grant.form = RuleUse::Grant::Form::Load;
          grant.root = uint8_t(t.root);
          grant.slot = t.slot;
        }
        use.grants.push_back(grant);
      }
  std::stable_sort(use.grants.begin(), use.grants.end(), [](auto& x, auto& y) { return x.grant < y.grant; });
  for (uint32_t i = 0; i < rule.conjuncts.size(); ++i) {
    Conjunct c;
    c.index = i;
    c.fn = rule.conjuncts[i];
    (ctx.plan.fns[c.fn].fast.form != FastTest::Form::None ? use.guards : use.others).push_back(c);
  }
  use.contributes = rule.effect == Effect::Approve || !use.grants.empty();
  if (rule.effect == Effect::Approve) {
    use.quorum = rule.quorum;
    use.approversConst = std::all_of(rule.approvers.begin(), rule.approvers.end(), [&](uint32_t fn) {
      const FastTest& t = ctx.plan.fns[fn].fast;
      return t.form == FastTest::Form::Constant && t.k.kind == Kind::String;
    });
    if (use.approversConst) {
      for (uint32_t fn : rule.approvers) use.groups.push_back(ctx.plan.fns[fn].fast.k.str());
      std::sort(use.groups.begin(), use.groups.end());
      use.groups.erase(std::unique(use.groups.begin(), use.groups.end()), use.groups.end());
    }
  }
  return use;
}

}  // namespace

DecisionPlan buildPlan(const Bundle& model, const Value* tables, const TableIndex* tableIndex) {
  DecisionPlan plan;
  PlanContext ctx{model, plan, tables, tableIndex};
  const Bundle& m = ctx.model;
  const Schema& s = m.schema;
  // Only the functions rules use are verified (and only they can run): the others are
  // left as they are, neither materialized nor looked at.
  std::vector<bool> used(m.functions.size(), false);
  for (const Rule& r : m.rules) {
    for (uint32_t fn : r.conjuncts) used[fn] = true;
    for (uint32_t fn : r.approvers) used[fn] = true;
    for (const GrantAssign& g : r.grants) used[g.function] = true;
  }
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const Function& f = m.functions[i];
    CompiledFn fn;
    if (used[i]) {
      fn.code = f.code.data();
      fn.size = uint32_t(f.code.size());
      fn.numRegs = f.numRegs;
      for (const Const& c : f.consts) fn.consts.push_back(materialize(m, c, ctx.plan.constStorage));
      fn.fast = recognizeFastTest(f, fn.consts);
      fn.tables = ctx.tables;
      fn.tableIndex = ctx.tableIndex;
      ctx.plan.maxRegs = std::max(ctx.plan.maxRegs, f.numRegs);
    }
    ctx.plan.fns.push_back(std::move(fn));
  }
  // Conjuncts several rules share are memoized, unless their fast test costs no more than
  // looking the memo up.
  std::vector<uint32_t> uses(m.functions.size());
  for (const Rule& r : m.rules)
    for (uint32_t fn : r.conjuncts) ++uses[fn];
  for (uint32_t f = 0; f < m.functions.size(); ++f) {
    FastTest::Form form = ctx.plan.fns[f].fast.form;
    if (uses[f] > 1 && (form == FastTest::Form::None || form == FastTest::Form::Compare))
      ctx.plan.fns[f].memo = ctx.plan.memoCount++;
  }
  ctx.plan.rulesByName.resize(m.rules.size());
  for (uint32_t i = 0; i < m.rules.size(); ++i) ctx.plan.rulesByName[i] = i;
  std::sort(ctx.plan.rulesByName.begin(), ctx.plan.rulesByName.end(),
            [&](uint32_t x, uint32_t y) { return m.strings[m.rules[x].name] < m.strings[m.rules[y].name]; });
  bindPrincipalsAndContext(s, ctx.plan);

  ctx.plan.requestCount = uint32_t(s.requests.size());
  ctx.plan.principalCount = uint32_t(s.principals.size());
  ctx.plan.requests.resize(s.requests.size());
  for (uint32_t t = 0; t < s.requests.size(); ++t) {
    const RequestType& rt = s.requests[t];
    RequestIndex& ri = ctx.plan.requests[t];
    ri.allows.assign(s.principals.size(), rt.principals.empty());
    for (uint32_t pt : rt.principals) ri.allows[pt] = 1;
    for (const GrantDecl& g : rt.grants)
      ri.grantDefaults.push_back(materialize(ctx.model, g.defaultValue, ctx.plan.constStorage));
    bindRequest(s, rt, ri.bind, ctx.plan.maxRequestSlot);
    for (uint32_t r : ctx.plan.rulesByName) {
      const Rule& rule = m.rules[r];
      const Rule& targeting = rule.effect == Effect::Exception ? m.rules[rule.lifts] : rule;
      bool applies = targeting.allTargets ||
                     std::find(targeting.targets.begin(), targeting.targets.end(), t) != targeting.targets.end();
      if (!applies) continue;
      ri.hasApprove |= rule.effect == Effect::Approve;
      ri.rules.push_back(ruleUse(ctx, rt, r));
    }
    ri.byPrincipal.resize(s.principals.size());
    for (uint32_t pt = 0; pt < s.principals.size(); ++pt) {
      RuleSet& set = ri.byPrincipal[pt];
      for (const RuleUse& use : ri.rules) {
        bool ruledOut = std::any_of(use.guards.begin(), use.guards.end(), [&](const Conjunct& g) {
          const FastTest& ft = ctx.plan.fns[g.fn].fast;
          return ft.form == FastTest::Form::IsPrincipal && ft.ptype != pt;
        });
        if (ruledOut) continue;
        set.rules.push_back(use);
        specializeConjuncts(ctx, pt, set.rules.back());  // e.g. `principal is T` holds here
      }
      buildDispatch(ctx, pt, set);                   // dispatch.cpp
      for (RuleUse& use : set.rules)
        for (Conjunct& g : use.guards) specializeGuard(ctx, pt, g);  // probes.cpp
      shareResults(set);        // sharing.cpp
      indexEffects(set);        // sharing.cpp
      indexGrants(s, rt, set);  // grant_tables.cpp
    }
  }
  for (uint32_t p = 0; p < s.principals.size(); ++p) {
    ctx.plan.maxPrincipalAttrs = std::max(ctx.plan.maxPrincipalAttrs, uint32_t(s.principals[p].attrs.size()));
  }
  for (uint32_t c = 0; c < s.context.size(); ++c)
    if (m.strings[s.context[c].name] == "time") ctx.plan.timeSlot = c;
  return plan;
}

namespace {

const char* probeName(GuardProbe p) {
  static constexpr const char* kNames[] = {"generic", "has", "bool", "eq", "enum-eq", "enum-in", "str-eq", "map-has",
                                           "prefix", "suffix", "contains", "size", "lt", "le", "gt", "ge"};
  return size_t(p) < std::size(kNames) ? kNames[size_t(p)] : "?";
}

std::string inputText(FastTest::Root root, uint32_t slot) {
  return std::string(root == FastTest::Root::Principal ? "prin" : root == FastTest::Root::Request ? "req" : "ctx") +
         ".s" + std::to_string(slot);
}

}  // namespace

std::string describeFunctionPlan(const DecisionPlan& plan, uint32_t fn) {
  if (fn >= plan.fns.size() || !plan.fns[fn].code) return {};  // no rule uses it: not planned
  const CompiledFn& f = plan.fns[fn];
  std::string out = "  ; fast: " + describeFastTest(f.fast, f.consts) + "\n";
  if (f.memo != kNone) out += "  ; memoized\n";
  return out;
}

std::string describeRuleSets(const Bundle& model, const DecisionPlan& plan) {
  const Schema& s = model.schema;
  std::string out;
  for (uint32_t t = 0; t < plan.requests.size() && t < s.requests.size(); ++t)
    for (uint32_t pt = 0; pt < plan.requests[t].byPrincipal.size() && pt < s.principals.size(); ++pt) {
      const RuleSet& set = plan.requests[t].byPrincipal[pt];
      out += "plan " + model.strings[s.requests[t].name] + " for " + model.strings[s.principals[pt].name] + ": " +
             std::to_string(set.rules.size()) + (set.rules.size() == 1 ? " rule" : " rules");
      if (set.walk.byBits) out += ", walked by bitsets";
      if (set.grantTable.byBits) out += ", grants by bitsets";
      out += "\n";
      for (const DispatchKey& key : set.keys) {
        out += "  ; dispatch " + inputText(key.root, key.slot);
        if (key.entry) out += "[\"" + std::string(key.entryKey) + "\"]";
        out += key.kind == Kind::Enum ? " (Enum, " : key.kind == Kind::Bool ? " (Bool, " : " (String, ";
        out += std::to_string(key.values) + " values)\n";
      }
      for (const RuleUse& use : set.rules) {
        out += std::string("  ") + effectName(use.effect) + " " + model.strings[model.rules[use.rule].name] + ":";
        auto conjunct = [&](const Conjunct& c, bool guard) {
          out += " #" + std::to_string(c.index);
          if (c.fn >= model.functions.size()) out += "'";  // specialized for the principal type
          if (!guard) {
            out += " bytecode";
          } else if (c.probe != GuardProbe::Generic) {
            out += std::string(" probe ") + probeName(c.probe);
          } else {
            out += " fast";
          }
          if (c.keyBit) out += " (key " + std::to_string(__builtin_ctz(c.keyBit)) + ")";
          out += ";";
        };
        for (const Conjunct& c : use.guards) conjunct(c, true);
        for (const Conjunct& c : use.others) conjunct(c, false);
        if (use.guards.empty() && use.others.empty()) out += " always;";
        if (use.share == RuleUse::Share::Follows)
          out += " same as " + model.strings[model.rules[set.rules[use.sameAs].rule].name] + ";";
        if (!out.empty() && out.back() == ';') out.pop_back();
        out += "\n";
      }
    }
  return out;
}

}  // namespace pave::rt
