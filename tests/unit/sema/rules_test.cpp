// Rules (SPEC §3): clauses, conjuncts, exceptions and annotations.
#include <gtest/gtest.h>

#include "SemaTestUtil.h"

namespace pave::testing {
namespace {

#define EXPECT_CLEAN(c) EXPECT_TRUE((c)->ok()) << (c)->text()

TEST(Rules, ConditionIsTheListOfTopLevelConjuncts) {
  auto c = checkBody("allow r on CloudRole\n  when principal is Human\n   and request.duration <= 4h\n"
                     "  unless request.role == \"admin\";");
  ASSERT_TRUE(c->ok()) << c->text();
  const sema::RuleInfo& r = c->rule("acme.r");
  ASSERT_EQ(r.condition.size(), 3u);
  EXPECT_EQ(c->sources.slice(r.condition[1].range), "request.duration <= 4h");
  EXPECT_EQ(c->sources.lineCol(r.condition[1].range.file, r.condition[1].range.begin).line, kPreludeLines + 3);
  EXPECT_TRUE(r.condition[2].fromUnless);
  EXPECT_EQ(c->sources.slice(r.condition[2].range), "request.role == \"admin\"");
  EXPECT_EQ(c->program->dump(r.condition[2].expr), "(Not (== request.role \"admin\"))");
  EXPECT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.effect, ast::Effect::Allow);
}

TEST(Rules, NoWhenMeansAnEmptyCondition) {
  auto c = checkBody("allow r on CloudRole;");
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_TRUE(c->rule("acme.r").condition.empty());
}

TEST(Rules, ApproveRulesCarryGroupsQuorumAndGrants) {
  auto c = checkBody("approve r on CloudRole by \"security\", principal.spiffe_id + \"-leads\" quorum 2\n"
                     "  when principal is Workload grant max_ttl = 30m, scopes = [\"admin\"];");
  ASSERT_TRUE(c->ok()) << c->text();
  const sema::RuleInfo& r = c->rule("acme.r");
  EXPECT_EQ(r.approvers.size(), 2u);
  EXPECT_EQ(r.quorum, 2);
  ASSERT_EQ(r.grants.size(), 2u);
  EXPECT_EQ(r.grants[1].grant, "scopes");
  EXPECT_EQ(c->program->dump(r.grants[1].value), "[\"admin\"]");
}

TEST(Rules, ClauseMisuse) {
  struct Case {
    const char* rule;
    uint32_t count;
  } cases[] = {
      {"allow r on CloudRole by \"x\" when true;", 1},
      {"deny r on CloudRole grant max_ttl = 1h;", 1},
      {"deny r on CloudRole lifts x;", 1},
      {"allow r on CloudRole when true when false;", 1},
      {"allow r when true;", 1},
      {"approve r on CloudRole when true;", 1},
      {"approve r on CloudRole by \"x\" quorum 0;", 1},
      {"deny d on CloudRole;\nexception e on CloudRole lifts d until 2027-01-01 owner \"t\";", 1},
  };
  for (const Case& k : cases) {
    auto c = checkBody(k.rule);
    EXPECT_EQ(c->count("invalid-clause"), k.count) << k.rule << "\n" << c->text();
    EXPECT_EQ(c->diags.all().size(), k.count) << k.rule << "\n" << c->text();
  }
}

TEST(Rules, MissingOnIsReportedAtTheDeclaration) {
  auto c = checkBody("/// doc\n@severity(high)\ndeny r when true;");
  ASSERT_EQ(c->count("invalid-clause"), 1u);
  EXPECT_EQ(c->bodyLine("invalid-clause"), 3u);
  EXPECT_EQ(c->find("invalid-clause")->rule, "acme.r");
}

TEST(Rules, Exceptions) {
  auto c = checkBody(R"(deny no_admin on CloudRole when request.role == "admin" because "no";
/// Migration.
exception migrate lifts no_admin
  when principal is Workload and principal.owner == "data"
  until 2027-01-01T00:00:00Z owner "team-data" ticket "SEC-1" because "cut-over";
)");
  ASSERT_TRUE(c->ok()) << c->text();
  const sema::RuleInfo& e = c->rule("acme.migrate");
  ASSERT_TRUE(e.exception.has_value());
  EXPECT_EQ(c->program->rule(e.exception->lifts).name, "acme.no_admin");
  EXPECT_EQ(e.exception->until, 1798761600);
  EXPECT_EQ(e.exception->owner, "team-data");
  EXPECT_EQ(e.exception->ticket, "SEC-1");
  EXPECT_EQ(e.because, "cut-over");
  EXPECT_EQ(e.doc, "Migration.");
  EXPECT_EQ(e.targets, c->rule("acme.no_admin").targets);
  EXPECT_EQ(c->rule("acme.no_admin").because, "no");
}

TEST(Rules, ExceptionProblems) {
  auto incomplete = checkBody("deny d on CloudRole;\nexception e lifts d;");
  EXPECT_EQ(incomplete->message("exception-incomplete"), "exception `acme.e` needs `until` and `owner`");
  auto target = checkBody("allow a on CloudRole;\nexception e lifts a until 2027-01-01 owner \"t\";");
  EXPECT_EQ(target->count("exception-target"), 1u) << target->text();
  auto unknown = checkBody("exception e lifts nope until 2027-01-01 owner \"t\";");
  EXPECT_EQ(unknown->count("unknown-name"), 1u) << unknown->text();
  auto expired = checkBody("deny d on CloudRole;\nexception e lifts d until 2026-11-27 owner \"t\";");
  ASSERT_EQ(expired->count("expired-exception"), 1u) << expired->text();
  EXPECT_EQ(expired->message("expired-exception"), "exception `acme.e` expired at 2026-11-27T00:00:00Z");
  EXPECT_EQ(expired->bodyLine("expired-exception"), 2u);
  auto live = checkBody("deny d on CloudRole;\nexception e lifts d until 2026-11-27T00:00:01Z owner \"t\";");
  EXPECT_CLEAN(live);
}

TEST(Rules, ExceptionBodiesUseTheDenysTargets) {
  auto c = checkBody("deny d on SecretAccess when principal is Agent;\n"
                     "exception e lifts d when request.role == \"x\" until 2027-01-01 owner \"t\";");
  EXPECT_EQ(c->message("unknown-attribute"), "unknown attribute `role` on request type `acme.SecretAccess`");
}

TEST(Rules, Annotations) {
  auto c = checkFiles({{"p.pave", std::string(kPrelude) + R"(
@controls(std.controls.NistCsf.PR_AA_05, std.controls.OwaspNhi.NHI7)
@severity(critical)
@allow_lint("conflict", "dead-rule")
deny r on CloudRole when request.role == "root";
@colour(red)
allow s on CloudRole;
)"}});
  ASSERT_TRUE(c->ok()) << c->text();  // unknown annotations are warnings
  EXPECT_EQ(c->count("unknown-annotation"), 1u);
  const sema::RuleInfo& r = c->rule("acme.r");
  EXPECT_EQ(r.controls, (std::vector<std::string>{"std.controls.NistCsf.PR_AA_05", "std.controls.OwaspNhi.NHI7"}));
  EXPECT_EQ(r.severity, sema::SeverityLevel::Critical);
  EXPECT_EQ(r.allowLints, (std::vector<std::string>{"conflict", "dead-rule"}));
}

TEST(Rules, AnnotationProblems) {
  auto c = checkBody("@controls(Env.dev, std.controls.NistCsf.PR_AA_09)\n@severity(urgent)\n@allow_lint(conflict)\n"
                     "deny r on CloudRole;");
  EXPECT_EQ(c->count("unknown-name"), 3u) << c->text();
  EXPECT_EQ(c->count("type-mismatch"), 1u) << c->text();
  EXPECT_EQ(c->message("unknown-name"), "`Env.dev` is not a control");
}

TEST(Rules, ControlsThroughUse) {
  auto c = checkFiles({{"p.pave", "use std.controls.ZeroTrust as zt;\nprincipal P { n: Int } request R for P { k: Int }\n"
                                  "@controls(zt.T3)\nallow r on R;"}});
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_EQ(c->rule("r").controls, std::vector<std::string>{"std.controls.ZeroTrust.T3"});
}

TEST(Rules, OnStarTargetsEveryRequestType) {
  auto c = checkBody("deny g on * when context.break_glass;");
  ASSERT_TRUE(c->ok()) << c->text();
  EXPECT_TRUE(c->rule("acme.g").onStar);
  EXPECT_EQ(c->rule("acme.g").targets.size(), c->program->requests.size());
}

TEST(Rules, SchemaIsRecorded) {
  auto c = checkBody("");
  ASSERT_TRUE(c->ok()) << c->text();
  const sema::CheckedProgram& p = *c->program;
  auto cloud = p.findRequest("acme.CloudRole");
  ASSERT_TRUE(cloud);
  const sema::RequestInfo& r = p.requests[cloud->value];
  EXPECT_EQ(r.doc, "A short-lived cloud role session.");
  EXPECT_EQ(r.principals.size(), 2u);
  ASSERT_NE(r.attr("justification"), nullptr);
  EXPECT_TRUE(r.attr("justification")->optional);
  ASSERT_NE(r.grant("max_ttl"), nullptr);
  EXPECT_EQ(r.grant("max_ttl")->merge, sema::MergeOp::Min);
  EXPECT_EQ(p.formatValue(r.grant("max_ttl")->defaultValue), "1h");
  EXPECT_EQ(p.typeName(r.grant("scopes")->defaultValue.type), "Set<String>");
  EXPECT_EQ(p.typeName(r.attr("tags")->type), "Map<String, String>");
  EXPECT_TRUE(p.findPrincipal("acme.Agent"));
}

}  // namespace
}  // namespace pave::testing
