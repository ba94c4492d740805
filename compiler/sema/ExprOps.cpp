// Operators (SPEC §4.3): logic, comparison, arithmetic, membership, `like`, `is`, indexing,
// `if`, quantifiers and set/map literals.
#include <algorithm>

#include "sema/internal/Checker.h"

namespace pave::sema::internal {

CExprId Checker::checkBool(ast::ExprId e, std::string_view what) {
  CExprId c = check(e);
  if (isError(c)) return c;
  if (!expect(c, p_.types.boolean(), what)) return invalid(ast_.expr(e).range);
  return c;
}

CExprId Checker::checkNot(ast::ExprId e) {
  CExprId c = checkBool(ast_.child(e, 0), "the operand of `not`");
  if (isError(c)) return invalid(ast_.expr(e).range);
  return make(CExprKind::Not, p_.types.boolean(), ast_.expr(e).range, {c});
}

CExprId Checker::checkNeg(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId c = check(ast_.child(e, 0));
  if (isError(c) || !requireValue(c)) return invalid(n.range);
  TypeKind k = p_.types.kind(typeOf(c));
  if (k != TypeKind::Int && k != TypeKind::Duration) {
    report(msg::CannotNegate, n.range, tname(typeOf(c))).note("`-` applies to `Int` and `Duration`");
    return invalid(n.range);
  }
  return make(CExprKind::Neg, typeOf(c), n.range, {c});
}

std::vector<CExprId> Checker::checkConjunction(const std::vector<ast::ExprId>& operands, std::string_view what) {
  std::vector<CExprId> out;
  for (ast::ExprId op : operands) {
    CExprId c = checkBool(op, what);
    out.push_back(c);
    if (!isError(c)) addFactsOf(c);  // known true in the operands that follow
  }
  return out;
}

CExprId Checker::checkAndOr(ast::ExprId e, bool isAnd) {
  const ast::ExprNode& n = ast_.expr(e);
  std::vector<CExprId> kids;
  if (isAnd) {
    FlowMark mark(*this);
    kids = checkConjunction(children(e), "an operand of `and`");
  } else {
    for (ast::ExprId op : children(e)) {
      FlowMark mark(*this);  // a guard inside `or` does not count (SPEC §4.4)
      kids.push_back(checkBool(op, "an operand of `or`"));
    }
  }
  for (CExprId k : kids)
    if (isError(k)) return invalid(n.range);
  return make(isAnd ? CExprKind::And : CExprKind::Or, p_.types.boolean(), n.range, kids);
}

CExprId Checker::checkCompare(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  auto op = static_cast<ast::CompareOp>(n.op);
  CExprId l = check(ast_.child(e, 0)), r = check(ast_.child(e, 1));
  if (isError(l) || isError(r)) return invalid(n.range);
  coerce(l, typeOf(r));
  coerce(r, typeOf(l));
  if (!requireValue(l) || !requireValue(r)) return invalid(n.range);
  TypeId lt = typeOf(l), rt = typeOf(r);
  std::string spelled(ast::compareOpSpelling(op));
  if (lt != rt) {
    DiagBuilder d = report(msg::CannotCompare, n.range, tname(lt), tname(rt), spelled);
    TypeKind lk = p_.types.kind(lt), rk = p_.types.kind(rt);
    if ((lk == TypeKind::Duration && rk == TypeKind::Int) || (lk == TypeKind::Int && rk == TypeKind::Duration))
      d.note("write durations with a unit, like `4h` or `30m`");
    if (lk == TypeKind::Enum && rk == TypeKind::Enum) d.note("members of different enums are never equal");
    return invalid(n.range);
  }
  if (holdsRecord(lt)) {
    report(msg::CompareRows, n.range, spelled)
        .note("compare their attributes, like `accounts[a].owner == accounts[b].owner`");
    return invalid(n.range);
  }
  if (op != ast::CompareOp::Eq && op != ast::CompareOp::Ne) {
    TypeKind k = p_.types.kind(lt);
    if (k != TypeKind::Int && k != TypeKind::Duration && k != TypeKind::Timestamp) {
      report(msg::CannotOrder, n.range, spelled, tname(lt))
          .note("`<`, `<=`, `>` and `>=` compare `Int`, `Duration` and `Timestamp` values");
      return invalid(n.range);
    }
  }
  return make(CExprKind::Compare, p_.types.boolean(), n.range, {l, r}, 0, lt.value, n.op);
}

CExprId Checker::checkAddSub(ast::ExprId e, bool isAdd) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId l = check(ast_.child(e, 0)), r = check(ast_.child(e, 1));
  if (isError(l) || isError(r) || !requireValue(l) || !requireValue(r)) return invalid(n.range);
  TypeKind lk = p_.types.kind(typeOf(l)), rk = p_.types.kind(typeOf(r));
  auto same = [&](TypeKind k) { return lk == k && rk == k; };
  const TypeTable& t = p_.types;
  if (same(TypeKind::Int) || same(TypeKind::Duration))
    return make(isAdd ? CExprKind::Add : CExprKind::Sub, typeOf(l), n.range, {l, r});
  if (lk == TypeKind::Timestamp && rk == TypeKind::Duration)
    return make(isAdd ? CExprKind::Add : CExprKind::Sub, t.timestamp(), n.range, {l, r});
  if (!isAdd && same(TypeKind::Timestamp)) return make(CExprKind::Sub, t.duration(), n.range, {l, r});
  if (isAdd && same(TypeKind::String)) return make(CExprKind::Concat, t.string(), n.range, {l, r});
  DiagBuilder d = isAdd ? report(msg::CannotAdd, n.range, tname(typeOf(l)), tname(typeOf(r)))
                        : report(msg::CannotSubtract, n.range, tname(typeOf(r)), tname(typeOf(l)));
  if ((lk == TypeKind::Duration || lk == TypeKind::Timestamp) && rk == TypeKind::Int)
    d.note("write durations with a unit, like `30m`");
  else
    d.note(isAdd ? "`+` adds `Int`s, `Duration`s, a `Duration` to a `Timestamp`, or joins `String`s"
                 : "`-` subtracts `Int`s, `Duration`s, a `Duration` from a `Timestamp`, or two `Timestamp`s");
  return invalid(n.range);
}

