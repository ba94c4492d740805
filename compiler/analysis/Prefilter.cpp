#include "analysis/Prefilter.h"

#include <algorithm>

#include "analysis/Encoder.h"

namespace pave::analysis {

using sema::CExpr;
using sema::CExprId;
using sema::CExprKind;
using sema::ConstValue;
using sema::TypeKind;

namespace {

bool domainEmpty(const Domain& d) {
  if (d.enumMask && *d.enumMask == 0) return true;
  if (d.among) {
    bool any = false;
    for (const std::string& s : *d.among) any |= !d.excluded.count(s);
    if (!any) return true;
  }
  return d.lo > d.hi;
}

Domain meet(const Domain& a, const Domain& b) {
  Domain d = a;
  if (b.enumMask) d.enumMask = d.enumMask ? *d.enumMask & *b.enumMask : *b.enumMask;
  if (b.among) {
    if (!d.among) {
      d.among = b.among;
    } else {
      std::set<std::string> both;
      std::set_intersection(d.among->begin(), d.among->end(), b.among->begin(), b.among->end(),
                            std::inserter(both, both.begin()));
      d.among = std::move(both);
    }
  }
  d.excluded.insert(b.excluded.begin(), b.excluded.end());
  d.lo = std::max(d.lo, b.lo);
  d.hi = std::min(d.hi, b.hi);
  if (b.boolean) {
    if (d.boolean && *d.boolean != *b.boolean) d.enumMask = 0;  // contradiction
    d.boolean = b.boolean;
  }
  return d;
}

class FactCollector {
 public:
  FactCollector(const sema::CheckedProgram& p, sema::RequestId target, bool errorsMatch)
      : p_(p), req_(p.requests[target.value]), errorsMatch_(errorsMatch) {
    for (sema::PrincipalId pid : req_.principals)
      if (pid.value < 64) allowed_ |= uint64_t(1) << pid.value;
    facts.principals = allowed_;
  }

  Facts facts;

  void conjunct(CExprId id, bool positive) {
    const CExpr& e = p_.expr(id);
    switch (e.kind) {
      case CExprKind::And:
        if (positive)
          for (uint32_t i = 0; i < e.numChildren; ++i) conjunct(p_.child(id, i), true);
        return;
      case CExprKind::Or:
        if (!positive)
          for (uint32_t i = 0; i < e.numChildren; ++i) conjunct(p_.child(id, i), false);
        return;
      case CExprKind::Not: conjunct(p_.child(id, 0), !positive); return;
      case CExprKind::IsPrincipal:
        if (e.a < 64) {
          uint64_t bit = uint64_t(1) << e.a;
          facts.principals &= positive ? bit : ~bit;
        }
        return;
      case CExprKind::Attr:
        if (p_.types.kind(e.type) == TypeKind::Bool) {
          Domain d;
          d.boolean = positive;
          add(e, d);
        }
        return;
      case CExprKind::Compare: compare(id, positive); return;
      case CExprKind::InSet: inSet(id, positive); return;
      default: return;
    }
  }

 private:
  // Adds a domain for an attribute access, when the access cannot fail where it matters.
  void add(const CExpr& attr, const Domain& d) {
    std::string name(p_.str(sema::StrId{attr.a}));
    switch (attr.root()) {
      case sema::Root::Request:
      case sema::Root::Context: {
        const sema::AttrInfo* a = attr.root() == sema::Root::Request ? req_.attr(name) : p_.context.attr(name);
        if (!a || (a->optional && errorsMatch_)) return;
        std::string base = attr.root() == sema::Root::Request ? requestVarName(name) : contextVarName(name);
        put(base, d);
        return;
      }
      case sema::Root::Principal: {
        uint64_t candidates = 0;
        std::vector<uint32_t> types;
        for (sema::PrincipalId pid : req_.principals) {
          const sema::AttrInfo* a = p_.principals[pid.value].attr(name);
          if (!a || a->type != attr.type || pid.value >= 64) continue;
          if (a->optional && errorsMatch_) continue;
          candidates |= uint64_t(1) << pid.value;
          types.push_back(pid.value);
        }
        if (errorsMatch_) {
          // A failing access lets a deny match: only usable when the principal is surely a candidate.
          if ((facts.principals & ~candidates) != 0) return;
        } else {
          facts.principals &= candidates;  // a true comparison needs a successful access
        }
        for (uint32_t t : types) {
          std::string base = principalVarName(p_, t, name);
          facts.owner[base] = t;
          put(base, d);
        }
        return;
      }
      case sema::Root::Param: return;
    }
  }

  void put(const std::string& base, const Domain& d) {
    auto it = facts.attrs.find(base);
    Domain m = it == facts.attrs.end() ? d : meet(it->second, d);
    if (domainEmpty(m)) {
      auto owner = facts.owner.find(base);
      if (owner == facts.owner.end()) facts.empty = true;
      else facts.principals &= ~(uint64_t(1) << owner->second);
    }
    facts.attrs[base] = m;
  }

