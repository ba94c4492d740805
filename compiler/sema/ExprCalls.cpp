// Calls: built-in methods (SPEC §4.3), `ip`/`cidr`, and def calls (inlined).
#include <algorithm>

#include "sema/Builtins.h"
#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {

enum class ArgRule : uint8_t { None, String, Elem, SameSet };

struct MethodSig {
  std::string_view name;
  TypeKind receiver;
  CExprKind kind;
  ArgRule arg;
  TypeKind result;
};

constexpr MethodSig kMethods[] = {
#define PAVE_METHOD(name, receiver, kind, arg, result, signature) \
  {#name, TypeKind::receiver, CExprKind::kind, ArgRule::arg, TypeKind::result},
#include "sema/builtins.def"
};

std::string plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

CExprId Checker::checkCall(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  std::vector<ast::ExprId> args = children(e);
  const uint32_t total = ast_.name(n.name).numSegments;
  std::string_view head = ast_.str(ast_.segment(n.name, 0).name);
  if (total == 1 && (head == "ip" || head == "cidr")) return checkBuiltinIpCidr(head, args, n.range);

  Resolved r = resolve(n.name, true);
  auto checkArgsAnyway = [&] {
    for (ast::ExprId a : args) check(a);
    return invalid(n.range);
  };
  if (r.kind == Resolved::Kind::Error) return checkArgsAnyway();
  SourceRange nameRange = ast_.name(n.name).range;
  if (r.consumed == total) {
    if (r.kind == Resolved::Kind::Decl && ast_.decl(r.decl).kind == ast::DeclKind::Def)
      return checkDefCall(r.decl, args, n.range, nameRange);
    std::string shown = r.kind == Resolved::Kind::Local ? ast_.nameText(n.name) : r.path;
    report(r.kind == Resolved::Kind::Namespace ? DiagKind::UnknownName : DiagKind::TypeMismatch, nameRange,
           bt(shown) + " is not a function");
    return checkArgsAnyway();
  }
  // A value followed by member accesses and a method: `s.startsWith(…)`, `r.account.size()`.
  CExprId cur = checkValueHead(r, n.name, segRange(n.name, 0, r.consumed));
  for (uint32_t i = r.consumed; i + 1 < total && !isError(cur); ++i) {
    const ast::NameSegment& seg = ast_.segment(n.name, i);
    cur = memberAccess(cur, ast_.str(seg.name), seg.range, segRange(n.name, 0, i + 1), false);
  }
  if (isError(cur)) return checkArgsAnyway();
  const ast::NameSegment& method = ast_.segment(n.name, total - 1);
  return checkMethod(cur, ast_.str(method.name), method.range, args, n.range);
}

CExprId Checker::checkMethodCallNode(ast::ExprId e) {
  const ast::ExprNode& n = ast_.expr(e);
  std::vector<ast::ExprId> kids = children(e);
  CExprId receiver = check(kids[0]);
  std::vector<ast::ExprId> args(kids.begin() + 1, kids.end());
  std::string_view method = ast_.str(n.symbol);
  return checkMethod(receiver, method, n.range, args, n.range);
}

CExprId Checker::checkMethod(CExprId receiver, std::string_view method, SourceRange methodRange,
                             const std::vector<ast::ExprId>& args, SourceRange range) {
  std::vector<CExprId> argValues;
  bool bad = false;
  for (ast::ExprId a : args) {
    argValues.push_back(check(a));
    bad |= isError(argValues.back());
  }
  if (isError(receiver) || !requireValue(receiver)) return invalid(range);
  const Type& rt = p_.types.get(typeOf(receiver));
  const MethodSig* sig = nullptr;
  std::vector<std::string> names, receivers;
  for (const MethodSig& m : kMethods) {
    names.emplace_back(m.name);
    if (m.name != method) continue;
    receivers.push_back("`" + std::string(typeKindName(m.receiver)) + "`");
    if (m.receiver == rt.kind) sig = &m;
  }
  if (receivers.empty()) {
    DiagBuilder d = report(DiagKind::UnknownName, methodRange, "unknown method " + bt(method));
    suggest(d, method, names, {});
    return invalid(range);
  }
  if (!sig) {
    std::string list;
    for (size_t i = 0; i < receivers.size(); ++i) list += (i ? " or " : "") + receivers[i];
    report(DiagKind::TypeMismatch, range,
           bt(std::string(method) + "()") + " applies to " + list + ", not to " + bt(tname(typeOf(receiver))));
    return invalid(range);
  }
  size_t want = sig->arg == ArgRule::None ? 0 : 1;
  if (args.size() != want) {
    report(DiagKind::TypeMismatch, range,
           bt(method) + " takes " + plural(want, "argument") + ", " + std::to_string(args.size()) + " given");
    return invalid(range);
  }
  if (bad) return invalid(range);
  if (want == 1) {
    TypeId argType = sig->arg == ArgRule::String ? p_.types.string()
                     : sig->arg == ArgRule::Elem ? rt.elem
                                                 : typeOf(receiver);
    if (!expect(argValues[0], argType, "the argument of " + bt(method)))
      return invalid(range);
  }
  TypeId result = sig->result == TypeKind::Bool     ? p_.types.boolean()
                  : sig->result == TypeKind::Int    ? p_.types.integer()
                  : sig->result == TypeKind::String ? p_.types.string()
                                                    : p_.types.timestamp();
  std::vector<CExprId> kids{receiver};
  kids.insert(kids.end(), argValues.begin(), argValues.end());
  return make(sig->kind, result, range, kids);
}

CExprId Checker::checkBuiltinIpCidr(std::string_view fn, const std::vector<ast::ExprId>& args, SourceRange range) {
  if (args.size() != 1) {
    for (ast::ExprId a : args) check(a);
    report(DiagKind::TypeMismatch, range, bt(fn) + " takes 1 argument, " + std::to_string(args.size()) + " given");
    return invalid(range);
  }
  const ast::ExprNode& arg = ast_.expr(args[0]);
  if (arg.kind != ast::ExprKind::StringLit) {
    check(args[0]);
    report(DiagKind::InvalidLiteral, arg.range, "the argument of " + bt(fn) + " must be a string literal")
        .note(fn == "ip" ? "like `ip(\"10.1.2.3\")`" : "like `cidr(\"10.0.0.0/8\")`");
    return invalid(range);
  }
  p_.astExprTypes[args[0].value] = p_.types.string();
  std::string_view text = ast_.str(arg.symbol);
  ConstValue v;
  if (fn == "ip") {
    auto ip = parseIp(text);
    if (!ip) {
      report(DiagKind::InvalidLiteral, arg.range, bt(std::string(text)) + " is not a valid IPv4 or IPv6 address");
      return invalid(range);
    }
    v.kind = ConstValue::Kind::Ip;
    v.type = p_.types.ip();
    v.ip = *ip;
  } else {
    std::string why;
    auto net = parseCidr(text, &why);
    if (!net) {
      report(DiagKind::InvalidLiteral, arg.range, bt(std::string(text)) + " is not a valid network: " + why);
      return invalid(range);
    }
    v.kind = ConstValue::Kind::Cidr;
    v.type = p_.types.cidr();
    v.ip = *net;
  }
  return literal(std::move(v), range);
}

bool Checker::checkEntityArg(CExprId arg, TypeId param, SourceRange range) {
  TypeId have = typeOf(arg);
  if (have == param) return true;
  const CExpr& a = p_.expr(arg);
  const Type& pt = p_.types.get(param);
  if (a.kind == CExprKind::Root && a.root() == Root::Principal && pt.kind == TypeKind::Principal) {
    std::vector<PrincipalId> possible = possiblePrincipals();
    bool can = std::find(possible.begin(), possible.end(), PrincipalId{pt.index}) != possible.end();
    std::string want = p_.principals[pt.index].name;
    if (!can)
      report(DiagKind::TypeMismatch, range, "`principal` is never a " + bt(want) + " here");
    else
      report(DiagKind::TypeMismatch, range, "`principal` may be another type than " + bt(want) + " here")
          .note("narrow it first: `principal is " + want + " and …`");
    return false;
  }
  if (a.kind == CExprKind::Root && a.root() == Root::Request && pt.kind == TypeKind::Request) {
    report(DiagKind::TypeMismatch, range,
           "`request` is not always a " + bt(p_.requests[pt.index].name) + " in this rule")
        .note("the parameter needs exactly that request type; the rule's targets are not only that type");
    return false;
  }
  report(DiagKind::TypeMismatch, range, "expected " + bt(tname(param)) + ", found " + bt(tname(have)));
  return false;
}

CExprId Checker::checkDefCall(ast::DeclId def, const std::vector<ast::ExprId>& args, SourceRange range,
                              SourceRange nameRange) {
  std::vector<CExprId> values;
  bool bad = false;
  for (ast::ExprId a : args) {
    values.push_back(check(a));
    bad |= isError(values.back());
  }
  if (!ensureDef(def)) return invalid(range);
  const DefInfo& info = p_.defs[defOf_.at(def.value).value];
  if (args.size() != info.params.size()) {
    report(DiagKind::TypeMismatch, range,
           "def " + bt(info.name) + " takes " + plural(info.params.size(), "argument") + ", " +
               std::to_string(args.size()) + " given");
    return invalid(range);
  }
  for (size_t i = 0; i < values.size() && !bad; ++i) {
    TypeId want = info.params[i].second;
    bool ok = isEntity(want) ? checkEntityArg(values[i], want, p_.expr(values[i]).range)
                             : expect(values[i], want, "argument `" + info.params[i].first + "` of " + bt(info.name));
    bad |= !ok;
  }
  if (bad) return invalid(range);
  uint32_t offset = unit_.numVars;
  unit_.numVars += info.numVars;
  CExprId body = info.body;  // `info` may move while substituting (nested defs are checked)
  CExprId result = substitute(body, values, offset, 0);
  if (!isError(result)) p_.exprs[result.value].range = range;
  return result;
}

}  // namespace pave::sema::internal

namespace pave::sema {

std::span<const BuiltinMethod> builtinMethods() {
  using internal::ArgRule;
  static constexpr BuiltinMethod kAll[] = {
#define PAVE_METHOD(name, receiver, kind, arg, result, signature) \
  {#name, TypeKind::receiver, TypeKind::result, ArgRule::arg != ArgRule::None, signature},
#include "sema/builtins.def"
  };
  return kAll;
}

}  // namespace pave::sema
