// Sema's working state. One `Checker` checks one compilation unit; its methods are split
// by concern over Resolver.cpp, Schema.cpp, Expr*.cpp, Flow.cpp, Decls.cpp, Rules.cpp,
// Tests.cpp and ConstEval.cpp.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "diag/Messages.h"
#include "sema/Program.h"
#include "sema/Sema.h"

namespace pave::sema::internal {

/// A declaration in resolution order (files by path, then position).
struct DeclEntry {
  ast::DeclId id;
  std::string qname;  // qualified; empty for `context`
  std::string ns;     // the file's namespace ("" for the root)
  uint32_t order = 0;
};

/// What (a prefix of) a dotted name resolved to.
struct Resolved {
  enum class Kind : uint8_t { None, Error, Namespace, Decl, EnumMember, Local, Builtin };
  Kind kind = Kind::None;
  std::string path;  // Namespace: the path; Decl/EnumMember: the qualified name
  ast::DeclId decl;
  uint32_t index = 0;     // EnumMember: member; Local: index into Checker::locals_
  uint32_t consumed = 0;  // segments consumed
  static Resolved error() {
    Resolved r;
    r.kind = Kind::Error;
    return r;
  }
};

/// A local binding: a def parameter or a quantifier variable.
struct Local {
  ast::Symbol name;
  bool isParam = false;
  uint32_t index = 0;  // parameter index or variable index
  TypeId type;
  SourceRange range;
  ast::DeclId def;  // parameters: the def
};

/// A fact known to hold where an expression is evaluated (SPEC §4.4).
struct Fact {
  enum class Kind : uint8_t { Has, MapKey, Narrow } kind;
  CExprId a;  // Has: the Attr; MapKey: the map
  CExprId b;  // MapKey: the key
  uint32_t principal = 0;  // Narrow
};

/// What the roots mean in the unit being checked.
struct UnitScope {
  enum class Kind : uint8_t { Const, Def, Rule, Test } kind = Kind::Const;
  std::vector<RequestId> targets;        // Rule
  bool onStar = false;                   // Rule
  std::vector<PrincipalId> principals;   // Rule: union of the targets' allowed principals
  std::string ruleName;                  // Rule: for diagnostics
  std::string_view what;                 // "const", "def", "test" for messages
};

/// Per-unit (rule, def, const, test) state, saved and restored around nested def checks.
struct UnitState {
  UnitScope scope;
  std::vector<Local> locals;
  std::vector<Fact> facts;
  uint32_t numVars = 0;
  uint32_t nodes = 0;
  bool budgetReported = false;
  uint32_t file = 0;  // index into Ast::files, for name resolution
};

enum class CheckState : uint8_t { Unchecked, InProgress, Done, Failed };

class Checker {
 public:
  Checker(const ast::Ast& ast, const SourceManager& sources, DiagnosticEngine& diags, const CheckOptions& options,
          CheckedProgram& program);
  void run();

  // ---- diagnostics (Checker.cpp) ----
  /// Reports a registered message (diag/messages.def), naming the rule being checked.
  template <typename... Args>
  DiagBuilder report(const msg::Message<Args...>& m, SourceRange range, std::type_identity_t<Args>... args) {
    return reportRendered(m.kind, range, m.render(args...));
  }
  DiagBuilder reportRendered(DiagKind kind, SourceRange range, std::string message);
  std::string text(SourceRange r) const;
  std::string tname(TypeId t) const { return p_.typeName(t); }
  static std::string bt(std::string_view s) { return "`" + std::string(s) + "`"; }
  /// Adds "did you mean" as a note and a fix-it when some candidate is close to `name`.
  void suggest(DiagBuilder& d, std::string_view name, const std::vector<std::string>& candidates, SourceRange r);

