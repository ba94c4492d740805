// Def inlining: a def's body is checked once into a template whose parameters are `Param`
// nodes; each call substitutes the argument expressions and renumbers the template's
// quantifier variables, so that the result is a plain tree (no sharing between nodes).
#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {
constexpr uint32_t kMaxInlineDepth = 1500;  // keeps later recursive passes off the stack limit
}  // namespace

bool Checker::overBudget(SourceRange range) {
  if (unit_.budgetReported) return true;
  unit_.budgetReported = true;
  report(msg::InlinedTooLarge, range, options_.maxInlinedNodes, kMaxInlineDepth)
      .note("split the rule, or make the defs it calls smaller");
  return true;
}

CExprId Checker::clone(CExprId e, uint32_t depth) {
  const CExpr n = p_.expr(e);
  if (depth > kMaxInlineDepth) {
    overBudget(n.range);
    return invalid(n.range);
  }
  std::vector<CExprId> kids;
  for (uint32_t i = 0; i < n.numChildren; ++i) {
    kids.push_back(clone(p_.child(e, i), depth + 1));
    if (isError(kids.back())) return invalid(n.range);
  }
  return make(n.kind, n.type, n.range, kids, n.a, n.b, n.op, n.flags);
}

CExprId Checker::substitute(CExprId t, const std::vector<CExprId>& args, uint32_t varOffset, uint32_t depth) {
  const CExpr n = p_.expr(t);
  if (depth > kMaxInlineDepth) {
    overBudget(n.range);
    return invalid(n.range);
  }
  switch (n.kind) {
    case CExprKind::Param: return clone(args[n.a], depth + 1);
    case CExprKind::Attr: {
      if (n.root() != Root::Param) break;
      // An attribute of a principal/request parameter reads the argument's root.
      const CExpr arg = p_.expr(args[n.b]);
      if (arg.kind == CExprKind::Root)
        return make(CExprKind::Attr, n.type, n.range, {}, n.a, 0, arg.op, n.flags);
      if (arg.kind == CExprKind::Param)
        return make(CExprKind::Attr, n.type, n.range, {}, n.a, arg.a, n.op, n.flags);
      return invalid(n.range);
    }
    case CExprKind::Var: return make(CExprKind::Var, n.type, n.range, {}, n.a + varOffset);
    default: break;
  }
  std::vector<CExprId> kids;
  for (uint32_t i = 0; i < n.numChildren; ++i) {
    kids.push_back(substitute(p_.child(t, i), args, varOffset, depth + 1));
    if (isError(kids.back())) return invalid(n.range);
  }
  uint32_t a = (n.kind == CExprKind::Any || n.kind == CExprKind::All) ? n.a + varOffset : n.a;
  return make(n.kind, n.type, n.range, kids, a, n.b, n.op, n.flags);
}

}  // namespace pave::sema::internal
