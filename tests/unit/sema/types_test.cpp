// Typing rules of SPEC §4.3, one operator or function at a time.
#include <gtest/gtest.h>

#include "SemaTestUtil.h"

namespace pave::testing {
namespace {

#define EXPECT_CLEAN(c) EXPECT_TRUE((c)->ok()) << (c)->text()

/// Checks `allow r on CloudRole when <cond>;` after the prelude.
std::unique_ptr<Checked> when(std::string_view cond) {
  return checkBody("allow r on CloudRole when " + std::string(cond) + ";\n");
}

void expectOk(std::string_view cond) {
  auto c = when(cond);
  EXPECT_TRUE(c->ok()) << cond << "\n" << c->text();
}

void expectError(std::string_view cond, std::string_view code) {
  auto c = when(cond);
  EXPECT_FALSE(c->ok()) << cond;
  EXPECT_EQ(c->count(code), 1u) << cond << "\n" << c->text();
  EXPECT_EQ(c->diags.all().size(), 1u) << "cascade for " << cond << "\n" << c->text();
  if (const Diagnostic* d = c->find(code)) {
    EXPECT_EQ(d->rule, "acme.r") << cond;
  }
}

TEST(Types, Equality) {
  expectOk("request.env == Env.dev");
  expectOk("request.role != \"x\"");
  expectOk("request.duration == 1h");
  expectOk("context.time == 2026-01-01");
  expectOk("request.tags == request.tags");
  expectError("request.env == Mode.read", "type-mismatch");
  expectError("request.role == 1", "type-mismatch");
  expectError("request.duration == 4", "type-mismatch");
}

TEST(Types, Ordering) {
  expectOk("request.duration <= 4h");
  expectOk("context.time > 2026-01-01T10:00:00Z");
  expectOk("request.role.size() >= 3");
  expectError("request.role < \"b\"", "type-mismatch");
  expectError("request.env < Env.prod", "type-mismatch");
  expectError("request.duration <= 4", "type-mismatch");
  auto c = when("request.duration <= 4");
  EXPECT_EQ(c->message("type-mismatch"), "cannot compare `Duration` with `Int` using `<=`");
}

TEST(Types, Arithmetic) {
  expectOk("request.duration + 1h < 5h");
  expectOk("request.duration - 30m > 0s");
  expectOk("context.time + 1d > 2026-01-01");
  expectOk("context.time - 1h > 2026-01-01");
  expectOk("context.time - 2026-01-01 > 30d");
  expectOk("request.role.size() + 1 - 2 == -1");
  expectOk("-request.duration < 0s");
  expectOk("request.role + \"-x\" == \"a-x\"");
  expectError("request.duration + 1 > 0s", "type-mismatch");
  expectError("1h + context.time > context.time", "type-mismatch");
  expectError("2026-01-01 + 2026-01-01 > context.time", "type-mismatch");
  expectError("request.role - \"x\" == \"\"", "type-mismatch");
  expectError("-request.role == \"\"", "type-mismatch");
}

TEST(Types, ArithmeticResultTypes) {
  auto c = when("context.time - 2026-01-01 > 30d and context.time + 1h > 2026-01-01");
  ASSERT_TRUE(c->ok()) << c->text();
  const sema::CheckedProgram& p = *c->program;
  sema::CExprId sub = p.child(c->rule("acme.r").condition[0].expr, 0);
  EXPECT_EQ(p.expr(sub).kind, sema::CExprKind::Sub);
  EXPECT_EQ(p.expr(sub).type, p.types.duration());
  sema::CExprId add = p.child(c->rule("acme.r").condition[1].expr, 0);
  EXPECT_EQ(p.expr(add).type, p.types.timestamp());
}

TEST(Types, Membership) {
  expectOk("request.env in [Env.dev, Env.staging]");
  expectOk("\"x\" in request.tags and request.tags[\"x\"] == \"y\"");
  expectOk("has(context.source_ip) and context.source_ip in cidr(\"10.0.0.0/8\")");
  expectOk("request.role in []");
  expectError("request.env in [Mode.read]", "type-mismatch");
  expectError("request.role in request.role", "type-mismatch");
  expectError("1 in request.tags", "type-mismatch");
  expectError("ip(\"10.0.0.1\") in ip(\"10.0.0.1\")", "type-mismatch");
}

TEST(Types, Like) {
  expectOk("request.role like \"admin-*\"");
  expectError("request.env like \"d*\"", "type-mismatch");
}

TEST(Types, StringMethods) {
  expectOk("request.role.startsWith(\"a\") and request.role.endsWith(\"b\") and request.role.contains(\"c\")");
  expectOk("request.role.lower() == \"x\" and request.role.upper() == \"X\"");
  expectOk("request.role.size() == 2 and not request.role.isEmpty()");
  expectError("request.role.startsWith(1)", "type-mismatch");
  expectError("request.role.startsWith()", "type-mismatch");
  expectError("request.role.lower(\"x\") == \"\"", "type-mismatch");
  expectError("request.role.frobnicate()", "unknown-name");
}

TEST(Types, CollectionMethods) {
  expectOk("request.tags.size() == 1 and request.tags.isEmpty()");
  expectOk("[\"a\"].contains(request.role)");
  expectOk("[\"a\", \"b\"].containsAll([request.role]) and [\"a\"].containsAny([])");
  expectError("[\"a\"].contains(1)", "type-mismatch");
  expectError("[\"a\"].containsAll(\"a\")", "type-mismatch");
  expectError("request.tags.contains(\"a\")", "type-mismatch");
}

TEST(Types, TimeMethods) {
  expectOk("context.time.hour() < 18 and context.time.weekday() <= 5 and context.time.date() == 2026-01-01");
  expectOk("request.duration.seconds() > 60");
  expectError("request.duration.hour() == 1", "type-mismatch");
  auto c = when("request.duration.hour() == 1");
  EXPECT_EQ(c->message("type-mismatch"), "`hour()` applies to `Timestamp`, not to `Duration`");
}

TEST(Types, MethodWithoutParentheses) {
  auto c = when("request.role.size > 1");
  ASSERT_EQ(c->count("unknown-attribute"), 1u) << c->text();
  EXPECT_EQ(c->find("unknown-attribute")->notes.at(0), "methods are called with parentheses: `request.role.size()`");
}

TEST(Types, IfAndQuantifiers) {
  expectOk("if request.env == Env.prod then request.duration <= 1h else request.duration <= 4h");
  expectOk("(if request.role == \"a\" then [\"x\"] else []).contains(\"x\")");
  expectOk("any g in [\"a\", \"b\"]: request.role.startsWith(g)");
  expectOk("all e in [Env.dev]: e != request.env");
  expectError("if request.env == Env.prod then 1 else \"x\"", "type-mismatch");
  expectError("if request.role then true else false", "type-mismatch");
  expectError("any x in request.role: true", "type-mismatch");
  expectError("all x in [1]: x", "type-mismatch");
}

TEST(Types, SetLiterals) {
  expectOk("request.env in [Env.dev, Env.prod,]");
  expectError("request.role in [\"a\", 1]", "type-mismatch");
  expectError("request.duration in [1h]", "type-mismatch");
  expectError("[] == []", "type-mismatch");
}

TEST(Types, IpAndCidrLiterals) {
  expectOk("has(context.source_ip) and context.source_ip == ip(\"::1\")");
  expectOk("has(context.source_ip) and context.source_ip in cidr(\"fc00::/7\")");
  expectError("ip(\"10.0.0.256\") == ip(\"10.0.0.1\")", "invalid-literal");
  expectError("has(context.source_ip) and context.source_ip in cidr(\"10.0.0.0/33\")", "invalid-literal");
  expectError("has(context.source_ip) and context.source_ip in cidr(\"10.0.0.1/8\")", "invalid-literal");
  expectError("has(context.source_ip) and context.source_ip in cidr(request.role)", "invalid-literal");
}

TEST(Types, ConditionsMustBeBool) {
  expectError("request.role", "type-mismatch");
  auto c = checkBody("allow r on CloudRole unless request.duration;");
  EXPECT_EQ(c->message("type-mismatch"), "the `unless` condition must have type `Bool`, not `Duration`");
}

TEST(Types, RootsAreNotValues) {
  expectError("context == 1", "type-mismatch");
  expectError("principal == principal", "type-mismatch");
}

TEST(Types, DefArguments) {
  auto ok = checkBody("def f(e: Env, d: Duration): Bool = e == Env.dev and d < 1h;\n"
                      "allow r on CloudRole when f(request.env, request.duration);");
  EXPECT_CLEAN(ok);
  auto arity = checkBody("def f(e: Env): Bool = e == Env.dev;\nallow r on CloudRole when f(request.env, 1);");
  EXPECT_EQ(arity->message("type-mismatch"), "def `acme.f` takes 1 argument, 2 given");
  auto type = checkBody("def f(e: Env): Bool = e == Env.dev;\nallow r on CloudRole when f(Mode.read);");
  EXPECT_EQ(type->message("type-mismatch"), "argument `e` of `acme.f` must have type `acme.Env`, not `acme.Mode`");
  auto body = checkBody("def f(e: Env): Bool = e;");
  EXPECT_EQ(body->count("type-mismatch"), 1u) << body->text();
  auto notCalled = checkBody("def f(e: Env): Bool = true;\nallow r on CloudRole when f;");
  EXPECT_EQ(notCalled->count("type-mismatch"), 1u) << notCalled->text();
}

TEST(Types, Consts) {
  auto c = checkBody("const LIMIT: Duration = 2h + 30m;\nconst ENVS: Set<Env> = [Env.dev];\n"
                     "allow r on CloudRole when request.duration <= LIMIT and request.env in ENVS;");
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_EQ(c->cond("acme.r"), "(<= request.duration 2h30m) && (InSet request.env [acme.Env.dev])");
  auto bad = checkBody("const LIMIT: Duration = 5;");
  EXPECT_EQ(bad->count("type-mismatch"), 1u) << bad->text();
  auto cycle = checkBody("const A: Int = B;\nconst B: Int = A;");
  EXPECT_EQ(cycle->count("recursive-definition"), 1u) << cycle->text();
  EXPECT_EQ(cycle->bodyLine("recursive-definition"), 1u);
  auto overflow = checkBody("const A: Int = 9223372036854775807 + 1;");
  EXPECT_EQ(overflow->count("type-mismatch"), 1u) << overflow->text();
}

TEST(Types, GrantsAndMergeOperators) {
  auto c = checkFiles({{"p.pave", R"(principal P { n: Int }
request R {
  grant a: Duration = 1h merge max,
  grant b: Set<String> = ["x"] merge intersect,
  grant c: Bool = true merge or,
  grant d: String = "x" merge unique,
  grant e: Set<String> = [] merge min,
  grant f: Int = "x" merge unique,
  grant g: Int = 1 merge sum,
}
allow r on R grant a = 2h, b = [], c = false, d = "y";
allow s on R grant a = 2;
allow t on R grant nope = 1;
)"}});
  EXPECT_EQ(c->count("type-mismatch"), 3u) << c->text();  // merge min on a set, "x" for Int, 2 for Duration
  EXPECT_EQ(c->count("unknown-name"), 1u) << c->text();  // merge sum
  EXPECT_EQ(c->count("unknown-attribute"), 1u) << c->text();
  EXPECT_EQ(c->message("unknown-attribute"), "unknown grant `nope` on request type `R`");
}

TEST(Types, ContextTimeMustBeATimestamp) {
  auto c = checkFiles({{"p.pave", "context { time: Int }"}});
  EXPECT_EQ(c->count("type-mismatch"), 1u) << c->text();
  auto d = checkFiles({{"p.pave", "context { time: Timestamp, x: Int }"}});
  EXPECT_CLEAN(d);
  EXPECT_EQ(d->program->context.attrs.size(), 2u);
  auto implicit = checkFiles({{"p.pave", "principal P { n: Int }"}});
  ASSERT_TRUE(implicit->ok());
  ASSERT_EQ(implicit->program->context.attrs.size(), 1u);
  EXPECT_EQ(implicit->program->context.attrs[0].name, "time");
}

TEST(Types, SchemaTypes) {
  auto c = checkFiles({{"p.pave", R"(principal P {
  a: Set<Duration>,
  b: Map<Int, String>,
  c: Map<String, Set<String>>,
  d: Set<String, Int>,
  e: Nope,
  f: P,
  g: Set<Ip>,
  h: Map<String, Bool>?,
}
)"}});
  EXPECT_EQ(c->count("type-mismatch"), 5u) << c->text();
  EXPECT_EQ(c->count("unknown-name"), 1u) << c->text();
}

TEST(Types, NoCascadeAfterAnError) {
  auto c = when("request.colour.size() + 1 > 2 and request.colour == \"x\"");
  EXPECT_EQ(c->count("unknown-attribute"), 2u) << c->text();
  EXPECT_EQ(c->diags.all().size(), 2u) << c->text();
}

}  // namespace
}  // namespace pave::testing
