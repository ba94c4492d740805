// Flow facts (SPEC §4.4): what is known to hold where an expression is evaluated.
// Facts come from a checked condition known to be true: `has(x.a)`, `k in m` and
// `principal is P`, and from every operand of an `and` (also inside inlined defs). `or`,
// `not` and `if` contribute nothing.
#include "sema/internal/Checker.h"

namespace pave::sema::internal {

void Checker::addFactsOf(CExprId e) {
  const CExpr& n = p_.expr(e);
  switch (n.kind) {
    case CExprKind::Has: unit_.facts.push_back({Fact::Kind::Has, p_.child(e, 0), {}, 0}); break;
    case CExprKind::InMap: unit_.facts.push_back({Fact::Kind::MapKey, p_.child(e, 1), p_.child(e, 0), 0}); break;
    case CExprKind::IsPrincipal: unit_.facts.push_back({Fact::Kind::Narrow, {}, {}, n.a}); break;
    case CExprKind::And:
      for (uint32_t i = 0; i < n.numChildren; ++i) addFactsOf(p_.child(e, i));
      break;
    default: break;
  }
}

/// Structural equality, ignoring source ranges ("the same expression, syntactically").
bool Checker::sameExpr(CExprId a, CExprId b) const {
  const CExpr& x = p_.expr(a);
  const CExpr& y = p_.expr(b);
  if (x.kind != y.kind || x.type != y.type || x.numChildren != y.numChildren) return false;
  if (x.kind == CExprKind::Literal) return p_.constant(ConstId{x.a}) == p_.constant(ConstId{y.a});
  if (x.op != y.op || x.a != y.a || x.b != y.b || x.flags != y.flags) return false;
  for (uint32_t i = 0; i < x.numChildren; ++i)
    if (!sameExpr(p_.child(a, i), p_.child(b, i))) return false;
  return true;
}

bool Checker::hasFact(CExprId attr) const {
  for (const Fact& f : unit_.facts)
    if (f.kind == Fact::Kind::Has && sameExpr(f.a, attr)) return true;
  return false;
}

bool Checker::mapKeyFact(CExprId map, CExprId key) const {
  for (const Fact& f : unit_.facts)
    if (f.kind == Fact::Kind::MapKey && sameExpr(f.a, map) && sameExpr(f.b, key)) return true;
  return false;
}

std::vector<PrincipalId> Checker::possiblePrincipals() const {
  for (size_t i = unit_.facts.size(); i-- > 0;)
    if (unit_.facts[i].kind == Fact::Kind::Narrow) return {PrincipalId{unit_.facts[i].principal}};
  return unit_.scope.principals;
}

TypeId Checker::principalValueType() {
  std::vector<PrincipalId> possible = possiblePrincipals();
  return p_.types.principal(possible.size() == 1 ? possible[0].value : kNoIndex);
}

TypeId Checker::requestValueType() {
  const auto& targets = unit_.scope.targets;
  return p_.types.request(targets.size() == 1 ? targets[0].value : kNoIndex);
}

}  // namespace pave::sema::internal
