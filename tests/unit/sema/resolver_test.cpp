// Name resolution (SPEC §1.2): namespaces, `use` and `as`, ambiguity, order, duplicates.
#include <gtest/gtest.h>

#include "SemaTestUtil.h"

namespace pave::testing {
namespace {

#define EXPECT_CLEAN(c) EXPECT_TRUE((c)->ok()) << (c)->text()

TEST(Resolver, NamespaceNamesAreVisibleAcrossFiles) {
  auto c = checkFiles({{"a.pave", "namespace acme; enum Env { dev, prod }"},
                       {"b.pave",
                        "namespace acme; principal P { env: Env } request R for P { env: Env }\n"
                        "allow r on R when request.env == Env.dev and principal.env == acme.Env.prod;"}});
  EXPECT_CLEAN(c);
  EXPECT_EQ(c->cond("acme.r"), "(== request.env acme.Env.dev) && (== principal.env acme.Env.prod)");
}

TEST(Resolver, OtherNamespacesAreReachedFromTheRoot) {
  auto c = checkFiles({{"a.pave", "namespace cloud.catalog; enum Env { dev, prod } const MAX: Int = 3;"},
                       {"b.pave",
                        "namespace acme; principal P { n: Int } request R for P { env: cloud.catalog.Env }\n"
                        "allow r on R when request.env == cloud.catalog.Env.prod and principal.n < cloud.catalog.MAX;"}});
  EXPECT_CLEAN(c);
  EXPECT_EQ(c->cond("acme.r"), "(== request.env cloud.catalog.Env.prod) && (< principal.n 3)");
}

TEST(Resolver, OtherNamespaceNamesAreNotVisibleUnqualified) {
  auto c = checkFiles({{"a.pave", "namespace cloud; enum Env { dev }"},
                       {"b.pave", "namespace acme; principal P { n: Int } request R for P { e: Env }"}});
  EXPECT_EQ(c->count("unknown-name"), 1u) << c->text();
}

TEST(Resolver, UseBindings) {
  auto c = checkFiles({{"p.pave", R"(namespace acme;
use std.nhi;
use std.time.business_hours;
use std.net as network;
use std.time.within as between;
principal P { n: Int }
context { ip: Ip? }
request R for P { d: Duration }
allow r on R
  when nhi.short_lived(request.d) and business_hours(context.time)
   and has(context.ip) and network.private_address(context.ip)
   and between(context.time, 2026-01-01, 2027-01-01);
)"}});
  EXPECT_CLEAN(c);
  EXPECT_EQ(c->rule("acme.r").condition.size(), 5u);
}

TEST(Resolver, AmbiguousNamespaceAndUse) {
  auto c = checkFiles({{"p.pave", R"(namespace acme;
use std.nhi.short_lived;
def short_lived(d: Duration): Bool = d < 5m;
principal P { n: Int }
request R for P { d: Duration }
allow r on R when short_lived(request.d);
)"}});
  ASSERT_EQ(c->count("ambiguous-name"), 1u) << c->text();
  EXPECT_EQ(c->line("ambiguous-name"), 6u);
  EXPECT_NE(c->message("ambiguous-name").find("`acme.short_lived`"), std::string::npos);
}

TEST(Resolver, LocalsShadowDeclarations) {
  auto c = checkBody(R"(
const x: Int = 5;
def f(x: String): Bool = x == "a";
allow r on CloudRole when f(request.role) and (any x in principal.groups: x == "dev");
)");
  // `principal.groups` needs narrowing: Workload lacks it.
  EXPECT_EQ(c->count("unknown-attribute"), 1u) << c->text();
  auto d = checkBody(R"(
const x: Int = 5;
def f(x: String): Bool = x == "a";
allow r on CloudRole when f(request.role) and x > 1 and request.role.size() > x;
)");
  EXPECT_CLEAN(d);
  EXPECT_EQ(d->cond("acme.r"), "(== request.role \"a\") && true && (> (StrSize request.role) 5)");
}

TEST(Resolver, UnknownNamesSuggestCloseOnes) {
  auto c = checkBody("allow r on CloudRole when request.env == Env.prd;");
  ASSERT_EQ(c->count("unknown-name"), 1u) << c->text();
  const Diagnostic* d = c->find("unknown-name");
  EXPECT_EQ(d->message, "enum `acme.Env` has no member `prd`");
  ASSERT_EQ(d->notes.size(), 1u);
  EXPECT_EQ(d->notes[0], "did you mean `prod`?");
  ASSERT_EQ(d->fixes.size(), 1u);
  EXPECT_EQ(d->fixes[0].replacement, "prod");
}

TEST(Resolver, UnknownNamespaceMember) {
  auto c = checkBody("allow r on CloudRole when std.nhi.short_livd(request.duration);");
  EXPECT_EQ(c->message("unknown-name"), "namespace `std.nhi` has no declaration `short_livd`");
}

TEST(Resolver, UnknownUseTarget) {
  auto c = checkFiles({{"p.pave", "namespace acme; use std.nope; principal P { n: Int }"}});
  EXPECT_EQ(c->count("unknown-name"), 1u) << c->text();
}

TEST(Resolver, DuplicatesAreReportedAtTheLaterFileByPath) {
  auto c = checkFiles({{"z.pave", "namespace acme; const A: Int = 1;"}, {"a.pave", "namespace acme; const A: Int = 2;"}});
  ASSERT_EQ(c->count("duplicate-declaration"), 1u) << c->text();
  EXPECT_EQ(c->sources.path(c->find("duplicate-declaration")->range.file), "z.pave");
}

TEST(Resolver, RulesShareTheNameSpace) {
  auto c = checkBody("allow Env on CloudRole when true;");
  EXPECT_EQ(c->count("duplicate-declaration"), 1u) << c->text();
  EXPECT_EQ(c->find("duplicate-declaration")->rule, "acme.Env");
}

TEST(Resolver, SecondContextIsADuplicate) {
  auto c = checkBody("context { x: Int }");
  EXPECT_EQ(c->count("duplicate-declaration"), 1u) << c->text();
}

TEST(Resolver, DuplicateMembersAndAttributes) {
  auto c = checkFiles({{"p.pave", "enum E { a, b, a } principal P { x: Int, x: String }"}});
  EXPECT_EQ(c->count("duplicate-declaration"), 2u) << c->text();
}

TEST(Resolver, UnknownTargetAndWrongKind) {
  auto c = checkBody("allow r on CloudRol when true;\nallow s on Human when true;");
  ASSERT_EQ(c->count("unknown-name"), 2u) << c->text();
  EXPECT_EQ(c->diags.all()[1].message, "`acme.Human` is a principal type, not a request type");
}

TEST(Resolver, RootsInConstsAreUnknown) {
  auto c = checkBody("const X: Bool = principal.on_call;");
  EXPECT_EQ(c->message("unknown-name"), "`principal` cannot be used in a const");
}

TEST(Resolver, SideTablesRecordReferencesAndTypes) {
  auto c = checkBody("allow r on CloudRole when request.env == Env.dev;");
  ASSERT_TRUE(c->ok()) << c->text();
  bool attr = false, member = false;
  for (const sema::Reference& r : c->program->references) {
    std::string_view used = c->sources.slice(r.use);
    if (r.kind == sema::RefKind::Attribute && used == "env") attr = true;
    if (r.kind == sema::RefKind::EnumMember && used == "dev") member = c->sources.slice(r.target) == "dev";
  }
  EXPECT_TRUE(attr);
  EXPECT_TRUE(member);
  size_t typed = 0;
  for (sema::TypeId t : c->program->astExprTypes) typed += t.valid();
  EXPECT_GT(typed, 3u);
}

}  // namespace
}  // namespace pave::testing
