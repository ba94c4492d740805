// The expression checker: dispatch, node building, literals, names, roots and attribute
// access (SPEC §4.1, §4.2). Operators are in ExprOps.cpp, calls in ExprCalls.cpp.
#include "sema/Builtins.h"
#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {
constexpr uint32_t kMaxCheckDepth = 2000;  // the parser bounds nesting well below this
}  // namespace

// ---- building -----------------------------------------------------------------------------

CExprId Checker::invalid(SourceRange range) {
  CExpr n{};
  n.kind = CExprKind::Invalid;
  n.type = p_.types.error();
  n.range = range;
  return p_.addExpr(n, {});
}

CExprId Checker::make(CExprKind kind, TypeId type, SourceRange range, const std::vector<CExprId>& kids, uint32_t a,
                      uint32_t b, uint8_t op, uint8_t flags) {
  if (++unit_.nodes > options_.maxInlinedNodes) {
    overBudget(range);
    return invalid(range);
  }
  CExpr n{};
  n.kind = kind;
  n.op = op;
  n.flags = flags;
  n.type = type;
  n.a = a;
  n.b = b;
  n.range = range;
  return fold(p_.addExpr(n, kids));
}

CExprId Checker::literal(ConstValue v, SourceRange range) {
  TypeId type = v.type;
  ConstId id = p_.addConstant(std::move(v));
  return make(CExprKind::Literal, type, range, {}, id.value);
}

bool Checker::isEntity(TypeId t) const {
  TypeKind k = p_.types.kind(t);
  return k == TypeKind::Principal || k == TypeKind::Request;
}

bool Checker::isEmptyCollection(TypeId t) const {
  const Type& ty = p_.types.get(t);
  return (ty.kind == TypeKind::Set || ty.kind == TypeKind::Map) && ty.elem == p_.types.never();
}

bool Checker::coerce(CExprId e, TypeId want) {
  TypeId have = typeOf(e);
  if (have == want) return true;
  if (!isEmptyCollection(have) || p_.types.kind(have) != p_.types.kind(want) || isEmptyCollection(want)) return false;
  CExpr& n = p_.exprs[e.value];
  if (n.kind == CExprKind::Literal) {
    p_.constants[n.a].type = want;
  } else if (n.kind == CExprKind::If) {
    coerce(p_.child(e, 1), want);
    coerce(p_.child(e, 2), want);
  } else {
    return false;
  }
  p_.exprs[e.value].type = want;
  return true;
}

bool Checker::expect(CExprId e, TypeId want, std::string_view what) {
  if (isError(e) || p_.types.containsError(want)) return false;
  if (coerce(e, want)) return true;
  if (isEntity(typeOf(e))) {
    requireValue(e);  // reports "cannot be used as a value"
    return false;
  }
  DiagBuilder d = report(msg::ExpectedType, p_.expr(e).range, what, tname(want), tname(typeOf(e)));
  TypeKind wk = p_.types.kind(want), hk = p_.types.kind(typeOf(e));
  if (wk == TypeKind::Duration && hk == TypeKind::Int) d.note("write durations with a unit, like `30m` or `4h`");
  return false;
}

bool Checker::requireValue(CExprId e) {
  if (isError(e)) return false;
  TypeId t = typeOf(e);
  if (isEntity(t)) {
    report(msg::EntityAsValue, p_.expr(e).range, text(p_.expr(e).range), typeKindName(p_.types.kind(t)));
    return false;
  }
  if (isEmptyCollection(t)) {
    report(msg::ElementTypeUnknown, p_.expr(e).range, text(p_.expr(e).range))
        .note("compare with a typed value instead, like `request.tags.isEmpty()`");
    return false;
  }
  return true;
}

std::vector<ast::ExprId> Checker::children(ast::ExprId e) const {
  std::vector<ast::ExprId> out;
  for (uint32_t i = 0; i < ast_.numChildren(e); ++i) out.push_back(ast_.child(e, i));
  return out;
}

// ---- dispatch -------------------------------------------------------------------------------

