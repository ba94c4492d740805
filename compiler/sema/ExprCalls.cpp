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
    report(r.kind == Resolved::Kind::Namespace ? msg::NamespaceNotAFunction : msg::NotAFunction, nameRange, shown);
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
    DiagBuilder d = report(msg::UnknownMethod, methodRange, method);
    suggest(d, method, names, {});
    return invalid(range);
  }
  if (!sig) {
    std::string list;
    for (size_t i = 0; i < receivers.size(); ++i) list += (i ? " or " : "") + receivers[i];
    report(msg::MethodReceiver, range, method, list, tname(typeOf(receiver)));
    return invalid(range);
  }
  size_t want = sig->arg == ArgRule::None ? 0 : 1;
  if (args.size() != want) {
    report(msg::MethodArgumentCount, range, method, want, args.size());
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
    report(msg::BuiltinArgumentCount, range, fn, args.size());
    return invalid(range);
  }
  const ast::ExprNode& arg = ast_.expr(args[0]);
  if (arg.kind != ast::ExprKind::StringLit) {
    check(args[0]);
    report(msg::BuiltinNeedsStringLiteral, arg.range, fn)
        .note(fn == "ip" ? "like `ip(\"10.1.2.3\")`" : "like `cidr(\"10.0.0.0/8\")`");
    return invalid(range);
  }
  p_.astExprTypes[args[0].value] = p_.types.string();
  std::string_view text = ast_.str(arg.symbol);
  ConstValue v;
  if (fn == "ip") {
    auto ip = parseIp(text);
    if (!ip) {
      report(msg::InvalidIpAddress, arg.range, text);
      return invalid(range);
    }
    v.kind = ConstValue::Kind::Ip;
    v.type = p_.types.ip();
    v.ip = *ip;
  } else {
    std::string why;
    auto net = parseCidr(text, &why);
    if (!net) {
      report(msg::InvalidNetwork, arg.range, text, why);
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
      report(msg::PrincipalNeverType, range, want);
    else
      report(msg::PrincipalMaybeOtherType, range, want).note("narrow it first: `principal is " + want + " and …`");
    return false;
  }
  if (a.kind == CExprKind::Root && a.root() == Root::Request && pt.kind == TypeKind::Request) {
    report(msg::RequestNotAlwaysType, range, p_.requests[pt.index].name)
        .note("the parameter needs exactly that request type; the rule's targets are not only that type");
    return false;
  }
  report(msg::ArgumentType, range, tname(param), tname(have));
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
    report(msg::DefArgumentCount, range, info.name, info.params.size(), args.size());
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