  // ---- declarations and names (Resolver.cpp) ----
  void collectDecls();
  void checkUses();
  std::string qualify(std::string_view ns, std::string_view name) const;
  std::string fileNamespace(uint32_t file) const;
  /// Resolves the longest prefix of `name` that names something (SPEC §1.2 order: locals
  /// when `allowLocals`, the file's namespace, its `use` bindings, then the root), walking
  /// through namespaces and enums. Reports unknown/ambiguous names (Kind::Error then); a
  /// prefix that stops at a value leaves the remaining segments to the caller.
  Resolved resolve(ast::NameId name, bool allowLocals);
  Resolved resolveFromRoot(ast::NameId name);  // ignores locals, namespace and `use` (for `use`)
  Resolved resolveHead(ast::NameId name, bool allowLocals);
  Resolved walk(Resolved r, ast::NameId name);
  /// Resolves a whole name to a declaration of one of `kinds`; reports otherwise.
  std::optional<ast::DeclId> resolveDeclName(ast::NameId name, std::initializer_list<ast::DeclKind> kinds,
                                             std::string_view what);
  /// `s` qualified, for an unknown unqualified name declared in an enclosing namespace
  /// (the nearest first) or elsewhere; empty when no namespace declares it.
  std::string qualifiedElsewhere(std::string_view s) const;
  std::vector<std::string> visibleNames() const;
  void addRef(SourceRange use, RefKind kind, ast::DeclId decl, uint32_t index, SourceRange target);
  const DeclEntry& entry(ast::DeclId id) const { return *entryOf_.at(id.value); }
  /// Sets what the info of every declared thing records: its qualified name, doc comment,
  /// declaration and range.
  template <typename Info>
  void setDeclInfo(Info& info, const DeclEntry& e) const {
    const ast::Decl& d = ast_.decl(e.id);
    info.name = e.qname;
    info.doc = d.doc;
    info.decl = e.id;
    info.range = d.range;
  }
  SourceRange segRange(ast::NameId name, uint32_t from, uint32_t to) const;

  // ---- schema (Schema.cpp) ----
  void checkSchema();
  TypeId resolveType(ast::TypeId ref, bool allowOptional, bool allowEntities, bool* optional);
  TypeId resolveSetElem(ast::TypeId ref);
  void checkEnum(const DeclEntry& d);
  std::vector<AttrInfo> checkAttrs(const std::vector<ast::Attr>& attrs);
  void checkAttributedType(const DeclEntry& d);  // a principal or record type: its attributes
  void checkRequestHeader(const DeclEntry& d);
  void checkGrants(const DeclEntry& d);
  void checkContext();
  void checkTable(const DeclEntry& d);
  CExprId recordField(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange);
  std::optional<MergeOp> checkMergeOp(const ast::GrantDecl& g, TypeId type);

  // ---- consts and defs (Decls.cpp) ----
  void checkConstsAndDefs();
  std::optional<ConstId> constValue(ast::DeclId id);
  bool ensureDef(ast::DeclId id);
  bool declTooDeep(ast::DeclId id);  // false when the def cannot be used (error already reported)
  void checkConstDecl(ast::DeclId id);
  void checkDefDecl(ast::DeclId id);
  void reportCycle(const std::vector<ast::DeclId>& stack, ast::DeclId again, std::string_view what);
  /// Evaluates a checked constant expression (consts, grant defaults, test values).
  std::optional<ConstValue> constantOf(CExprId e, SourceRange range, std::string_view what);