CExprId Checker::check(ast::ExprId e) {
  if (depth_ >= kMaxCheckDepth) {
    report(msg::ExpressionTooDeep, ast_.expr(e).range);
    return invalid(ast_.expr(e).range);
  }
  ++depth_;
  CExprId r = checkInner(e);
  --depth_;
  p_.astExprTypes[e.value] = typeOf(r);
  return r;
}

CExprId Checker::checkObject(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  if (n.kind != ast::ExprKind::Principal && n.kind != ast::ExprKind::Request && n.kind != ast::ExprKind::Context)
    return check(e);
  CExprId r = checkRoot(n, true);
  p_.astExprTypes[e.value] = typeOf(r);
  return r;
}

CExprId Checker::checkInner(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  using K = ast::ExprKind;
  switch (n.kind) {
    case K::BoolLit:
    case K::IntLit:
    case K::StringLit:
    case K::DurationLit:
    case K::TimestampLit: return checkLiteral(n);
    case K::Name: return checkName(e, false);
    case K::Call: return checkCall(e);
    case K::Principal:
    case K::Request:
    case K::Context: return checkRoot(n, false);
    case K::Member: return checkMember(e, false);
    case K::MethodCall: return checkMethodCallNode(e);
    case K::Index: return checkIndex(e);
    case K::Not: return checkNot(e);
    case K::Neg: return checkNeg(e);
    case K::And: return checkAndOr(e, true);
    case K::Or: return checkAndOr(e, false);
    case K::Compare: return checkCompare(e);
    case K::Add: return checkAddSub(e, true);
    case K::Sub: return checkAddSub(e, false);
    case K::In: return checkIn(e);
    case K::Like: return checkLike(e);
    case K::Is: return checkIs(e);
    case K::Has: return checkHas(e);
    case K::Any: return checkQuantifier(e, true);
    case K::All: return checkQuantifier(e, false);
    case K::If: return checkIf(e);
    case K::SetLit: return checkSetLit(e);
    case K::MapLit: return checkMapLit(e);
    case K::LikePattern:
    case K::Error: break;
  }
  return invalid(n.range);
}

CExprId Checker::checkLiteral(const ast::ExprNode& n) {
  using K = ast::ExprKind;
  using VK = ConstValue::Kind;
  switch (n.kind) {
    case K::BoolLit: return literal(ConstValue::boolean(p_.types.boolean(), n.intValue != 0), n.range);
    case K::IntLit: return literal(ConstValue::integer(VK::Int, p_.types.integer(), n.intValue), n.range);
    case K::StringLit: return literal(ConstValue::string(p_.types.string(), std::string(ast_.str(n.symbol))), n.range);
    case K::DurationLit: return literal(ConstValue::integer(VK::Duration, p_.types.duration(), n.intValue), n.range);
    default: return literal(ConstValue::integer(VK::Timestamp, p_.types.timestamp(), n.intValue), n.range);
  }
}

// ---- roots and names ------------------------------------------------------------------------

CExprId Checker::checkRoot(const ast::ExprNode& n, bool asObject) {
  using K = ast::ExprKind;
  std::string_view name = n.kind == K::Principal ? "principal" : n.kind == K::Request ? "request" : "context";
  UnitScope::Kind scope = unit_.scope.kind;
  if (scope == UnitScope::Kind::Const || scope == UnitScope::Kind::Test ||
      (scope == UnitScope::Kind::Def && n.kind != K::Context)) {
    DiagBuilder d = report(msg::RootNotInScope, n.range, name, unit_.scope.what);
    if (scope == UnitScope::Kind::Def) d.note("pass it as a parameter, like `def f(p: Human): Bool = …`");
    return invalid(n.range);
  }
  if (n.kind == K::Context) {
    if (!asObject) {
      report(msg::ContextAsValue, n.range);
      return invalid(n.range);
    }
    return make(CExprKind::Root, p_.types.never(), n.range, {}, 0, 0, static_cast<uint8_t>(Root::Context));
  }
  if (n.kind == K::Principal)
    return make(CExprKind::Root, principalValueType(), n.range, {}, 0, 0, static_cast<uint8_t>(Root::Principal));
  return make(CExprKind::Root, requestValueType(), n.range, {}, 0, 0, static_cast<uint8_t>(Root::Request));
}

