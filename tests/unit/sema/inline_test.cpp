// Def inlining, const folding and the limits that keep inlining bounded.
#include <gtest/gtest.h>

#include "SemaTestUtil.h"

namespace pave::testing {
namespace {

bool containsKind(const sema::CheckedProgram& p, sema::CExprId e, sema::CExprKind k) {
  if (p.expr(e).kind == k) return true;
  for (uint32_t i = 0; i < p.numChildren(e); ++i)
    if (containsKind(p, p.child(e, i), k)) return true;
  return false;
}

TEST(Inline, DefsAreSubstitutedIntoRules) {
  auto c = checkFiles({{"p.pave", std::string(R"(namespace acme;
use std.nhi;
)") + std::string(kPrelude).substr(std::string_view(kPrelude).find('\n') + 1) + R"(
def nonprod(e: Env): Bool = e in [Env.dev, Env.staging];
def owns(p: Workload, r: CloudRole): Bool = r.account.startsWith(p.owner);
allow a on CloudRole when nonprod(request.env) and principal is Workload and owns(principal, request);
allow b on CloudRole when nhi.short_lived(request.duration) and std.time.business_hours(context.time);
)"}});
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_EQ(c->cond("acme.a"),
            "(InSet request.env [acme.Env.dev, acme.Env.staging]) && (is acme.Workload) && "
            "(StrStartsWith request.account principal.owner)");
  EXPECT_EQ(c->cond("acme.b").substr(0, 27), "(<= request.duration 1h) &&");
  for (const sema::RuleInfo& r : c->program->rules)
    for (const sema::Conjunct& k : r.condition) {
      EXPECT_FALSE(containsKind(*c->program, k.expr, sema::CExprKind::Param));
      EXPECT_FALSE(containsKind(*c->program, k.expr, sema::CExprKind::Root));
      EXPECT_FALSE(containsKind(*c->program, k.expr, sema::CExprKind::Invalid));
    }
}

TEST(Inline, LiteralArgumentsFold) {
  auto c = checkBody("def nonprod(e: Env): Bool = e in [Env.dev, Env.staging];\n"
                     "const LIMIT: Duration = 1h + 30m;\n"
                     "allow r on CloudRole when nonprod(Env.dev) and request.duration < LIMIT - 1h;");
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_EQ(c->cond("acme.r"), "true && (< request.duration 30m)");
}

TEST(Inline, QuantifierVariablesAreRenumbered) {
  auto c = checkBody("def hasA(s: Set<String>): Bool = any x in s: x == \"a\";\n"
                     "allow r on CloudRole when principal is Human and (all y in principal.groups: hasA([y, \"b\"]));");
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_EQ(c->cond("acme.r"),
            "(is acme.Human) && (All $0 principal.groups (Any $1 (SetBuild $0 \"b\") (== $1 \"a\")))");
  EXPECT_EQ(c->rule("acme.r").numVars, 2u);
}

TEST(Inline, NestedDefsWithEntityParameters) {
  auto c = checkBody("def team(w: Workload): String = w.owner;\n"
                     "def mine(w: Workload, r: CloudRole): Bool = r.account == team(w);\n"
                     "allow r on CloudRole when principal is Workload and mine(principal, request);");
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_EQ(c->cond("acme.r"), "(is acme.Workload) && (== request.account principal.owner)");
}

TEST(Inline, RecursionIsReportedAtTheFirstDef) {
  auto c = checkBody("def a(x: Int): Bool = b(x);\ndef b(x: Int): Bool = c(x);\ndef c(x: Int): Bool = a(x);\n"
                     "allow r on CloudRole when b(1);");
  ASSERT_EQ(c->count("recursive-definition"), 1u) << c->text();
  EXPECT_EQ(c->bodyLine("recursive-definition"), 1u);
  EXPECT_EQ(c->message("recursive-definition"), "def `acme.a` is recursive: `acme.a` → `acme.b` → `acme.c` → `acme.a`");
  EXPECT_EQ(c->diags.all().size(), 1u) << c->text();
  auto self = checkBody("def f(x: Int): Bool = x > 0 and f(x - 1);");
  EXPECT_EQ(self->count("recursive-definition"), 1u) << self->text();
}

TEST(Inline, ExponentialInliningIsCapped) {
  std::string src = "def d0(x: Int): Bool = x > 0;\n";
  for (int i = 1; i <= 40; ++i)
    src += "def d" + std::to_string(i) + "(x: Int): Bool = d" + std::to_string(i - 1) + "(x) and d" +
           std::to_string(i - 1) + "(x + 1);\n";
  src += "allow r on CloudRole when d40(request.role.size());\n";
  auto c = checkBody(src);
  EXPECT_FALSE(c->ok());
  EXPECT_EQ(c->count("type-mismatch"), 1u) << c->text();
  EXPECT_NE(c->message("type-mismatch").find("too large after inlining"), std::string::npos);
}

TEST(Inline, DeepDefChainsAreCapped) {
  std::string src;
  for (int i = 3000; i >= 1; --i)
    src += "def d" + std::to_string(i) + "(x: Int): Bool = not d" + std::to_string(i - 1) + "(x);\n";
  src += "def d0(x: Int): Bool = x > 0;\n";
  auto c = checkBody(src);
  EXPECT_FALSE(c->ok());
  EXPECT_GE(c->count("type-mismatch"), 1u);
}

}  // namespace
}  // namespace pave::testing
