#include "RefEval.h"

#include <algorithm>
#include <set>

#include <pave/decision_errors.h>

#include "sema/InputJson.h"

namespace pave::reference {

using nlohmann::json;
using rt::DecisionErrorCode;
using rt::errorCode;
using sema::CExprId;
using sema::CExprKind;
using sema::CheckedProgram;
using sema::ConstValue;

namespace {

/// A value or an evaluation error (overflow, a missing attribute behind a false guard).
struct R {
  bool error = false;
  ConstValue v;
};

R err() { return R{true, {}}; }

bool globMatch(std::string_view s, std::string_view p) {
  // Backtracking match; `*` matches any run, byte 0x01 a literal star.
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i)
      if (globMatch(s.substr(i), p.substr(1))) return true;
    return false;
  }
  char want = p[0] == '\x01' ? '*' : p[0];
  return !s.empty() && s[0] == want && globMatch(s.substr(1), p.substr(1));
}

bool inCidr(const sema::IpValue& ip, const sema::IpValue& net) {
  if (ip.v6 != net.v6) return false;
  for (unsigned bit = 0; bit < net.prefix; ++bit) {
    unsigned byte = bit / 8, mask = 0x80u >> (bit % 8);
    if ((ip.bytes[byte] & mask) != (net.bytes[byte] & mask)) return false;
  }
  return true;
}

