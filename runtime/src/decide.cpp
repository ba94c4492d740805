// The decision procedure (SPEC §5): match the applicable rules, lift denies, then
// deny → approval → allow → default deny, with grant merging.
#include <algorithm>

#include "decider_state.h"

namespace pave::rt {
namespace {

constexpr std::string_view kNoMatchingRule = "no-matching-rule";

struct Evaluation {
  const LoadedBundle::Impl& p;
  Decider::State& st;
  const Bundle& m = p.model;

  Value run(uint32_t fn) {
    const CompiledFn& f = p.fns[fn];
    switch (f.fast.form) {
      case FastTest::Form::None: break;
      case FastTest::Form::Constant: return f.fast.k;
      case FastTest::Form::Load:
        if (const Value* v = fastLoad(f.fast, st.input)) return *v;
        break;
      default:
        if (int r = runFastTest(f.fast, st.input); r >= 0) return Value::boolean(r != 0);
    }
    return execute(f, st.input, st.scratch);
  }

  // Matching when not explaining: the conjuncts with a fast test first, since any false
  // conjunct decides; the error reported is still that of the first erring conjunct.
  Matched matchGuarded(const RuleUse& use, Value& err) {
    bool undecided = false;
    for (auto [i, fn] : use.guards) {
      int r = runFastTest(p.fns[fn].fast, st.input);
      if (r == 0) return Matched::False;
      undecided |= r < 0;
    }
    if (!undecided && use.others.empty()) return Matched::True;
    uint32_t err_at = kNone;
    auto conjunct = [&](uint32_t i, const Value& v) {
      if (v.isFalse()) return false;
      if (!v.isTrue() && i < err_at) {
        err_at = i;
        err = v.isError() ? v : Value::error("condition is not a Bool");
      }
      return true;
    };
    for (auto [i, fn] : use.guards)  // only those the fast test left undecided run here
      if (undecided && runFastTest(p.fns[fn].fast, st.input) < 0 &&
          !conjunct(i, execute(p.fns[fn], st.input, st.scratch)))
        return Matched::False;
    for (auto [i, fn] : use.others)
      if (!conjunct(i, run(fn))) return Matched::False;
    return err_at == kNone ? Matched::True : Matched::Error;
  }