CExprId Checker::checkValueHead(const Resolved& r, ast::NameId name, SourceRange range) {
  using RK = Resolved::Kind;
  if (r.kind == RK::Local) {
    const Local& l = unit_.locals[r.index];
    return make(l.isParam ? CExprKind::Param : CExprKind::Var, l.type, range, {}, l.index);
  }
  if (r.kind == RK::EnumMember) {
    EnumId en = enumOf_.at(r.decl.value);
    return literal(ConstValue::integer(ConstValue::Kind::Enum, p_.types.enumType(en), r.index), range);
  }
  if (r.kind == RK::Decl && ast_.decl(r.decl).kind == ast::DeclKind::Const) {
    std::optional<ConstId> c = constValue(r.decl);
    if (!c) return invalid(range);
    ConstValue v = p_.constant(*c);
    return literal(std::move(v), range);
  }
  if (r.kind == RK::Decl && ast_.decl(r.decl).kind == ast::DeclKind::Table) {
    TableId t = tableOf_.at(r.decl.value);
    const TableInfo& info = p_.tables[t.value];
    if (p_.types.isError(info.type)) return invalid(range);
    return make(CExprKind::Table, info.type, range, {}, t.value);
  }
  std::string shown = r.path.empty() ? ast_.nameText(name) : r.path;
  if (r.kind == RK::Namespace) {
    report(msg::NamespaceAsValue, range, shown);
  } else if (r.kind == RK::Decl && ast_.decl(r.decl).kind == ast::DeclKind::Def) {
    report(msg::DefNotCalled, range, shown);
  } else if (r.kind == RK::Decl) {
    ast::DeclKind k = ast_.decl(r.decl).kind;
    bool isType = k == ast::DeclKind::Enum || k == ast::DeclKind::Principal || k == ast::DeclKind::Request ||
                  k == ast::DeclKind::Record;
    report(msg::DeclAsValue, range, shown, isType ? "a type" : "a " + std::string(ast::declKindName(k)));
  }
  return invalid(range);
}

CExprId Checker::checkName(ast::ExprId e, bool forHas) {
  const ast::ExprNode& n = ast_.expr(e);
  Resolved r = resolve(n.name, true);
  if (r.kind == Resolved::Kind::Error) return invalid(n.range);
  const uint32_t total = ast_.name(n.name).numSegments;
  CExprId cur = checkValueHead(r, n.name, segRange(n.name, 0, r.consumed));
  for (uint32_t i = r.consumed; i < total && !isError(cur); ++i) {
    const ast::NameSegment& seg = ast_.segment(n.name, i);
    cur = memberAccess(cur, ast_.str(seg.name), seg.range, segRange(n.name, 0, i + 1), forHas && i + 1 == total);
  }
  return isError(cur) ? invalid(n.range) : cur;
}

// ---- attribute access -------------------------------------------------------------------------

CExprId Checker::checkMember(ast::ExprId e, bool forHas) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId object = checkObject(ast_.child(e, 0));
  std::string_view attr = ast_.str(n.symbol);
  SourceRange nameRange = n.range;
  if (n.range.end - n.range.begin >= attr.size()) nameRange.begin = n.range.end - static_cast<uint32_t>(attr.size());
  return memberAccess(object, attr, nameRange, n.range, forHas);
}

CExprId Checker::memberAccess(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange,
                              bool forHas) {
  const CExpr o = p_.expr(object);
  CExprId result;
  if (o.kind == CExprKind::Root) {
    switch (o.root()) {
      case Root::Principal: result = principalAttr(object, attr, nameRange, fullRange); break;
      case Root::Request: result = requestAttr(object, attr, nameRange, fullRange); break;
      default: result = contextAttr(attr, nameRange, fullRange); break;
    }
  } else if (isError(object)) {
    return invalid(fullRange);
  } else if (p_.types.kind(o.type) == TypeKind::Record) {
    result = recordField(object, attr, nameRange, fullRange);
  } else if (o.kind == CExprKind::Param && isEntity(o.type)) {
    const Type& t = p_.types.get(o.type);
    if (t.kind == TypeKind::Principal) {
      const PrincipalInfo& info = p_.principals[t.index];
      result = entityAttr(object, info.attrs, "principal type " + bt(info.name), attr, nameRange, fullRange, info.decl);
    } else {
      const RequestInfo& info = p_.requests[t.index];
      result = entityAttr(object, info.attrs, "request type " + bt(info.name), attr, nameRange, fullRange, info.decl);
    }
  } else {
    DiagBuilder d = report(msg::NoSuchAttribute, nameRange, tname(o.type), attr);
    for (const BuiltinMethod& m : builtinMethods())
      if (!m.takesArgument && m.name == attr) {
        d.note("methods are called with parentheses: `" + text(fullRange) + "()`");
        break;
      }
    return invalid(fullRange);
  }
  if (isError(result)) return result;
  return guardOptional(result, fullRange, forHas);
}

