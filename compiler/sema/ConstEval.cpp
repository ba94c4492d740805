// Compile-time evaluation of checked expressions: folds literal-only subexpressions as
// nodes are built, and computes the values of consts, grant defaults and test inputs.
// Semantics follow SPEC §4.3/§4.5; an overflow or a missing map key is "no value" (the
// expression is then left for the runtime, or reported where a constant is required).
#include <algorithm>

#include <pave/literals.h>

#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {

using VK = ConstValue::Kind;
using Value = std::optional<ConstValue>;
constexpr int kMaxEvalDepth = 2000;

bool globMatch(std::string_view s, std::string_view p) {
  // Iterative wildcard matching; `*` matches any run, byte 0x01 is a literal star.
  size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && (p[pi] == s[si] || (p[pi] == '\x01' && s[si] == '*'))) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool inCidr(const IpValue& ip, const IpValue& net) {
  if (ip.v6 != net.v6) return false;
  for (unsigned bit = 0; bit < net.prefix; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((ip.bytes[bit / 8] & mask) != (net.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

bool contains(const ConstValue& set, const ConstValue& x) {
  return std::binary_search(set.elems.begin(), set.elems.end(), x);
}

VK kindOf(const TypeTable& t, TypeId id) {
  switch (t.kind(id)) {
    case TypeKind::Int: return VK::Int;
    case TypeKind::String: return VK::String;
    case TypeKind::Duration: return VK::Duration;
    case TypeKind::Timestamp: return VK::Timestamp;
    case TypeKind::Ip: return VK::Ip;
    case TypeKind::Cidr: return VK::Cidr;
    case TypeKind::Enum: return VK::Enum;
    case TypeKind::Set: return VK::Set;
    case TypeKind::Map: return VK::Map;
    default: return VK::Bool;
  }
}

class Evaluator {
 public:
  explicit Evaluator(const CheckedProgram& p) : p_(p) {}

  Value eval(CExprId id, int depth) {
    if (depth > kMaxEvalDepth) return std::nullopt;
    const CExpr& n = p_.expr(id);
    switch (n.kind) {
      case CExprKind::Literal: return p_.constant(ConstId{n.a});
      case CExprKind::Var:
        if (n.a < vars_.size() && vars_[n.a]) return vars_[n.a];
        return std::nullopt;
      case CExprKind::And:
      case CExprKind::Or: return logic(id, n, depth);
      case CExprKind::If: {
        Value c = eval(p_.child(id, 0), depth + 1);
        if (!c) return std::nullopt;
        return eval(p_.child(id, c->i ? 1 : 2), depth + 1);
      }
      case CExprKind::Any:
      case CExprKind::All: return quantifier(id, n, depth);
      default: break;
    }
    std::vector<ConstValue> kids;
    for (uint32_t i = 0; i < n.numChildren; ++i) {
      Value v = eval(p_.child(id, i), depth + 1);
      if (!v) return std::nullopt;
      kids.push_back(std::move(*v));
    }
    return apply(n, kids);
  }

 private:
  ConstValue boolean(const CExpr& n, bool b) { return ConstValue::boolean(n.type, b); }
  ConstValue number(const CExpr& n, int64_t v) { return ConstValue::integer(kindOf(p_.types, n.type), n.type, v); }

  Value logic(CExprId id, const CExpr& n, int depth) {
    bool isAnd = n.kind == CExprKind::And, unknown = false;
    for (uint32_t i = 0; i < n.numChildren; ++i) {
      Value v = eval(p_.child(id, i), depth + 1);
      if (!v) unknown = true;
      else if (v->i != isAnd) return boolean(n, !isAnd);  // false absorbs `and`, true absorbs `or`
    }
    if (unknown) return std::nullopt;
    return boolean(n, isAnd);
  }

  Value quantifier(CExprId id, const CExpr& n, int depth) {
    Value coll = eval(p_.child(id, 0), depth + 1);
    if (!coll) return std::nullopt;
    bool isAny = n.kind == CExprKind::Any, unknown = false;
    if (vars_.size() <= n.a) vars_.resize(n.a + 1);
    for (const ConstValue& x : coll->elems) {
      vars_[n.a] = x;
      Value v = eval(p_.child(id, 1), depth + 1);
      if (!v) unknown = true;
      else if ((v->i != 0) == isAny) {
        vars_[n.a].reset();
        return boolean(n, isAny);
      }
    }
    vars_[n.a].reset();
    if (unknown) return std::nullopt;
    return boolean(n, !isAny);
  }

  Value arith(const CExpr& n, const std::vector<ConstValue>& k) {
    int64_t out = 0;
    bool overflow = n.kind == CExprKind::Add ? __builtin_add_overflow(k[0].i, k[1].i, &out)
                                             : __builtin_sub_overflow(k[0].i, k[1].i, &out);
    if (overflow) return std::nullopt;
    if (p_.types.kind(n.type) == TypeKind::Timestamp && !rt::timestampInRange(out))
      return std::nullopt;  // outside years 0000–9999 (SPEC §4.5): an error, like an overflow
    return number(n, out);
  }

  Value compare(const CExpr& n, const std::vector<ConstValue>& k) {
    int c = compareValues(k[0], k[1]);
    switch (static_cast<ast::CompareOp>(n.op)) {
      case ast::CompareOp::Eq: return boolean(n, c == 0);
      case ast::CompareOp::Ne: return boolean(n, c != 0);
      case ast::CompareOp::Lt: return boolean(n, c < 0);
      case ast::CompareOp::Le: return boolean(n, c <= 0);
      case ast::CompareOp::Gt: return boolean(n, c > 0);
      case ast::CompareOp::Ge: return boolean(n, c >= 0);
    }
    return std::nullopt;
  }

  Value strings(const CExpr& n, const std::vector<ConstValue>& k) {
    const std::string& s = k[0].s;
    switch (n.kind) {
      case CExprKind::StrStartsWith: return boolean(n, s.compare(0, k[1].s.size(), k[1].s) == 0 && s.size() >= k[1].s.size());
      case CExprKind::StrEndsWith:
        return boolean(n, s.size() >= k[1].s.size() && s.compare(s.size() - k[1].s.size(), k[1].s.size(), k[1].s) == 0);
      case CExprKind::StrContains: return boolean(n, s.find(k[1].s) != std::string::npos);
      case CExprKind::StrLower:
      case CExprKind::StrUpper: {
        std::string out = s;
        for (char& c : out) {
          if (n.kind == CExprKind::StrLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if (n.kind == CExprKind::StrUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        return ConstValue::string(n.type, std::move(out));
      }
      case CExprKind::StrSize: return number(n, static_cast<int64_t>(s.size()));
      case CExprKind::StrIsEmpty: return boolean(n, s.empty());
      case CExprKind::Concat: return ConstValue::string(n.type, s + k[1].s);
      case CExprKind::Like: return boolean(n, globMatch(s, p_.str(StrId{n.a})));
      default: return std::nullopt;
    }
  }

  Value collections(const CExpr& n, const std::vector<ConstValue>& k) {
    switch (n.kind) {
      case CExprKind::SetBuild: return ConstValue::set(n.type, k);
      case CExprKind::InSet: return boolean(n, contains(k[1], k[0]));
      case CExprKind::InCidr: return boolean(n, inCidr(k[0].ip, k[1].ip));
      case CExprKind::InMap:
        return boolean(n, std::any_of(k[1].entries.begin(), k[1].entries.end(),
                                      [&](const auto& e) { return e.first == k[0].s; }));
      case CExprKind::MapIndex:
        for (const auto& [key, value] : k[0].entries)
          if (key == k[1].s) return value;
        return std::nullopt;
      case CExprKind::SetSize: return number(n, static_cast<int64_t>(k[0].elems.size()));
      case CExprKind::MapSize: return number(n, static_cast<int64_t>(k[0].entries.size()));
      case CExprKind::SetIsEmpty: return boolean(n, k[0].elems.empty());
      case CExprKind::MapIsEmpty: return boolean(n, k[0].entries.empty());
      case CExprKind::SetContains: return boolean(n, contains(k[0], k[1]));
      case CExprKind::SetContainsAll:
        return boolean(n, std::all_of(k[1].elems.begin(), k[1].elems.end(), [&](const auto& x) { return contains(k[0], x); }));
      case CExprKind::SetContainsAny:
        return boolean(n, std::any_of(k[1].elems.begin(), k[1].elems.end(), [&](const auto& x) { return contains(k[0], x); }));
      default: return std::nullopt;
    }
  }

  Value apply(const CExpr& n, const std::vector<ConstValue>& k) {
    switch (n.kind) {
      case CExprKind::Not: return boolean(n, k[0].i == 0);
      case CExprKind::Neg:
        if (k[0].i == INT64_MIN) return std::nullopt;
        return number(n, -k[0].i);
      case CExprKind::Add:
      case CExprKind::Sub: return arith(n, k);
      case CExprKind::Compare: return compare(n, k);
      case CExprKind::Hour: return number(n, rt::hourOf(k[0].i));
      case CExprKind::Weekday: return number(n, rt::weekdayOf(k[0].i));
      case CExprKind::Date: return number(n, rt::startOfDay(k[0].i));
      case CExprKind::Seconds: return number(n, k[0].i);
      default: break;
    }
    if (Value v = strings(n, k)) return v;
    return collections(n, k);
  }

  const CheckedProgram& p_;
  std::vector<std::optional<ConstValue>> vars_;
};

bool foldable(CExprKind k) {
  switch (k) {
    case CExprKind::Literal:
    case CExprKind::Attr:
    case CExprKind::Var:
    case CExprKind::Has:
    case CExprKind::IsPrincipal:
    case CExprKind::Any:
    case CExprKind::All:
    case CExprKind::Root:
    case CExprKind::Param:
    case CExprKind::Invalid: return false;
    default: return true;
  }
}

}  // namespace

CExprId Checker::fold(CExprId e) {
  const CExpr& n = p_.expr(e);
  if (!foldable(n.kind) || n.numChildren == 0) return e;
  for (uint32_t i = 0; i < n.numChildren; ++i)
    if (p_.expr(p_.child(e, i)).kind != CExprKind::Literal) return e;
  Value v = Evaluator(p_).eval(e, 0);
  if (!v) return e;
  ConstId c = p_.addConstant(std::move(*v));
  CExpr& out = p_.exprs[e.value];
  out.kind = CExprKind::Literal;
  out.a = c.value;
  out.b = 0;
  out.op = 0;
  out.flags = 0;
  out.numChildren = 0;
  return e;
}

std::optional<ConstValue> Checker::evaluate(CExprId e) { return Evaluator(p_).eval(e, 0); }

}  // namespace pave::sema::internal