  void compare(CExprId id, bool positive) {
    CExprId l = p_.child(id, 0), r = p_.child(id, 1);
    auto op = static_cast<ast::CompareOp>(p_.expr(id).op);
    if (p_.expr(l).kind == CExprKind::Literal && p_.expr(r).kind == CExprKind::Attr) {
      std::swap(l, r);
      static constexpr ast::CompareOp kFlip[] = {ast::CompareOp::Eq, ast::CompareOp::Ne, ast::CompareOp::Gt,
                                                 ast::CompareOp::Ge, ast::CompareOp::Lt, ast::CompareOp::Le};
      op = kFlip[size_t(op)];
    }
    const CExpr& attr = p_.expr(l);
    const CExpr& lit = p_.expr(r);
    if (attr.kind != CExprKind::Attr || lit.kind != CExprKind::Literal) return;
    if (!positive) {
      static constexpr ast::CompareOp kNeg[] = {ast::CompareOp::Ne, ast::CompareOp::Eq, ast::CompareOp::Ge,
                                                ast::CompareOp::Gt, ast::CompareOp::Le, ast::CompareOp::Lt};
      op = kNeg[size_t(op)];
    }
    const ConstValue& v = p_.constant(sema::ConstId{lit.a});
    Domain d;
    switch (v.kind) {
      case ConstValue::Kind::Enum:
        if (v.i >= 64 || p_.enums[p_.types.get(v.type).index].members.size() > 64) return;
        if (op == ast::CompareOp::Eq) d.enumMask = uint64_t(1) << v.i;
        else if (op == ast::CompareOp::Ne) d.enumMask = ~(uint64_t(1) << v.i);
        else return;
        break;
      case ConstValue::Kind::String:
        if (op == ast::CompareOp::Eq) d.among = std::set<std::string>{v.s};
        else if (op == ast::CompareOp::Ne) d.excluded.insert(v.s);
        else return;
        break;
      case ConstValue::Kind::Bool:
        if (op != ast::CompareOp::Eq && op != ast::CompareOp::Ne) return;
        d.boolean = (v.i != 0) == (op == ast::CompareOp::Eq);
        break;
      case ConstValue::Kind::Int:
      case ConstValue::Kind::Duration:
      case ConstValue::Kind::Timestamp:
        switch (op) {
          case ast::CompareOp::Eq: d.lo = d.hi = v.i; break;
          case ast::CompareOp::Ne: return;
          case ast::CompareOp::Lt:
            if (v.i == INT64_MIN) d.lo = 1, d.hi = 0;
            else d.hi = v.i - 1;
            break;
          case ast::CompareOp::Le: d.hi = v.i; break;
          case ast::CompareOp::Gt:
            if (v.i == INT64_MAX) d.lo = 1, d.hi = 0;
            else d.lo = v.i + 1;
            break;
          case ast::CompareOp::Ge: d.lo = v.i; break;
        }
        break;
      default: return;
    }
    add(attr, d);
  }

  void inSet(CExprId id, bool positive) {
    const CExpr& attr = p_.expr(p_.child(id, 0));
    const CExpr& lit = p_.expr(p_.child(id, 1));
    if (attr.kind != CExprKind::Attr || lit.kind != CExprKind::Literal) return;
    const ConstValue& v = p_.constant(sema::ConstId{lit.a});
    Domain d;
    TypeKind k = p_.types.kind(attr.type);
    if (k == TypeKind::Enum) {
      if (p_.enums[p_.types.get(attr.type).index].members.size() > 64) return;
      uint64_t mask = 0;
      for (const ConstValue& e : v.elems) mask |= uint64_t(1) << e.i;
      d.enumMask = positive ? mask : ~mask;
    } else if (k == TypeKind::String) {
      std::set<std::string> s;
      for (const ConstValue& e : v.elems) s.insert(e.s);
      if (positive) d.among = std::move(s);
      else d.excluded = std::move(s);
    } else {
      return;
    }
    add(attr, d);
  }

  const sema::CheckedProgram& p_;
  const sema::RequestInfo& req_;
  bool errorsMatch_;
  uint64_t allowed_ = 0;
};

}  // namespace

Facts factsOf(const sema::CheckedProgram& p, const sema::RuleInfo& rule, sema::RequestId target, bool errorsMatch) {
  FactCollector c(p, target, errorsMatch);
  for (const sema::Conjunct& cj : rule.condition) c.conjunct(cj.expr, true);
  if (c.facts.principals == 0 && !p.requests[target.value].principals.empty()) c.facts.empty = true;
  return c.facts;
}

Facts intersect(const Facts& a, const Facts& b) {
  Facts f = a;
  f.principals &= b.principals;
  f.empty = a.empty || b.empty || f.principals == 0;
  for (const auto& [k, d] : b.attrs) {
    auto it = f.attrs.find(k);
    Domain m = it == f.attrs.end() ? d : meet(it->second, d);
    auto owner = b.owner.find(k);
    if (owner != b.owner.end()) f.owner[k] = owner->second;
    if (domainEmpty(m)) {
      if (owner == b.owner.end()) f.empty = true;
      else f.principals &= ~(uint64_t(1) << owner->second);
    }
    f.attrs[k] = m;
  }
  if (f.principals == 0) f.empty = true;
  return f;
}

bool disjoint(const Facts& a, const Facts& b) {
  if (a.empty || b.empty) return true;
  uint64_t common = a.principals & b.principals;
  if (common == 0) return true;
  for (const auto& [k, d] : a.attrs) {
    auto it = b.attrs.find(k);
    if (it == b.attrs.end() || !domainEmpty(meet(d, it->second))) continue;
    auto owner = a.owner.find(k);
    if (owner == a.owner.end()) return true;
    // A principal attribute: only inputs of that principal type are excluded.
    common &= ~(uint64_t(1) << owner->second);
    if (common == 0) return true;
  }
  return false;
}

}  // namespace pave::analysis