CExprId Checker::checkIn(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId x = check(ast_.child(e, 0)), c = check(ast_.child(e, 1));
  if (isError(x) || isError(c) || !requireValue(x)) return invalid(n.range);
  TypeId xt = typeOf(x);
  TypeKind ck = p_.types.kind(typeOf(c));
  if (ck == TypeKind::Set) {
    coerce(c, p_.types.setOf(xt));
    if (p_.types.get(typeOf(c)).elem == xt) return make(CExprKind::InSet, p_.types.boolean(), n.range, {x, c});
  } else if (ck == TypeKind::Cidr && p_.types.kind(xt) == TypeKind::Ip) {
    return make(CExprKind::InCidr, p_.types.boolean(), n.range, {x, c});
  } else if (ck == TypeKind::Map && xt == p_.types.string()) {
    return make(CExprKind::InMap, p_.types.boolean(), n.range, {x, c});
  }
  if (!requireValue(c)) return invalid(n.range);
  report(msg::CannotTestIn, n.range, tname(xt), tname(typeOf(c)))
      .note("`in` tests an element of a set, an `Ip` in a `Cidr`, or a `String` key of a map");
  return invalid(n.range);
}

CExprId Checker::checkLike(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId s = check(ast_.child(e, 0));
  if (isError(s) || !expect(s, p_.types.string(), "the left operand of `like`"))
    return invalid(n.range);
  const ast::ExprNode& pattern = ast_.expr(ast_.child(e, 1));
  return make(CExprKind::Like, p_.types.boolean(), n.range, {s}, p_.intern(ast_.str(pattern.symbol)).value);
}

CExprId Checker::checkIs(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId x = checkObject(ast_.child(e, 0));
  auto decl = resolveDeclName(n.name, {ast::DeclKind::Principal}, "principal type");
  if (isError(x) || !decl) return invalid(n.range);
  PrincipalId p = principalOf_.at(decl->value);
  const CExpr& o = p_.expr(x);
  if (o.kind == CExprKind::Param && p_.types.kind(o.type) == TypeKind::Principal) {
    // A parameter has exactly its declared principal type.
    return literal(ConstValue::boolean(p_.types.boolean(), p_.types.get(o.type).index == p.value), n.range);
  }
  if (o.kind != CExprKind::Root || o.root() != Root::Principal) {
    report(msg::IsNeedsPrincipal, n.range);
    return invalid(n.range);
  }
  const std::vector<PrincipalId>& allowed = unit_.scope.principals;
  if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) {
    std::string targets;
    for (RequestId t : unit_.scope.targets) targets += (targets.empty() ? "" : ", ") + bt(p_.requests[t.value].name);
    report(msg::PrincipalNeverHere, n.range, p_.principals[p.value].name)
        .note("the targets are " + targets + "; a request type lists the principal types it allows after `for`");
  }
  return make(CExprKind::IsPrincipal, p_.types.boolean(), n.range, {}, p.value);
}

CExprId Checker::checkIndex(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId m = check(ast_.child(e, 0)), k = check(ast_.child(e, 1));
  if (isError(m) || isError(k) || !requireValue(m)) return invalid(n.range);
  const Type& mt = p_.types.get(typeOf(m));
  if (mt.kind != TypeKind::Map) {
    report(msg::CannotIndex, n.range, tname(typeOf(m)))
        .note("only maps can be indexed, like `request.tags[\"owner\"]`");
    return invalid(n.range);
  }
  if (!expect(k, p_.types.string(), "a map key")) return invalid(n.range);
  if (!mapKeyFact(m, k)) {
    std::string key = text(p_.expr(k).range), map = text(p_.expr(m).range);
    report(msg::MapKeyMaybeAbsent, n.range, key, map)
        .note("guard it: `" + key + " in " + map + " and " + text(n.range) + " …`");
  }
  return make(CExprKind::MapIndex, mt.elem, n.range, {m, k});
}