  // ---- expressions (Expr.cpp, ExprOps.cpp, ExprCalls.cpp) ----
  CExprId check(ast::ExprId e);
  CExprId checkInner(ast::ExprId e);
  CExprId checkObject(ast::ExprId e);  // like check, but a root is allowed (for `.attr`)
  CExprId checkBool(ast::ExprId e, std::string_view what);
  CExprId checkLiteral(const ast::ExprNode& n);
  CExprId checkName(ast::ExprId e, bool forHas);
  CExprId checkValueHead(const Resolved& r, ast::NameId name, SourceRange range);
  CExprId checkRoot(const ast::ExprNode& n, bool asObject);
  CExprId checkMember(ast::ExprId e, bool forHas);
  CExprId memberAccess(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange,
                       bool forHas);
  CExprId principalAttr(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange);
  CExprId requestAttr(CExprId object, std::string_view attr, SourceRange nameRange, SourceRange fullRange);
  CExprId contextAttr(std::string_view attr, SourceRange nameRange, SourceRange fullRange);
  CExprId entityAttr(CExprId object, const std::vector<AttrInfo>& attrs, std::string_view owner,
                     std::string_view attr, SourceRange nameRange, SourceRange fullRange, ast::DeclId decl);
  CExprId makeAttr(CExprId object, const AttrInfo& a, TypeId type, bool optional, SourceRange range);
  CExprId guardOptional(CExprId attr, SourceRange range, bool forHas);
  CExprId checkHas(ast::ExprId e);
  CExprId checkNot(ast::ExprId e);
  CExprId checkNeg(ast::ExprId e);
  CExprId checkAndOr(ast::ExprId e, bool isAnd);
  std::vector<CExprId> checkConjunction(const std::vector<ast::ExprId>& operands, std::string_view what);
  CExprId checkCompare(ast::ExprId e);
  CExprId checkAddSub(ast::ExprId e, bool isAdd);
  CExprId checkIn(ast::ExprId e);
  CExprId checkLike(ast::ExprId e);
  CExprId checkIs(ast::ExprId e);
  CExprId checkIndex(ast::ExprId e);
  CExprId checkIf(ast::ExprId e);
  CExprId checkQuantifier(ast::ExprId e, bool isAny);
  CExprId checkSetLit(ast::ExprId e);
  CExprId checkMapLit(ast::ExprId e);
  CExprId checkCall(ast::ExprId e);
  CExprId checkMethodCallNode(ast::ExprId e);
  CExprId checkMethod(CExprId receiver, std::string_view method, SourceRange methodRange,
                      const std::vector<ast::ExprId>& args, SourceRange range);
  CExprId checkBuiltinIpCidr(std::string_view fn, const std::vector<ast::ExprId>& args, SourceRange range);
  CExprId checkDefCall(ast::DeclId def, const std::vector<ast::ExprId>& args, SourceRange range,
                       SourceRange nameRange);
  bool checkEntityArg(CExprId arg, TypeId param, SourceRange range);
  std::vector<ast::ExprId> children(ast::ExprId e) const;

  // ---- building checked nodes (Expr.cpp) ----
  CExprId make(CExprKind kind, TypeId type, SourceRange range, const std::vector<CExprId>& kids = {},
               uint32_t a = 0, uint32_t b = 0, uint8_t op = 0, uint8_t flags = 0);
  CExprId invalid(SourceRange range);
  CExprId literal(ConstValue v, SourceRange range);
  TypeId typeOf(CExprId e) const { return p_.expr(e).type; }
  bool isError(CExprId e) const { return p_.types.containsError(typeOf(e)); }
  bool isEntity(TypeId t) const;
  /// A record (a table row) or a map of records (a table): values that only lookups use.
  bool holdsRecord(TypeId t) const {
    const Type& x = p_.types.get(t);
    return x.kind == TypeKind::Record || (x.kind == TypeKind::Map && p_.types.kind(x.elem) == TypeKind::Record);
  }
  bool isEmptyCollection(TypeId t) const;  // `[]` / `{}` whose element type is not known yet
  /// Gives `[]` (and `if`s of them) the expected type. True when `e` now has type `want`.
  bool coerce(CExprId e, TypeId want);
  /// Checks that `e` has type `want` (after coercion); reports a type-mismatch otherwise.
  bool expect(CExprId e, TypeId want, std::string_view what);
  /// Reports an entity (principal/request) or un-inferable `[]` in a value position.
  bool requireValue(CExprId e);
  uint32_t newVar() { return unit_.numVars++; }

  // ---- inlining (Inline.cpp) ----
  CExprId substitute(CExprId t, const std::vector<CExprId>& args, uint32_t varOffset, uint32_t depth);
  CExprId clone(CExprId e, uint32_t depth);
  bool overBudget(SourceRange range);

  // ---- flow facts (Flow.cpp) ----
  void addFactsOf(CExprId e);
  bool sameExpr(CExprId a, CExprId b) const;
  bool hasFact(CExprId attr) const;
  bool mapKeyFact(CExprId map, CExprId key) const;
  std::vector<PrincipalId> possiblePrincipals() const;
  TypeId principalValueType();
  TypeId requestValueType();

  // ---- constant folding and evaluation (ConstEval.cpp) ----
  CExprId fold(CExprId e);
  std::optional<ConstValue> evaluate(CExprId e);

