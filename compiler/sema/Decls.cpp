// Consts and defs (SPEC §2.2): checked on first use or in declaration order, whichever
// comes first, with recursion detection over the chain of declarations being checked.
#include <algorithm>

#include "sema/internal/Checker.h"

namespace pave::sema::internal {

void Checker::checkConstsAndDefs() {
  for (const DeclEntry& e : decls_) {
    ast::DeclKind k = ast_.decl(e.id).kind;
    if (k == ast::DeclKind::Const) constValue(e.id);
    if (k == ast::DeclKind::Def) ensureDef(e.id);
  }
}

void Checker::reportCycle(const std::vector<ast::DeclId>& stack, ast::DeclId again, std::string_view what) {
  auto start = std::find(stack.begin(), stack.end(), again);
  std::vector<ast::DeclId> cycle(start, stack.end());
  for (ast::DeclId d : cycle) inCycle_.insert(d.value);
  // Report once, at the cycle's first declaration in file/position order (SPEC §6).
  ast::DeclId first = *std::min_element(cycle.begin(), cycle.end(), [&](ast::DeclId a, ast::DeclId b) {
    return entry(a).order < entry(b).order;
  });
  if (!cycleReported_.insert(first.value).second) return;
  auto at = std::find(cycle.begin(), cycle.end(), first);
  std::rotate(cycle.begin(), at, cycle.end());
  std::string path;
  for (ast::DeclId d : cycle) path += bt(entry(d).qname) + " → ";
  path += bt(entry(first).qname);
  std::string saved = std::move(unit_.scope.ruleName);
  unit_.scope.ruleName.clear();
  DiagBuilder b = report(msg::RecursiveDecl, ast_.decl(first).range, what, entry(first).qname, path);
  for (ast::DeclId d : cycle)
    if (d != first) b.related("", ast_.decl(d).nameRange, bt(entry(d).qname) + " is part of the cycle");
  b.note("defs are inlined where they are called, so they cannot call themselves, directly or not");
  unit_.scope.ruleName = std::move(saved);
}

std::optional<ConstId> Checker::constValue(ast::DeclId id) {
  if (constState_[id.value] == CheckState::Unchecked) {
    if (declTooDeep(id)) {
      constState_[id.value] = CheckState::Failed;
      return std::nullopt;
    }
    checkConstDecl(id);
  }
  switch (constState_[id.value]) {
    case CheckState::Done: return constValue_.at(id.value);
    case CheckState::InProgress: reportCycle(declStack_, id, "const"); return std::nullopt;
    default: return std::nullopt;
  }
}

std::optional<ConstValue> Checker::constantOf(CExprId e, SourceRange range, std::string_view what) {
  if (isError(e)) return std::nullopt;
  std::optional<ConstValue> v = evaluate(e);
  if (!v) {
    report(msg::NotConstant, range, what).note("it overflows, reads an absent map key, or depends on the request");
  }
  return v;
}

void Checker::checkConstDecl(ast::DeclId id) {
  const DeclEntry& e = entry(id);
  const ast::Decl& d = ast_.decl(id);
  const ast::ConstDecl& c = ast_.consts[d.index];
  constState_[id.value] = CheckState::InProgress;
  declStack_.push_back(id);
  std::optional<ConstValue> value;
  TypeId type;
  {
    UnitGuard unit(*this, UnitScope{UnitScope::Kind::Const, {}, false, {}, {}, "const"}, d.file);
    type = resolveType(c.type, false, false, nullptr);
    CExprId v = check(c.value);
    if (!p_.types.containsError(type) && expect(v, type, "the value of const " + bt(e.qname)))
      value = constantOf(v, ast_.expr(c.value).range, "the value of const " + bt(e.qname));
  }
  declStack_.pop_back();
  if (!value || inCycle_.count(id.value)) {
    constState_[id.value] = CheckState::Failed;
    return;
  }
  constValue_[id.value] = p_.addConstant(*value);
  p_.consts.push_back({e.qname, type, std::move(*value), d.doc, id, d.range});
  constState_[id.value] = CheckState::Done;
}

namespace {
constexpr size_t kMaxDeclNesting = 200;  // defs/consts checked inside one another (stack guard)
}  // namespace

bool Checker::declTooDeep(ast::DeclId id) {
  if (declStack_.size() < kMaxDeclNesting) return false;
  report(msg::DeclNestedTooDeeply, ast_.decl(id).range, entry(id).qname, kMaxDeclNesting);
  return true;
}

bool Checker::ensureDef(ast::DeclId id) {
  if (defState_[id.value] == CheckState::Unchecked) {
    if (declTooDeep(id)) {
      defState_[id.value] = CheckState::Failed;
      return false;
    }
    checkDefDecl(id);
  } else if (defState_[id.value] == CheckState::InProgress) {
    reportCycle(declStack_, id, "def");
    return false;
  }
  return defState_[id.value] == CheckState::Done;
}

void Checker::checkDefDecl(ast::DeclId id) {
  const DeclEntry& e = entry(id);
  const ast::Decl& d = ast_.decl(id);
  const ast::DefDecl& def = ast_.defs[d.index];
  defState_[id.value] = CheckState::InProgress;
  declStack_.push_back(id);
  DefInfo info;
  setDeclInfo(info, e);
  bool ok = true;
  {
    UnitGuard unit(*this, UnitScope{UnitScope::Kind::Def, {}, false, {}, {}, "def"}, d.file);
    for (uint32_t i = 0; i < def.params.size(); ++i) {
      const ast::Param& prm = def.params[i];
      TypeId t = resolveType(prm.type, false, true, nullptr);
      ok &= !p_.types.containsError(t);
      std::string name(ast_.str(prm.name));
      for (const auto& [existing, _] : info.params)
        if (existing == name) {
          report(msg::DuplicateParameter, prm.nameRange, name);
          ok = false;
        }
      info.params.emplace_back(name, t);
      unit_.locals.push_back(Local{prm.name, true, i, t, prm.nameRange, id});
    }
    info.result = resolveType(def.result, false, false, nullptr);
    CExprId body = check(def.body);
    ok &= !p_.types.containsError(info.result) &&
          expect(body, info.result, "the body of def " + bt(e.qname));
    info.body = body;
    info.numVars = unit_.numVars;
  }
  declStack_.pop_back();
  if (!ok || inCycle_.count(id.value)) {
    defState_[id.value] = CheckState::Failed;
    return;
  }
  defOf_[id.value] = DefId{static_cast<uint32_t>(p_.defs.size())};
  p_.defs.push_back(std::move(info));
  defState_[id.value] = CheckState::Done;
}

}  // namespace pave::sema::internal