CExprId Checker::checkIf(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  CExprId c = checkBool(ast_.child(e, 0), "the `if` condition");
  CExprId t, f;
  {
    FlowMark mark(*this);
    if (!isError(c)) addFactsOf(c);
    t = check(ast_.child(e, 1));
  }
  f = check(ast_.child(e, 2));
  if (isError(c) || isError(t) || isError(f)) return invalid(n.range);
  coerce(t, typeOf(f));
  coerce(f, typeOf(t));
  if (isEntity(typeOf(t)) && !requireValue(t)) return invalid(n.range);
  if (holdsRecord(typeOf(t))) {
    report(msg::IfBranchRows, n.range)
        .note("choose the attribute instead, like `if c then t[a].owner else t[b].owner`");
    return invalid(n.range);
  }
  if (typeOf(t) != typeOf(f)) {
    report(msg::IfBranchTypes, n.range, tname(typeOf(t)), tname(typeOf(f)));
    return invalid(n.range);
  }
  return make(CExprKind::If, typeOf(t), n.range, {c, t, f});
}

CExprId Checker::checkQuantifier(ast::ExprId e, bool isAny) {
  const ast::ExprNode& n = ast_.expr(e);
  std::string_view word = isAny ? "any" : "all";
  CExprId coll = check(ast_.child(e, 0));
  TypeId elem = p_.types.error();
  if (!isError(coll) && requireValue(coll)) {
    const Type& ct = p_.types.get(typeOf(coll));
    if (ct.kind == TypeKind::Set)
      elem = ct.elem;
    else
      report(msg::QuantifierOverNonSet, p_.expr(coll).range, word, tname(typeOf(coll)));
  }
  FlowMark mark(*this);
  uint32_t var = newVar();
  unit_.locals.push_back(Local{n.symbol, false, var, elem, n.range, {}});
  CExprId body = checkBool(ast_.child(e, 1), "the body of `" + std::string(word) + "`");
  if (p_.types.isError(elem) || isError(body)) return invalid(n.range);
  return make(isAny ? CExprKind::Any : CExprKind::All, p_.types.boolean(), n.range, {coll, body}, var);
}

CExprId Checker::checkSetLit(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  std::vector<CExprId> elems;
  bool bad = false;
  for (ast::ExprId c : children(e)) {
    elems.push_back(check(c));
    bad |= isError(elems.back());
  }
  if (bad) return invalid(n.range);
  if (elems.empty()) return literal(ConstValue::set(p_.types.setOf(p_.types.never()), {}), n.range);
  if (!requireValue(elems[0])) return invalid(n.range);
  TypeId t = typeOf(elems[0]);
  TypeKind k = p_.types.kind(t);
  if (k != TypeKind::String && k != TypeKind::Int && k != TypeKind::Ip && k != TypeKind::Enum) {
    report(msg::SetElementType, p_.expr(elems[0]).range, tname(t));
    return invalid(n.range);
  }
  for (CExprId x : elems)
    if (!expect(x, t, "every element of this set")) return invalid(n.range);
  return make(CExprKind::SetBuild, p_.types.setOf(t), n.range, elems);
}

CExprId Checker::checkMapLit(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  if (unit_.scope.kind != UnitScope::Kind::Test) {
    report(msg::MapLiteralOutsideTest, n.range);
    return invalid(n.range);
  }
  std::vector<ConstEntry> entries;
  TypeId valueType = p_.types.never();
  for (uint32_t i = 0; i + 1 < ast_.numChildren(e); i += 2) {
    const ast::ExprNode& key = ast_.expr(ast_.child(e, i));
    CExprId v = check(ast_.child(e, i + 1));
    if (isError(v) || !requireValue(v)) return invalid(n.range);
    if (valueType == p_.types.never()) {
      valueType = typeOf(v);
      TypeKind k = p_.types.kind(valueType);
      if (k != TypeKind::String && k != TypeKind::Int && k != TypeKind::Bool) {
        report(msg::MapValueType, p_.expr(v).range, tname(valueType));
        return invalid(n.range);
      }
    }
    if (!expect(v, valueType, "every value of this map")) return invalid(n.range);
    std::string k(ast_.str(key.symbol));
    for (const auto& [existing, _] : entries)
      if (existing == k) {
        report(msg::DuplicateMapKey, key.range, k);
        return invalid(n.range);
      }
    std::optional<ConstValue> value = constantOf(v, p_.expr(v).range, "a map value");
    if (!value) return invalid(n.range);
    entries.push_back({std::move(k), std::move(*value)});
  }
  return literal(ConstValue::map(p_.types.mapOf(valueType), std::move(entries)), n.range);
}

}  // namespace pave::sema::internal
