// Flow typing (SPEC §4.4): narrowing with `is`, `has` guards and map-key guards.
#include <gtest/gtest.h>

#include "SemaTestUtil.h"

namespace pave::testing {
namespace {

#define EXPECT_CLEAN(c) EXPECT_TRUE((c)->ok()) << (c)->text()

void expectOk(std::string_view rule) {
  auto c = checkBody(rule);
  EXPECT_TRUE(c->ok()) << rule << "\n" << c->text();
}

void expectError(std::string_view rule, std::string_view code, size_t n = 1) {
  auto c = checkBody(rule);
  EXPECT_EQ(c->count(code), n) << rule << "\n" << c->text();
  EXPECT_EQ(c->diags.all().size(), n) << rule << "\n" << c->text();
}

TEST(Flow, HasGuardsTheRightOperandOfAnd) {
  expectOk("allow r on CloudRole when has(request.justification) and request.justification.size() > 10;");
  expectOk("allow r on CloudRole when (has(request.justification) and request.justification != \"\") or true;");
}

TEST(Flow, HasGuardsTheRestOfTheWhenConjunction) {
  expectOk("allow r on CloudRole when request.env == Env.dev and has(request.justification)\n"
           "  and request.role == \"x\" and request.justification == \"y\";");
}

TEST(Flow, HasGuardsTheThenBranch) {
  expectOk("allow r on CloudRole when if has(request.justification) then request.justification == \"a\" else false;");
  expectError("allow r on CloudRole when if has(request.justification) then true else request.justification == \"a\";",
              "unguarded-optional");
}

TEST(Flow, GuardsInOrDoNotCount) {
  expectError("allow r on CloudRole when has(request.justification) or request.justification == \"x\";",
              "unguarded-optional");
  expectError("allow r on CloudRole when (has(request.justification) or true) and request.justification == \"x\";",
              "unguarded-optional");
}

TEST(Flow, GuardMustComeFirst) {
  expectError("allow r on CloudRole when request.justification == \"x\" and has(request.justification);",
              "unguarded-optional");
}

TEST(Flow, NegatedGuardDoesNotCount) {
  expectError("allow r on CloudRole when not has(request.justification) and request.justification == \"x\";",
              "unguarded-optional");
}

TEST(Flow, WhenFactsHoldInByGrantAndUnless) {
  expectOk(R"(approve r on CloudRole
  by request.justification
  when principal is Workload and has(request.justification)
  unless request.justification == "none"
  grant scopes = [request.justification, principal.owner];)");
  expectError("approve r on CloudRole by request.justification when request.env == Env.dev;", "unguarded-optional");
}

TEST(Flow, FactsInsideAnOrOperandDoNotLeak) {
  expectError(R"(allow r on CloudRole
  when (has(request.justification) and request.justification == "a") or request.env == Env.dev
  grant scopes = [request.justification];)", "unguarded-optional");
}

TEST(Flow, OptionalAttributeMessage) {
  auto c = checkBody("allow r on CloudRole when request.justification.size() > 10;");
  ASSERT_EQ(c->count("unguarded-optional"), 1u);
  EXPECT_EQ(c->message("unguarded-optional"), "`request.justification` is optional and may be absent here");
  EXPECT_EQ(c->find("unguarded-optional")->notes.at(0),
            "guard it: `has(request.justification) and request.justification …`");
}

TEST(Flow, HasNeedsAnOptionalAttribute) {
  expectError("allow r on CloudRole when has(request.role);", "type-mismatch");
  expectError("allow r on CloudRole when has(request.role.size());", "type-mismatch");
}

TEST(Flow, MapKeysNeedTheSameKeyGuard) {
  expectOk("allow r on CloudRole when \"owner\" in request.tags and request.tags[\"owner\"] == \"a\";");
  expectOk("const K: String = \"owner\";\nallow r on CloudRole when K in request.tags and request.tags[\"owner\"] == \"a\";");
  expectOk("allow r on CloudRole when request.role in request.tags and request.tags[request.role] == \"a\";");
  expectError("allow r on CloudRole when request.tags[\"owner\"] == \"a\";", "unguarded-optional");
  expectError("allow r on CloudRole when \"team\" in request.tags and request.tags[\"owner\"] == \"a\";",
              "unguarded-optional");
  expectError("allow r on CloudRole when \"owner\" in request.tags or request.tags[\"owner\"] == \"a\";",
              "unguarded-optional");
}

TEST(Flow, QuantifierVariablesCanBeGuardKeys) {
  expectOk("allow r on CloudRole when all k in [\"a\", \"b\"]: k in request.tags and request.tags[k] != \"\";");
}

TEST(Flow, PrincipalNarrowing) {
  expectOk("allow r on CloudRole when principal is Human and principal.email == \"x\";");
  expectOk("allow r on CloudRole when if principal is Workload then principal.owner == \"t\" else false;");
  expectOk("allow r on CloudRole when principal is Human and principal.on_call\n"
           "  grant scopes = [principal.email];");
  expectError("allow r on CloudRole when principal.email == \"x\";", "unknown-attribute");
  expectError("allow r on CloudRole when principal is Human or principal.email == \"x\";", "unknown-attribute");
  expectError("allow r on CloudRole when principal.colour == \"x\";", "unknown-attribute");
}

TEST(Flow, NotEveryPrincipalMessage) {
  auto c = checkBody("allow r on CloudRole when principal.email == \"x\";");
  EXPECT_EQ(c->message("unknown-attribute"),
            "attribute `email` is not declared on every possible principal type: `acme.Workload` lacks it");
  EXPECT_EQ(c->find("unknown-attribute")->notes.at(0),
            "narrow `principal` first, like `principal is acme.Human and principal.email …`");
}

TEST(Flow, AttributesCommonToEveryPossiblePrincipal) {
  auto c = checkFiles({{"p.pave", R"(namespace x;
principal A { team: String, n: Int }
principal B { team: String, n: String }
request R for A, B { k: Int }
allow r on R when principal.team == "t";
allow s on R when principal.n == 1;
)"}});
  EXPECT_EQ(c->count("type-mismatch"), 1u) << c->text();
  EXPECT_EQ(c->diags.all().size(), 1u) << c->text();
}

TEST(Flow, ImpossibleTypeTest) {
  expectError("allow r on CloudRole when principal is Agent;", "impossible-type-test");
  expectOk("allow r on CloudRole, SecretAccess when principal is Agent;");
  expectError("allow r on CloudRole when principal is Env;", "unknown-name");
}

TEST(Flow, DefParameterOfPrincipalTypeNeedsNarrowing) {
  std::string defs = "def owns(p: Workload, r: CloudRole): Bool = r.account.startsWith(p.owner);\n";
  expectOk(defs + "allow r on CloudRole when principal is Workload and owns(principal, request);");
  expectError(defs + "allow r on CloudRole when owns(principal, request);", "type-mismatch");
  expectError(defs + "allow r on CloudRole when principal is Human and owns(principal, request);", "type-mismatch");
  expectError(defs + "allow r on SecretAccess when principal is Workload and owns(principal, request);",
              "type-mismatch");
}

TEST(Flow, DefGuardsOwnOptionalParameters) {
  expectOk("def delegated(a: Agent): Bool = has(a.delegated_by) and a.delegated_by != \"\";\n"
           "allow r on SecretAccess when principal is Agent and delegated(principal);");
  expectError("def delegated(a: Agent): Bool = a.delegated_by != \"\";", "unguarded-optional");
}

TEST(Flow, InlinedGuardsCount) {
  expectOk("def delegated(a: Agent): Bool = has(a.delegated_by);\n"
           "allow r on SecretAccess when principal is Agent and delegated(principal)\n"
           "  and principal.delegated_by == \"x\";");
}

TEST(Flow, SeveralTargetsUseCommonAttributes) {
  expectOk("allow r on CloudRole, SecretAccess when request.env == Env.dev;");
  expectError("allow r on CloudRole, SecretAccess when request.role == \"x\";", "unknown-attribute");
  auto c = checkBody("deny r on * when request.role == \"x\";");
  EXPECT_EQ(c->message("unknown-attribute"),
            "a rule `on *` can use only attributes every request type has: `acme.SecretAccess` lacks `role`");
  expectOk("deny r on * when context.break_glass and principal is Agent and request.env == Env.prod;");
}

TEST(Flow, GrantsMustExistOnEveryTarget) {
  expectError("allow r on CloudRole, SecretAccess when true grant max_ttl = 1h;", "unknown-attribute");
}

}  // namespace
}  // namespace pave::testing