  // ---- rules (Rules.cpp) ----
  void checkRules();
  void checkClauseShape(const DeclEntry& d, const ast::RuleDecl& rule);
  void resolveTargets(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r);
  void resolveException(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r);
  void checkRuleBody(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r);
  void checkRuleGrants(const ast::Clause& c, RuleInfo& r);
  void checkAnnotations(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r);
  void checkControls(const ast::Annotation& a, RuleInfo& r);
  void checkSeverity(const ast::Annotation& a, RuleInfo& r);
  void checkAllowLint(const ast::Annotation& a, RuleInfo& r);

  // ---- tests (Tests.cpp) ----
  void checkTests();
  void checkTest(const DeclEntry& d, TestInfo& t);
  /// Reports the required attributes of `attrs` that a test input leaves out.
  void requireTestFields(const std::vector<AttrInfo>& attrs, const std::vector<TestFieldValue>& fields,
                         const ast::TestInput& in, SourceRange where, std::string_view owner);
  std::vector<TestFieldValue> checkTestFields(const ast::TestInput& in, const std::vector<AttrInfo>* attrs,
                                              std::string_view owner);
  std::optional<ConstValue> checkTestValue(ast::ExprId e, TypeId want);
  void checkExpect(const ast::Expect& e, TestInfo& t);

 private:
  friend class UnitGuard;
  friend class FlowMark;

  // ---- shared state (private, so its names end in `_`) ----
  const ast::Ast& ast_;
  const SourceManager& sources_;
  DiagnosticEngine& diags_;
  const CheckOptions& options_;
  CheckedProgram& p_;

  std::vector<DeclEntry> decls_;                        // in resolution order
  std::vector<const DeclEntry*> entryOf_;               // by DeclId
  std::unordered_map<std::string, ast::DeclId> byName_;  // qualified name → first declaration
  std::set<std::string> namespaces_;                    // every namespace path and its prefixes
  std::vector<uint32_t> fileOrder_;                     // Ast::files indices ordered by path
  std::vector<std::string> fileNs_;                     // by Ast::files index
  std::vector<std::vector<std::pair<std::string, Resolved>>> uses_;  // by Ast::files index

  // Schema indices by declaration.
  std::unordered_map<uint32_t, EnumId> enumOf_;
  std::unordered_map<uint32_t, PrincipalId> principalOf_;
  std::unordered_map<uint32_t, RequestId> requestOf_;
  std::unordered_map<uint32_t, RuleId> ruleOf_;
  std::unordered_map<uint32_t, RecordId> recordOf_;
  std::unordered_map<uint32_t, TableId> tableOf_;

  // Consts and defs, by DeclId.
  std::unordered_map<uint32_t, CheckState> constState_;
  std::unordered_map<uint32_t, ConstId> constValue_;
  std::unordered_map<uint32_t, CheckState> defState_;
  std::unordered_map<uint32_t, DefId> defOf_;
  std::vector<ast::DeclId> declStack_;  // consts/defs being checked (recursion detection)
  std::set<uint32_t> cycleReported_;
  std::set<uint32_t> inCycle_;
  std::vector<bool> ruleBodyCheckable_;  // by RuleId: targets are known

  UnitState unit_;
  uint32_t depth_ = 0;
};

/// Saves the unit state, installs a fresh one, restores on destruction.
class UnitGuard {
 public:
  UnitGuard(Checker& c, UnitScope scope, uint32_t file) : c_(c), saved_(std::move(c.unit_)) {
    c_.unit_ = UnitState{};
    c_.unit_.scope = std::move(scope);
    c_.unit_.file = file;
  }
  ~UnitGuard() { c_.unit_ = std::move(saved_); }
  UnitGuard(const UnitGuard&) = delete;
  UnitGuard& operator=(const UnitGuard&) = delete;

 private:
  Checker& c_;
  UnitState saved_;
};

/// Restores the fact stack (and locals) to their size at construction.
class FlowMark {
 public:
  explicit FlowMark(Checker& c) : c_(c), facts_(c.unit_.facts.size()), locals_(c.unit_.locals.size()) {}
  ~FlowMark() {
    c_.unit_.facts.resize(facts_);
    c_.unit_.locals.resize(locals_);
  }
  FlowMark(const FlowMark&) = delete;
  FlowMark& operator=(const FlowMark&) = delete;

 private:
  Checker& c_;
  size_t facts_, locals_;
};

size_t editDistance(std::string_view a, std::string_view b);

}  // namespace pave::sema::internal