bool setHas(const ConstValue& set, const ConstValue& x) {
  for (const auto& e : set.elems)
    if (sema::compareValues(e, x) == 0) return true;
  return false;
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

class Evaluator {
 public:
  Evaluator(const CheckedProgram& p, const Input& in) : p_(p), in_(in) {}

  R eval(CExprId id) {
    const sema::CExpr& e = p_.expr(id);
    auto kid = [&](uint32_t i) { return p_.child(id, i); };
    auto boolean = [&](bool b) { return R{false, ConstValue::boolean(e.type, b)}; };
    auto integer = [&](ConstValue::Kind k, int64_t v) { return R{false, ConstValue::integer(k, e.type, v)}; };
    switch (e.kind) {
      case CExprKind::Literal: return R{false, p_.constant(sema::ConstId{e.a})};
      case CExprKind::Attr: return attr(e);
      case CExprKind::Has:
        if (p_.expr(kid(0)).kind == CExprKind::Field) {  // `has(t[k].a)`: the lookup may fail
          R row = eval(p_.child(kid(0), 0));
          if (row.error) return err();
          return boolean(!field(row.v, p_.expr(kid(0))).error);
        }
        return boolean(!attr(p_.expr(kid(0))).error);
      case CExprKind::Table: return err();  // only read through the operators below
      case CExprKind::Field: {
        R row = eval(kid(0));
        if (row.error) return err();
        return field(row.v, e);
      }
      case CExprKind::Var: return vars_.at(e.a);
      case CExprKind::IsPrincipal: return boolean(in_.principal.value == e.a);
      case CExprKind::Not: {
        R a = eval(kid(0));
        return a.error ? a : boolean(!a.v.i);
      }
      case CExprKind::Neg: {
        R a = eval(kid(0));
        if (a.error || a.v.i == INT64_MIN) return err();
        return integer(a.v.kind, -a.v.i);
      }
      case CExprKind::And:
      case CExprKind::Or: {
        bool isAnd = e.kind == CExprKind::And, sawError = false;
        for (uint32_t i = 0; i < p_.numChildren(id); ++i) {
          R a = eval(kid(i));
          if (a.error) sawError = true;
          else if (static_cast<bool>(a.v.i) != isAnd) return boolean(!isAnd);
        }
        return sawError ? err() : boolean(isAnd);
      }
      case CExprKind::Compare: {
        R a = eval(kid(0)), b = eval(kid(1));
        if (a.error || b.error) return err();
        int c = sema::compareValues(a.v, b.v);
        switch (static_cast<ast::CompareOp>(e.op)) {
          case ast::CompareOp::Eq: return boolean(c == 0);
          case ast::CompareOp::Ne: return boolean(c != 0);
          case ast::CompareOp::Lt: return boolean(c < 0);
          case ast::CompareOp::Le: return boolean(c <= 0);
          case ast::CompareOp::Gt: return boolean(c > 0);
          case ast::CompareOp::Ge: return boolean(c >= 0);
        }
        return err();
      }
      case CExprKind::Add:
      case CExprKind::Sub: {
        R a = eval(kid(0)), b = eval(kid(1));
        if (a.error || b.error) return err();
        int64_t out;
        bool overflow = e.kind == CExprKind::Add ? __builtin_add_overflow(a.v.i, b.v.i, &out)
                                                 : __builtin_sub_overflow(a.v.i, b.v.i, &out);
        if (overflow) return err();
        ConstValue::Kind k = p_.types.kind(e.type) == sema::TypeKind::Int        ? ConstValue::Kind::Int
                             : p_.types.kind(e.type) == sema::TypeKind::Duration ? ConstValue::Kind::Duration
                                                                                 : ConstValue::Kind::Timestamp;
        // Timestamps exist in years 0000–9999 only (SPEC §4.5).
        if (k == ConstValue::Kind::Timestamp && (out < -62167219200 || out > 253402300799)) return err();
        return integer(k, out);
      }
      case CExprKind::Concat: {
        R a = eval(kid(0)), b = eval(kid(1));
        if (a.error || b.error) return err();
        return R{false, ConstValue::string(e.type, a.v.s + b.v.s)};
      }
      case CExprKind::SetBuild: {
        std::vector<ConstValue> elems;
        for (uint32_t i = 0; i < p_.numChildren(id); ++i) {
          R a = eval(kid(i));
          if (a.error) return err();
          elems.push_back(a.v);
        }
        return R{false, ConstValue::set(e.type, std::move(elems))};
      }
      case CExprKind::InSet:
      case CExprKind::SetContains: {
        bool recvFirst = e.kind == CExprKind::SetContains;
        R x = eval(kid(recvFirst ? 1 : 0)), s = eval(kid(recvFirst ? 0 : 1));
        if (x.error || s.error) return err();
        return boolean(setHas(s.v, x.v));
      }
      case CExprKind::InCidr: {
        R a = eval(kid(0)), b = eval(kid(1));
        if (a.error || b.error) return err();
        return boolean(inCidr(a.v.ip, b.v.ip));
      }
      case CExprKind::InMap:
      case CExprKind::MapIndex: {
        CExprId mapId = kid(e.kind == CExprKind::InMap ? 1 : 0);
        if (p_.expr(mapId).kind == CExprKind::Table) {
          R a = eval(kid(e.kind == CExprKind::InMap ? 0 : 1));
          if (a.error) return err();
          const sema::TableRow* row = tableRow(p_.expr(mapId).a, a.v.s);
          if (e.kind == CExprKind::InMap) return boolean(row != nullptr);
          if (!row) return err();
          // The row as a map from attribute name to value (absent attributes left out).
          ConstValue v;
          v.kind = ConstValue::Kind::Map;
          const sema::TableInfo& t = p_.tables[p_.expr(mapId).a];
          const auto& attrs = p_.records[t.record.value].attrs;
          for (size_t i = 0; i < attrs.size() && i < row->fields.size(); ++i)
            if (row->fields[i]) v.entries.push_back({attrs[i].name, *row->fields[i]});
          return R{false, v};
        }
        R a = eval(kid(e.kind == CExprKind::InMap ? 0 : 1)), m = eval(kid(e.kind == CExprKind::InMap ? 1 : 0));
        if (a.error || m.error) return err();
        for (const auto& [k, v] : m.v.entries)
          if (k == a.v.s) return e.kind == CExprKind::InMap ? boolean(true) : R{false, v};
        return e.kind == CExprKind::InMap ? boolean(false) : err();
      }
      case CExprKind::Like: {
        R a = eval(kid(0));
        if (a.error) return err();
        return boolean(globMatch(a.v.s, p_.str(sema::StrId{e.a})));
      }
      case CExprKind::If: {
        R c = eval(kid(0));
        if (c.error) return err();
        return eval(kid(c.v.i ? 1 : 2));
      }
      case CExprKind::Any:
      case CExprKind::All: {
        bool isAny = e.kind == CExprKind::Any, sawError = false;
        R s = eval(kid(0));
        if (s.error) return err();
        for (const auto& elem : s.v.elems) {
          if (vars_.size() <= e.a) vars_.resize(e.a + 1);
          vars_[e.a] = R{false, elem};
          R b = eval(kid(1));
          if (b.error) sawError = true;
          else if (static_cast<bool>(b.v.i) == isAny) return boolean(isAny);
        }
        return sawError ? err() : boolean(!isAny);
      }
      case CExprKind::MapSize:
      case CExprKind::MapIsEmpty:
        if (p_.expr(kid(0)).kind == CExprKind::Table) {
          const sema::TableInfo& t = p_.tables[p_.expr(kid(0)).a];
          size_t n = t.data ? t.data->rows.size() : 0;
          if (e.kind == CExprKind::MapSize) return integer(ConstValue::Kind::Int, static_cast<int64_t>(n));
          return boolean(n == 0);
        }
        return method(e, id);
      default: return method(e, id);
    }
  }

 private:
  // Tables (SPEC §2.3), read from the rows the program carries (a binary search by key).
  const sema::TableRow* tableRow(uint32_t table, const std::string& key) const {
    const sema::TableInfo& t = p_.tables[table];
    if (!t.data) return nullptr;
    const auto& rows = t.data->rows;
    auto it = std::lower_bound(rows.begin(), rows.end(), key,
                               [](const sema::TableRow& r, const std::string& k) { return r.key < k; });
    return it != rows.end() && it->key == key ? &*it : nullptr;
  }

  R field(const ConstValue& row, const sema::CExpr& e) {
    const std::string name(p_.str(sema::StrId{e.a}));
    for (const auto& [k, v] : row.entries)
      if (k == name) return R{false, v};
    return err();  // an absent optional attribute
  }

  R method(const sema::CExpr& e, CExprId id) {
    std::vector<R> args;
    for (uint32_t i = 0; i < p_.numChildren(id); ++i) {
      args.push_back(eval(p_.child(id, i)));
      if (args.back().error) return err();
    }
    auto boolean = [&](bool b) { return R{false, ConstValue::boolean(e.type, b)}; };
    auto integer = [&](ConstValue::Kind k, int64_t v) { return R{false, ConstValue::integer(k, e.type, v)}; };
    const ConstValue& r = args[0].v;
    switch (e.kind) {
      case CExprKind::StrStartsWith: return boolean(r.s.rfind(args[1].v.s, 0) == 0);
      case CExprKind::StrEndsWith:
        return boolean(r.s.size() >= args[1].v.s.size() &&
                       r.s.compare(r.s.size() - args[1].v.s.size(), std::string::npos, args[1].v.s) == 0);
      case CExprKind::StrContains: return boolean(r.s.find(args[1].v.s) != std::string::npos);
      case CExprKind::StrLower:
      case CExprKind::StrUpper: {
        std::string s = r.s;
        for (char& c : s) {
          if (e.kind == CExprKind::StrLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
          if (e.kind == CExprKind::StrUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        }
        return R{false, ConstValue::string(e.type, s)};
      }
      case CExprKind::StrSize: return integer(ConstValue::Kind::Int, static_cast<int64_t>(r.s.size()));
      case CExprKind::SetSize: return integer(ConstValue::Kind::Int, static_cast<int64_t>(r.elems.size()));
      case CExprKind::MapSize: return integer(ConstValue::Kind::Int, static_cast<int64_t>(r.entries.size()));
      case CExprKind::StrIsEmpty: return boolean(r.s.empty());
      case CExprKind::SetIsEmpty: return boolean(r.elems.empty());
      case CExprKind::MapIsEmpty: return boolean(r.entries.empty());
      case CExprKind::SetContainsAll:
      case CExprKind::SetContainsAny: {
        bool all = true, any = false;
        for (const auto& x : args[1].v.elems) {
          if (setHas(r, x)) any = true;
          else all = false;
        }
        return boolean(e.kind == CExprKind::SetContainsAll ? all : any);
      }
      case CExprKind::Hour: return integer(ConstValue::Kind::Int, (r.i - floorDiv(r.i, 86400) * 86400) / 3600);
      case CExprKind::Weekday: {
        int64_t days = floorDiv(r.i, 86400);
        return integer(ConstValue::Kind::Int, ((days % 7 + 7) % 7 + 3) % 7 + 1);  // 1970-01-01: Thursday
      }
      case CExprKind::Date: return integer(ConstValue::Kind::Timestamp, floorDiv(r.i, 86400) * 86400);
      case CExprKind::Seconds: return integer(ConstValue::Kind::Int, r.i);
      default: return err();
    }
  }

  R attr(const sema::CExpr& e) {
    const std::string name(p_.str(sema::StrId{e.a}));
    const std::map<std::string, ConstValue>* attrs = e.root() == sema::Root::Principal ? &in_.principalAttrs
                                                     : e.root() == sema::Root::Request ? &in_.requestAttrs
                                                                                       : &in_.contextAttrs;
    auto it = attrs->find(name);
    if (it == attrs->end()) return err();
    if (e.root() == sema::Root::Principal) {  // the same name on another principal type
      const sema::AttrInfo* a = p_.principals[in_.principal.value].attr(name);
      if (!a || a->type != e.type) return err();
    }
    return R{false, unmapped(it->second)};
  }

  /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address it maps, and a
  /// network of them (prefix ≥ 96) the IPv4 network (SPEC §2.1).
  static ConstValue unmapped(ConstValue v) {
    if (v.kind == ConstValue::Kind::Ip || v.kind == ConstValue::Kind::Cidr) {
      static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      const bool net = v.kind == ConstValue::Kind::Cidr;
      if (v.ip.v6 && std::equal(kMapped, kMapped + 12, v.ip.bytes.begin()) && (!net || v.ip.prefix >= 96)) {
        std::copy(v.ip.bytes.begin() + 12, v.ip.bytes.end(), v.ip.bytes.begin());
        std::fill(v.ip.bytes.begin() + 4, v.ip.bytes.end(), uint8_t(0));
        v.ip.v6 = false;
        if (net) v.ip.prefix = uint8_t(v.ip.prefix - 96);
      }
    } else if (v.kind == ConstValue::Kind::Set) {
      for (ConstValue& e : v.elems) e = unmapped(e);
      std::sort(v.elems.begin(), v.elems.end(),
                [](const ConstValue& a, const ConstValue& b) { return sema::compareValues(a, b) < 0; });
      v.elems.erase(std::unique(v.elems.begin(), v.elems.end(),
                                [](const ConstValue& a, const ConstValue& b) { return sema::compareValues(a, b) == 0; }),
                    v.elems.end());
    }
    return v;
  }

  const CheckedProgram& p_;
  const Input& in_;
  std::vector<R> vars_;
};

enum class Match { False, True, Error };

Match matchRule(const CheckedProgram& p, const sema::RuleInfo& r, const Input& in) {
  Evaluator ev(p, in);
  bool sawError = false;
  for (const sema::Conjunct& c : r.condition) {
    R v = ev.eval(c.expr);
    if (v.error) sawError = true;
    else if (!v.v.i) return Match::False;
  }
  return sawError ? Match::Error : Match::True;
}

bool targets(const CheckedProgram& p, const sema::RuleInfo& r, sema::RequestId t) {
  const sema::RuleInfo& from = r.exception ? p.rule(r.exception->lifts) : r;
  if (from.onStar) return true;
  return std::find(from.targets.begin(), from.targets.end(), t) != from.targets.end();
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

json inputJson(const CheckedProgram& p, const Input& in) {
  auto fields = [&](const std::map<std::string, ConstValue>& m) {
    json o = json::object();
    for (const auto& [k, v] : m) o[k] = sema::valueToJson(p, v);
    return o;
  };
  json principal = fields(in.principalAttrs);
  principal["type"] = p.principals[in.principal.value].name;
  return {{"type", p.requests[in.request.value].name},
          {"principal", principal},
          {"request", fields(in.requestAttrs)},
          {"context", fields(in.contextAttrs)}};
}

json decide(const CheckedProgram& p, const Input& in) {
  const sema::RequestInfo& req = p.requests[in.request.value];
  int64_t now = in.contextAttrs.at("time").i;
  std::vector<Match> match(p.rules.size(), Match::False);
  json errors = json::array();
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const sema::RuleInfo& r = p.rules[i];
    if (!targets(p, r, in.request)) continue;
    match[i] = matchRule(p, r, in);
    if (match[i] == Match::Error)
      errors.push_back({{"code", errorCode(DecisionErrorCode::EvaluationError)}, {"rule", r.name}});
  }
  auto matches = [&](uint32_t i) {
    return match[i] == Match::True || (match[i] == Match::Error && p.rules[i].effect == ast::Effect::Deny);
  };
  std::set<uint32_t> lifted;
  std::vector<std::string> exceptions;
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const sema::RuleInfo& r = p.rules[i];
    if (r.effect != ast::Effect::Exception || match[i] != Match::True || now >= r.exception->until) continue;
    if (!matches(r.exception->lifts.value)) continue;
    if (match[r.exception->lifts.value] == Match::Error) continue;  // an erring deny is never lifted (SPEC §5)
    lifted.insert(r.exception->lifts.value);
    exceptions.push_back(r.name);
  }
  std::vector<std::string> denyRules, rules;
  std::vector<uint32_t> granting;
  bool approve = false;
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const sema::RuleInfo& r = p.rules[i];
    if (!matches(i)) continue;
    if (r.effect == ast::Effect::Deny && !lifted.count(i)) denyRules.push_back(r.name);
    if (r.effect == ast::Effect::Allow || r.effect == ast::Effect::Approve) {
      rules.push_back(r.name);
      granting.push_back(i);
      approve |= r.effect == ast::Effect::Approve;
    }
  }
  json out;
  out["request_type"] = req.name;
  out["rules"] = sorted(rules);
  out["deny_rules"] = sorted(denyRules);
  out["exceptions"] = sorted(exceptions);
  // Any evaluation error makes the decision `deny` (SPEC §5 step 3).
  std::string decision = !denyRules.empty() || !errors.empty() ? "deny"
                         : approve                            ? "approval"
                         : !rules.empty()                     ? "allow"
                                                              : "deny";

  // Approvals and grants of the matching allow/approve rules.
  json approvals = json::array();
  json grants = json::object();
  bool failed = false;
  if (decision != "deny") {
    std::vector<std::pair<std::string, json>> byRule;
    for (uint32_t i : granting) {
      const sema::RuleInfo& r = p.rules[i];
      if (r.effect != ast::Effect::Approve) continue;
      std::set<std::string> groups;
      Evaluator ev(p, in);
      for (CExprId g : r.approvers) {
        R v = ev.eval(g);
        if (v.error) {
          failed = true;
          errors.push_back({{"code", errorCode(DecisionErrorCode::EvaluationError)}, {"rule", r.name}});
        } else {
          groups.insert(v.v.s);
        }
      }
      byRule.push_back({r.name, {{"rule", r.name}, {"groups", groups}, {"quorum", r.quorum}}});
    }
    std::sort(byRule.begin(), byRule.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [_, a] : byRule) approvals.push_back(a);
    for (const sema::GrantInfo& g : req.grants) {
      std::vector<ConstValue> values;
      for (uint32_t i : granting) {
        Evaluator ev(p, in);
        for (const sema::GrantAssignment& a : p.rules[i].grants) {
          if (a.grant != g.name) continue;
          R v = ev.eval(a.value);
          if (v.error) {
            failed = true;
            errors.push_back({{"code", errorCode(DecisionErrorCode::EvaluationError)}, {"rule", p.rules[i].name}});
          } else {
            values.push_back(v.v);
          }
        }
      }
      ConstValue merged = g.defaultValue;
      for (size_t k = 0; k < values.size(); ++k) {
        const ConstValue& v = values[k];
        if (k == 0 && g.merge != sema::MergeOp::Unique) {
          merged = v;
          continue;
        }
        switch (g.merge) {
          case sema::MergeOp::Min: if (v.i < merged.i) merged = v; break;
          case sema::MergeOp::Max: if (v.i > merged.i) merged = v; break;
          case sema::MergeOp::And: merged.i = merged.i && v.i; break;
          case sema::MergeOp::Or: merged.i = merged.i || v.i; break;
          case sema::MergeOp::Union: {
            std::vector<ConstValue> e = merged.elems;
            e.insert(e.end(), v.elems.begin(), v.elems.end());
            merged = ConstValue::set(merged.type, e);
            break;
          }
          case sema::MergeOp::Intersect: {
            std::vector<ConstValue> e;
            for (const auto& x : merged.elems)
              if (setHas(v, x)) e.push_back(x);
            merged = ConstValue::set(merged.type, e);
            break;
          }
          case sema::MergeOp::Unique:
            if (k == 0) {
              merged = v;
            } else if (sema::compareValues(merged, v) != 0) {
              failed = true;
              errors.push_back({{"code", errorCode(DecisionErrorCode::GrantConflict)}});
            }
            break;
        }
      }
      grants[g.name] = sema::valueToJson(p, merged);
    }
  }
  if (failed) decision = "deny";
  out["decision"] = decision;
  out["approvals"] = decision == "approval" ? approvals : json::array();
  out["grants"] = decision == "deny" ? json::object() : grants;
  json reasons = json::array();
  if (decision == "deny" && !failed) {
    if (denyRules.empty()) {
      if (rules.empty()) reasons.push_back("no-matching-rule");  // else: an error denied it
    } else {
      for (const std::string& d : sorted(denyRules)) {
        const sema::RuleInfo& r = p.rule(*p.findRule(d));
        reasons.push_back(r.because ? *r.because : r.name);
      }
    }
  }
  out["reasons"] = reasons;
  out["errors"] = errors;
  return out;
}

}  // namespace pave::reference
