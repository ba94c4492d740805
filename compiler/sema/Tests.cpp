// Test blocks (SPEC §9.1). Inputs are type-checked like an input document: an attribute
// the type lacks, a value of the wrong type and a missing required attribute are errors
// (the last one allowed in a test that expects an input error, `expect error "…";`).
#include <algorithm>

#include <pave/decision_errors.h>

#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {
// Error codes a decision can report (SPEC §4.5, §5, §7.2): those of pave/decision_errors.def
// but the decision service's own.
const std::vector<std::string> kDecisionErrors = [] {
  std::vector<std::string> codes;
  for (const rt::DecisionErrorInfo& e : rt::kDecisionErrors)
    if (e.origin != rt::DecisionErrorOrigin::Service) codes.emplace_back(e.code);
  return codes;
}();
}  // namespace

std::optional<ConstValue> Checker::checkTestValue(ast::ExprId e, TypeId want) {
  CExprId v = check(e);
  if (isError(v) || p_.types.containsError(want)) return std::nullopt;
  if (!expect(v, want, bt(text(ast_.expr(e).range)))) return std::nullopt;
  return constantOf(v, ast_.expr(e).range, "a test input");
}

std::vector<TestFieldValue> Checker::checkTestFields(const ast::TestInput& in, const std::vector<AttrInfo>* attrs,
                                                     std::string_view owner) {
  std::vector<TestFieldValue> out;
  for (const ast::TestField& f : in.fields) {
    std::string name(ast_.str(f.name));
    if (std::any_of(out.begin(), out.end(), [&](const TestFieldValue& x) { return x.name == name; })) {
      report(msg::DuplicateTestField, f.nameRange, name);
      continue;
    }
    const AttrInfo* attr = nullptr;
    if (attrs)
      for (const AttrInfo& a : *attrs)
        if (a.name == name) attr = &a;
    if (!attr) {
      check(f.value);
      if (!attrs) continue;  // the type itself is unknown (already reported)
      DiagBuilder d = report(msg::UnknownAttributeOn, f.nameRange, name, owner);
      std::vector<std::string> names;
      for (const AttrInfo& a : *attrs) names.push_back(a.name);
      suggest(d, name, names, f.nameRange);
      continue;
    }
    if (std::optional<ConstValue> v = checkTestValue(f.value, attr->type))
      out.push_back({name, std::move(*v), f.nameRange.to(ast_.expr(f.value).range)});
  }
  return out;
}

void Checker::checkExpect(const ast::Expect& e, TestInfo& t) {
  Expectation x;
  x.kind = e.kind;
  x.range = e.range;
  auto ruleIds = [&](std::string_view what) {
    for (ast::NameId n : e.rules)
      if (auto d = resolveDeclName(n, {ast::DeclKind::Rule}, what)) x.rules.push_back(ruleOf_.at(d->value));
  };
  switch (e.kind) {
    case ast::ExpectKind::Decision: {
      if (e.decision == "allow") x.decision = Outcome::Allow;
      else if (e.decision == "approval") x.decision = Outcome::Approval;
      else if (e.decision == "deny") x.decision = Outcome::Deny;
      else {
        DiagBuilder d = report(msg::UnknownTestDecision, e.decisionRange, e.decision);
        d.note("a test expects `allow`, `approval` or `deny`");
        suggest(d, e.decision, {"allow", "approval", "deny"}, e.decisionRange);
        return;
      }
      ruleIds("rule");
      break;
    }
    case ast::ExpectKind::Exception:
      ruleIds("rule");
      for (RuleId r : x.rules)
        if (p_.rules[r.value].effect != ast::Effect::Exception)
          report(msg::NotAnException, e.range, p_.rules[r.value].name);
      break;
    case ast::ExpectKind::Grant: {
      x.grant = std::string(ast_.str(e.grant));
      const GrantInfo* g = t.request ? p_.requests[t.request.value].grant(x.grant) : nullptr;
      if (!g) {
        if (t.request) {
          DiagBuilder d = report(msg::UnknownGrant, e.grantRange, x.grant, p_.requests[t.request.value].name);
          std::vector<std::string> names;
          for (const GrantInfo& gi : p_.requests[t.request.value].grants) names.push_back(gi.name);
          suggest(d, x.grant, names, e.grantRange);
        }
        check(e.value);
        return;
      }
      x.value = checkTestValue(e.value, g->type);
      if (!x.value) return;
      break;
    }
    case ast::ExpectKind::Error:
      x.errorCode = e.errorCode;
      if (std::find(kDecisionErrors.begin(), kDecisionErrors.end(), e.errorCode) == kDecisionErrors.end()) {
        DiagBuilder d = report(msg::UnknownDecisionError, e.range, e.errorCode);
        suggest(d, e.errorCode, kDecisionErrors, {});
        return;
      }
      break;
  }
  t.expects.push_back(std::move(x));
}