CExprId Checker::recordField(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange) {
  const RecordInfo& rec = p_.records[p_.types.get(typeOf(object)).index];
  for (uint32_t i = 0; i < rec.attrs.size(); ++i) {
    const AttrInfo& a = rec.attrs[i];
    if (a.name != attr) continue;
    addRef(nameRange, RefKind::Attribute, rec.decl, i, a.range);
    return make(CExprKind::Field, a.type, fullRange, {object}, p_.intern(a.name).value, i, 0,
                a.optional ? CExpr::kOptional : 0);
  }
  DiagBuilder d = report(msg::UnknownRecordAttribute, nameRange, attr, rec.name);
  std::vector<std::string> names;
  for (const AttrInfo& a : rec.attrs) names.push_back(a.name);
  suggest(d, attr, names, nameRange);
  return invalid(fullRange);
}

CExprId Checker::makeAttr(CExprId object, const AttrInfo& a, TypeId type, bool optional, SourceRange range) {
  const CExpr& o = p_.expr(object);
  Root root = o.kind == CExprKind::Param ? Root::Param : o.root();
  uint32_t param = o.kind == CExprKind::Param ? o.a : 0;
  return make(CExprKind::Attr, type, range, {}, p_.intern(a.name).value, param, static_cast<uint8_t>(root),
              optional ? CExpr::kOptional : 0);
}

CExprId Checker::entityAttr(CExprId object, const std::vector<AttrInfo>& attrs, std::string_view owner,
                            std::string_view attr, SourceRange nameRange, SourceRange fullRange, ast::DeclId decl) {
  for (uint32_t i = 0; i < attrs.size(); ++i) {
    if (attrs[i].name != attr) continue;
    addRef(nameRange, RefKind::Attribute, decl, i, attrs[i].range);
    return makeAttr(object, attrs[i], attrs[i].type, attrs[i].optional, fullRange);
  }
  DiagBuilder d = report(msg::UnknownAttributeOn, nameRange, attr, owner);
  std::vector<std::string> names;
  for (const AttrInfo& a : attrs) names.push_back(a.name);
  suggest(d, attr, names, nameRange);
  return invalid(fullRange);
}

CExprId Checker::contextAttr(std::string_view attr, SourceRange nameRange, SourceRange fullRange) {
  CExpr root{};
  root.op = static_cast<uint8_t>(Root::Context);
  root.kind = CExprKind::Root;
  CExprId object = p_.addExpr(root, {});
  return entityAttr(object, p_.context.attrs, "`context`", attr, nameRange, fullRange, p_.context.decl);
}

CExprId Checker::principalAttr(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange) {
  std::vector<PrincipalId> possible = possiblePrincipals();
  if (possible.size() == 1) {
    const PrincipalInfo& info = p_.principals[possible[0].value];
    return entityAttr(object, info.attrs, "principal type " + bt(info.name), attr, nameRange, fullRange, info.decl);
  }
  std::vector<std::string> lacking, having;
  const AttrInfo* first = nullptr;
  bool optional = false;
  for (PrincipalId p : possible) {
    const AttrInfo* a = p_.principals[p.value].attr(attr);
    (a ? having : lacking).push_back(p_.principals[p.value].name);
    if (!a) continue;
    optional |= a->optional;
    if (!first) {
      first = a;
      addRef(nameRange, RefKind::Attribute, p_.principals[p.value].decl,
             static_cast<uint32_t>(a - p_.principals[p.value].attrs.data()), a->range);
    } else if (a->type != first->type) {
      report(msg::PrincipalAttributeTypesDiffer, fullRange, attr, tname(first->type), tname(a->type),
             p_.principals[p.value].name)
          .note("narrow `principal` first with `principal is …`");
      return invalid(fullRange);
    }
  }
  if (lacking.empty() && first) return makeAttr(object, *first, first->type, optional, fullRange);
  if (having.empty()) {
    DiagBuilder d = report(msg::UnknownPrincipalAttribute, nameRange, attr, lacking);
    std::vector<std::string> names;
    for (PrincipalId p : possible)
      for (const AttrInfo& a : p_.principals[p.value].attrs) names.push_back(a.name);
    suggest(d, attr, names, nameRange);
    return invalid(fullRange);
  }
  report(msg::PrincipalAttributeNotEverywhere, nameRange, attr, lacking, lacking.size())
      .note("narrow `principal` first, like `principal is " + having[0] + " and " + text(fullRange) + " …`");
  return invalid(fullRange);
}