  Matched match(const Rule& r, int32_t& failed, Value& err) {
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

  void evalError(uint32_t rule, const Value& err) {
    st.decision.errors.push_back({"evaluation-error", {}, rule, std::string(err.str())});
  }

  // Combines grant values with the merge operator; false on a `unique` conflict.
  bool merge(MergeOp op, Value& acc, const Value& v) {
    switch (op) {
      case MergeOp::Min: if (v.i < acc.i) acc = v; return true;
      case MergeOp::Max: if (v.i > acc.i) acc = v; return true;
      case MergeOp::And: acc = Value::boolean(acc.i && v.i); return true;
      case MergeOp::Or: acc = Value::boolean(acc.i || v.i); return true;
      case MergeOp::Unique: return equalValues(acc, v);
      case MergeOp::Union:
      case MergeOp::Intersect: {
        bool uni = op == MergeOp::Union;
        Value* out = st.scratch.arena.allocArray<Value>(size_t(acc.n) + v.n);
        uint32_t n = 0, i = 0, j = 0;
        while (i < acc.n || j < v.n) {
          int c = i == acc.n ? 1 : j == v.n ? -1 : compareValues(acc.elems[i], v.elems[j]);
          if (c == 0) out[n++] = acc.elems[i], ++i, ++j;
          else if (c < 0) { if (uni) out[n++] = acc.elems[i]; ++i; }
          else { if (uni) out[n++] = v.elems[j]; ++j; }
        }
        acc = Value::set(out, n);
        return true;
      }
    }
    return false;
  }

  // Evaluates approvers and grants of the matching allow/approve rules. False on errors.
  bool grantsAndApprovals(const RequestIndex& ri, const std::vector<RuleUse>& rules, bool approval) {
    Decision& d = st.decision;
    const RequestType& rt = m.schema.requests[d.request_type];
    bool ok = true;
    if (approval) {
      for (size_t k = 0; k < rules.size(); ++k) {
        const Rule& r = m.rules[rules[k].rule];
        if (r.effect != Effect::Approve || st.results[k] != Matched::True) continue;
        Approval a{rules[k].rule, {}, r.quorum};
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
        d.approvals.push_back(a);
      }
    }
    d.grants.assign(ri.grant_defaults.begin(), ri.grant_defaults.end());
    for (uint32_t g = 0; g < rt.grants.size(); ++g) {
      bool assigned = false;
      uint32_t first_rule = kNone;
      for (size_t k = 0; k < rules.size(); ++k) {
        const RuleUse& use = rules[k];
        if (st.results[k] != Matched::True) continue;
        for (auto [grant, fn] : use.grants) {
          if (grant != g) continue;
          Value v = run(fn);
          if (v.isError()) {
            evalError(use.rule, v);
            ok = false;
          } else if (!assigned) {
            d.grants[g] = v;
            assigned = true;
            first_rule = use.rule;
          } else if (!merge(rt.grants[g].merge, d.grants[g], v)) {
            d.errors.push_back({"grant-conflict", {}, use.rule,
                                "grant '" + std::string(p.str(rt.grants[g].name)) + "' is assigned different values by '" +
                                    std::string(p.str(m.rules[first_rule].name)) + "' and '" +
                                    std::string(p.str(m.rules[use.rule].name)) + "'"});
            ok = false;
          }
        }
      }
    }
    return ok;
  }

  void run(bool explain) {
    Decision& d = st.decision;
    const RequestIndex& ri = p.requests[d.request_type];
    // Explaining traces every applicable rule; otherwise rules that cannot match for this
    // principal type are left out.
    const std::vector<RuleUse>& rules = explain ? ri.rules : ri.by_principal[st.input.principal_type];
    const size_t n = rules.size();
    st.results.resize(n);
    st.failed.assign(n, -1);
    st.errs.resize(n);
    const int64_t now = st.input.context[p.time_slot].i;

    bool any_approve = false, any_allow = false;
    for (size_t k = 0; k < n; ++k) {
      uint32_t r = rules[k].rule;
      const Rule& rule = m.rules[r];
      st.results[k] = explain ? match(rule, st.failed[k], st.errs[k]) : matchGuarded(rules[k], st.errs[k]);
      if (st.results[k] == Matched::Error) evalError(r, st.errs[k]);
      if (rule.effect == Effect::Deny && st.results[k] != Matched::False) st.deny_state[r] = 1;
    }
    // Lifting: a matching, active exception lifts a matching deny.
    for (size_t k = 0; k < n; ++k) {
      const Rule& rule = m.rules[rules[k].rule];
      if (rule.effect == Effect::Exception && st.results[k] == Matched::True && now < rule.until &&
          st.deny_state[rule.lifts])
        st.deny_state[rule.lifts] = 2;
    }
    for (size_t k = 0; k < n; ++k) {
      uint32_t r = rules[k].rule;
      const Rule& rule = m.rules[r];
      switch (rule.effect) {
        case Effect::Deny:
          if (st.deny_state[r] == 1) d.deny_rules.push_back(r);
          break;
        case Effect::Exception:
          if (st.results[k] == Matched::True && now < rule.until && st.deny_state[rule.lifts] == 2)
            d.exceptions.push_back(r);
          break;
        case Effect::Approve:
        case Effect::Allow:
          if (st.results[k] != Matched::True) break;
          d.rules.push_back(r);
          (rule.effect == Effect::Approve ? any_approve : any_allow) = true;
          break;
      }
    }
    for (size_t k = 0; k < n; ++k) st.deny_state[rules[k].rule] = 0;
    if (explain) {
      for (size_t k = 0; k < n; ++k) {
        const Rule& rule = m.rules[rules[k].rule];
        d.trace.push_back({rules[k].rule, st.results[k], rule.effect == Effect::Exception && now < rule.until,
                           st.results[k] == Matched::False ? st.failed[k] : -1});
      }
    }

    if (!d.deny_rules.empty()) {
      d.outcome = Outcome::Deny;
      for (uint32_t r : d.deny_rules)
        d.reasons.push_back(m.rules[r].because != kNone ? p.str(m.rules[r].because) : p.str(m.rules[r].name));
    } else if (any_approve || any_allow) {
      if (grantsAndApprovals(ri, rules, any_approve)) {
        d.outcome = any_approve ? Outcome::Approval : Outcome::Allow;
      } else {
        d.outcome = Outcome::Deny;
        d.grants.clear();
        d.approvals.clear();
      }
    } else {
      d.outcome = Outcome::Deny;
      d.reasons.push_back(kNoMatchingRule);
    }
    if (d.errors.size() > 1) {
      std::stable_sort(d.errors.begin(), d.errors.end(), [&](const DecisionError& x, const DecisionError& y) {
        return p.str(m.rules[x.rule].name) < p.str(m.rules[y.rule].name);
      });
    }
  }
};

bool fitsScalar(const LoadedBundle::Impl& p, const TypeDesc& t, const Value& v) {
  if (v.kind != kindOf(t.kind)) return false;
  switch (t.kind) {
    case TypeKind::Bool: return v.i == 0 || v.i == 1;
    case TypeKind::Enum:
      return v.n == t.enum_index && v.i >= 0 && uint64_t(v.i) < p.model.schema.enums[t.enum_index].members.size();
    case TypeKind::Ip: return v.family == 4 || v.family == 6;
    case TypeKind::Cidr: return (v.family == 4 && v.prefix <= 32) || (v.family == 6 && v.prefix <= 128);
    default: return true;
  }
}

}  // namespace

bool valueFits(const LoadedBundle::Impl& p, TypeId type, const Value& v) {
  const auto& types = p.model.schema.types;
  const TypeDesc& t = types[type];
  if (t.kind != TypeKind::Set && t.kind != TypeKind::Map) return fitsScalar(p, t, v);
  if (v.kind != kindOf(t.kind) || (v.n && !v.elems)) return false;
  bool map = t.kind == TypeKind::Map;
  for (uint32_t i = 0; i < v.n; ++i) {
    const Value& key = map ? v.elems[2 * i] : v.elems[i];
    if (map ? key.kind != Kind::String : !fitsScalar(p, types[t.elem], key)) return false;
    if (map && !fitsScalar(p, types[t.elem], v.elems[2 * i + 1])) return false;
    if (i > 0 && compareValues(map ? v.elems[2 * i - 2] : v.elems[i - 1], key) >= 0) return false;
  }
  return true;
}

void Decider::State::reset(const LoadedBundle::Impl& p) {
  scratch.arena.reset();
  if (scratch.regs.size() < p.max_regs) scratch.regs.resize(p.max_regs);
  principal.resize(std::max<size_t>(p.max_principal_attrs, 1));
  request.resize(std::max<size_t>(p.max_request_slot, 1));
  context.resize(std::max<size_t>(p.model.schema.context.size(), 1));
  deny_state.resize(p.model.rules.size());
  input = Input{};
  input.principal = principal.data();
  input.request = request.data();
  input.context = context.data();
  bound = false;
  Decision& d = decision;
  d.outcome = Outcome::Deny;
  d.request_type = kNone;
  d.rules.clear();
  d.deny_rules.clear();
  d.exceptions.clear();
  d.approvals.clear();
  d.grants.clear();
  d.reasons.clear();
  d.errors.clear();
  d.trace.clear();
  d.explained = false;
}

void evaluate(const LoadedBundle::Impl& p, Decider::State& st, bool explain) {
  Evaluation{p, st}.run(explain);
}

Decider::Decider(std::shared_ptr<const LoadedBundle> bundle) : bundle_(std::move(bundle)), st_(std::make_unique<State>()) {
  st_->reset(bundle_->impl());
}
Decider::~Decider() = default;

const Decision& Decider::decide(std::string_view input_json, bool explain) {
  const auto& p = bundle_->impl();
  st_->reset(p);
  st_->decision.explained = explain;
  if (decodeJsonInput(p, input_json, *st_)) evaluate(p, *st_, explain);
  return st_->decision;
}

std::string Decider::decideJson(std::string_view input_json, bool explain) {
  const Decision& d = decide(input_json, explain);
  std::string out;
  out.reserve(512);
  toJson(*bundle_, d, out);
  return out;
}

InputBuilder Decider::bind(uint32_t request_type, uint32_t principal_type) {
  const auto& p = bundle_->impl();
  st_->reset(p);
  const Schema& s = p.model.schema;
  if (request_type < s.requests.size() && principal_type < s.principals.size()) {
    st_->bound = true;
    st_->input.request_type = request_type;
    st_->input.principal_type = principal_type;
    st_->decision.request_type = request_type;
    for (const RequestAttr& a : s.requests[request_type].attrs) st_->request[a.slot] = Value();
    std::fill(st_->principal.begin(), st_->principal.end(), Value());
    std::fill(st_->context.begin(), st_->context.end(), Value());
  }
  return InputBuilder(*this);
}

const Decision& Decider::decideBound(bool explain) {
  const auto& p = bundle_->impl();
  State& st = *st_;
  Decision& d = st.decision;
  d.errors.clear();
  if (!st.bound) {
    d.errors.push_back({"unknown-request-type", "$.type", kNone, "no request type bound"});
    return d;
  }
  const Schema& s = p.model.schema;
  const RequestType& rt = s.requests[st.input.request_type];
  const PrincipalType& pt = s.principals[st.input.principal_type];
  if (!rt.principals.empty() &&
      std::find(rt.principals.begin(), rt.principals.end(), st.input.principal_type) == rt.principals.end())
    d.errors.push_back({"principal-not-allowed", "$.principal.type", kNone, "principal type not allowed"});
  auto missing = [&](const char* root, StrId name) {
    d.errors.push_back({"missing-attribute", std::string("$.") + root + "." + std::string(p.str(name)), kNone,
                        "missing attribute '" + std::string(p.str(name)) + "'"});
  };
  for (size_t a = 0; a < pt.attrs.size(); ++a)
    if (!pt.attrs[a].optional && st.principal[a].kind == Kind::Absent) missing("principal", pt.attrs[a].name);
  for (const RequestAttr& a : rt.attrs)
    if (!a.optional && st.request[a.slot].kind == Kind::Absent) missing("request", s.request_slots[a.slot].name);
  for (size_t a = 0; a < s.context.size(); ++a)
    if (!s.context[a].optional && st.context[a].kind == Kind::Absent) missing("context", s.context[a].name);
  if (!d.errors.empty()) return d;
  d.rules.clear();
  d.deny_rules.clear();
  d.exceptions.clear();
  d.approvals.clear();
  d.grants.clear();
  d.reasons.clear();
  d.trace.clear();
  d.explained = explain;
  evaluate(p, st, explain);
  return d;
}

// ---- InputBuilder ----

bool InputBuilder::principal(uint32_t slot, const Value& v) {
  auto& st = *d_.st_;
  const auto& p = d_.bundle_->impl();
  if (!st.bound) return false;
  const auto& attrs = p.model.schema.principals[st.input.principal_type].attrs;
  if (slot >= attrs.size() || !valueFits(p, attrs[slot].type, v)) return false;
  st.principal[slot] = v;
  return true;
}

bool InputBuilder::request(uint32_t request_slot, const Value& v) {
  auto& st = *d_.st_;
  const auto& p = d_.bundle_->impl();
  if (!st.bound) return false;
  const Schema& s = p.model.schema;
  for (const RequestAttr& a : s.requests[st.input.request_type].attrs)
    if (a.slot == request_slot) {
      if (!valueFits(p, s.request_slots[a.slot].type, v)) return false;
      st.request[a.slot] = v;
      return true;
    }
  return false;
}

bool InputBuilder::context(uint32_t slot, const Value& v) {
  auto& st = *d_.st_;
  const auto& p = d_.bundle_->impl();
  if (!st.bound || slot >= p.model.schema.context.size() || !valueFits(p, p.model.schema.context[slot].type, v))
    return false;
  st.context[slot] = v;
  return true;
}

bool InputBuilder::principal(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  if (!d_.st_->bound) return false;
  const auto& attrs = p.model.schema.principals[d_.st_->input.principal_type].attrs;
  for (uint32_t a = 0; a < attrs.size(); ++a)
    if (p.str(attrs[a].name) == name) return principal(a, v);
  return false;
}

bool InputBuilder::request(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  if (!d_.st_->bound) return false;
  const Schema& s = p.model.schema;
  for (const RequestAttr& a : s.requests[d_.st_->input.request_type].attrs)
    if (p.str(s.request_slots[a.slot].name) == name) return request(a.slot, v);
  return false;
}

bool InputBuilder::context(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  const auto& ctx = p.model.schema.context;
  for (uint32_t a = 0; a < ctx.size(); ++a)
    if (p.str(ctx[a].name) == name) return context(a, v);
  return false;
}

Value InputBuilder::makeString(std::string_view s) { return Value::string(d_.st_->scratch.arena.copy(s)); }

Value InputBuilder::makeSet(std::span<const Value> elems) {
  Value* out = d_.st_->scratch.arena.allocArray<Value>(elems.size());
  std::copy(elems.begin(), elems.end(), out);
  return Value::set(out, sortUnique(out, uint32_t(elems.size())));
}

Value InputBuilder::makeMap(std::span<const std::pair<std::string_view, Value>> entries) {
  std::vector<std::pair<std::string_view, Value>> sorted(entries.begin(), entries.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.first < y.first; });
  Value* out = d_.st_->scratch.arena.allocArray<Value>(2 * sorted.size());
  uint32_t n = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (n > 0 && out[2 * (n - 1)].str() == sorted[i].first) continue;  // first value of a key wins
    out[2 * n] = makeString(sorted[i].first);
    out[2 * n + 1] = sorted[i].second;
    ++n;
  }
  return Value::map(out, n);
}

Value InputBuilder::makeEnum(std::string_view enum_name, std::string_view member) {
  const auto& p = d_.bundle_->impl();
  const auto& enums = p.model.schema.enums;
  for (uint32_t e = 0; e < enums.size(); ++e) {
    std::string_view name = p.str(enums[e].name);
    if (name != enum_name && !(name.ends_with(enum_name) && name.size() > enum_name.size() &&
                               name[name.size() - enum_name.size() - 1] == '.'))
      continue;
    for (uint32_t k = 0; k < enums[e].members.size(); ++k)
      if (p.str(enums[e].members[k]) == member) return Value::enumMember(e, k);
  }
  return Value();
}

}  // namespace pave::rt