void Checker::requireTestFields(const std::vector<AttrInfo>& attrs, const std::vector<TestFieldValue>& fields,
                                 const ast::TestInput& in, SourceRange where, std::string_view owner) {
  std::vector<std::string> missing;
  for (const AttrInfo& a : attrs) {
    if (a.optional) continue;
    bool given = std::any_of(fields.begin(), fields.end(), [&](const TestFieldValue& f) { return f.name == a.name; }) ||
                 std::any_of(in.fields.begin(), in.fields.end(),  // given, with an error already reported
                             [&](const ast::TestField& f) { return ast_.str(f.name) == a.name; });
    if (!given) missing.push_back(a.name);
  }
  if (missing.empty()) return;
  report(msg::TestInputLacksAttributes, where, owner, missing.size(), missing)
      .note(
          "test inputs are type-checked like any input; a test of an invalid input says so with "
          "`expect error \"missing-attribute\";`");
}

void Checker::checkTest(const DeclEntry& d, TestInfo& t) {
  const ast::TestDecl& test = ast_.tests[ast_.decl(d.id).index];
  // A test of an invalid input says so (`expect error "…"`); every other input must be complete.
  bool incompleteAllowed = std::any_of(test.expects.begin(), test.expects.end(),
                                       [](const ast::Expect& e) { return e.kind == ast::ExpectKind::Error; });
  // `request` and `principal`: the named type (its id set in `id`), the fields checked against
  // its attributes.
  auto checkTypedInput = [&](const ast::TestInput& in, ast::DeclKind kind, std::string_view what, auto& id,
                             const auto& idOf, const auto& infos) {
    const std::vector<AttrInfo>* attrs = nullptr;
    std::string owner;
    if (auto decl = resolveDeclName(in.type, {kind}, what)) {
      id = idOf.at(decl->value);
      attrs = &infos[id.value].attrs;
      owner = std::string(what) + " " + bt(infos[id.value].name);
    }
    std::vector<TestFieldValue> fields = checkTestFields(in, attrs, owner);
    if (attrs && !incompleteAllowed) requireTestFields(*attrs, fields, in, ast_.name(in.type).range, owner);
    return fields;
  };
  if (test.request.present)
    t.requestFields =
        checkTypedInput(test.request, ast::DeclKind::Request, "request type", t.request, requestOf_, p_.requests);
  if (test.principal.present)
    t.principalFields = checkTypedInput(test.principal, ast::DeclKind::Principal, "principal type", t.principal,
                                        principalOf_, p_.principals);
  if (test.context.present) t.contextFields = checkTestFields(test.context, &p_.context.attrs, "`context`");
  if (!incompleteAllowed)
    requireTestFields(p_.context.attrs, t.contextFields, test.context,
                      test.context.present ? test.context.range : ast_.decl(d.id).nameRange, "`context`");
  for (const ast::Expect& e : test.expects) checkExpect(e, t);
}

void Checker::checkTests() {
  for (const DeclEntry& e : decls_) {
    const ast::Decl& d = ast_.decl(e.id);
    if (d.kind != ast::DeclKind::Test) continue;
    TestInfo t;
    setDeclInfo(t, e);
    if (options_.checksBodiesOf(ast_.files[d.file].file)) {
      UnitGuard unit(*this, UnitScope{UnitScope::Kind::Test, {}, false, {}, {}, "test"}, d.file);
      checkTest(e, t);
    }
    p_.tests.push_back(std::move(t));
  }
}

}  // namespace pave::sema::internal