CExprId Checker::requestAttr(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange) {
  const std::vector<RequestId>& targets = unit_.scope.targets;
  if (targets.size() == 1) {
    const RequestInfo& info = p_.requests[targets[0].value];
    return entityAttr(object, info.attrs, "request type " + bt(info.name), attr, nameRange, fullRange, info.decl);
  }
  std::vector<std::string> lacking;
  const AttrInfo* first = nullptr;
  bool optional = false;
  for (RequestId t : targets) {
    const AttrInfo* a = p_.requests[t.value].attr(attr);
    if (!a) {
      lacking.push_back(p_.requests[t.value].name);
      continue;
    }
    optional |= a->optional;
    if (!first) {
      first = a;
      addRef(nameRange, RefKind::Attribute, p_.requests[t.value].decl,
             static_cast<uint32_t>(a - p_.requests[t.value].attrs.data()), a->range);
    } else if (a->type != first->type) {
      report(msg::TargetAttributeTypesDiffer, fullRange, attr, tname(first->type), tname(a->type),
             p_.requests[t.value].name);
      return invalid(fullRange);
    }
  }
  if (lacking.empty() && first) return makeAttr(object, *first, first->type, optional, fullRange);
  DiagBuilder d = report(unit_.scope.onStar ? msg::OnStarAttribute : msg::TargetAttributeNotEverywhere, nameRange, attr,
                         lacking, lacking.size());
  if (!first) {
    std::vector<std::string> names;
    for (const AttrInfo& a : p_.requests[targets.empty() ? 0 : targets[0].value].attrs) names.push_back(a.name);
    if (!targets.empty()) suggest(d, attr, names, nameRange);
  }
  return invalid(fullRange);
}

CExprId Checker::guardOptional(CExprId attr, SourceRange range, bool forHas) {
  const CExpr& a = p_.expr(attr);
  if ((a.kind != CExprKind::Attr && a.kind != CExprKind::Field) || !a.optional() || forHas || hasFact(attr))
    return attr;
  std::string t = text(range);
  report(msg::OptionalUnguarded, range, t).note("guard it: `has(" + t + ") and " + t + " …`");
  return attr;
}

CExprId Checker::checkHas(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  ast::ExprId inner = ast_.child(e, 0);
  ast::ExprKind k = ast_.expr(inner).kind;
  if (k != ast::ExprKind::Member && k != ast::ExprKind::Name) {
    check(inner);
    report(msg::HasNeedsAttribute, ast_.expr(inner).range);
    return invalid(n.range);
  }
  CExprId attr = k == ast::ExprKind::Member ? checkMember(inner, true) : checkName(inner, true);
  p_.astExprTypes[inner.value] = typeOf(attr);
  if (isError(attr)) return invalid(n.range);
  const CExpr& a = p_.expr(attr);
  if (a.kind != CExprKind::Attr && a.kind != CExprKind::Field) {
    report(msg::HasNeedsAttribute, ast_.expr(inner).range);
    return invalid(n.range);
  }
  if (!a.optional()) {
    report(msg::HasOnRequired, ast_.expr(inner).range, text(ast_.expr(inner).range));
    return invalid(n.range);
  }
  return make(CExprKind::Has, p_.types.boolean(), n.range, {attr});
}

}  // namespace pave::sema::internal
