#include <algorithm>
// The analyzer against small programs: findings, their witnesses re-run through the VM,
// set bounds and prefilters.
#include <gtest/gtest.h>

#include <filesystem>

#include "SemaTestUtil.h"
#include "analysis/Analyzer.h"
#include "analysis/Encoder.h"
#include "analysis/Prefilter.h"
#include "analysis/Witness.h"

namespace pave::analysis {
namespace {

using testing::checkBody;

struct Analyzed {
  std::unique_ptr<testing::Checked> checked;
  DiagnosticEngine diags;
  std::vector<const Diagnostic*> with(std::string_view code) const {
    std::vector<const Diagnostic*> out;
    for (const Diagnostic& d : diags.all())
      if (d.code() == code) out.push_back(&d);
    return out;
  }
};

std::unique_ptr<Analyzed> analyzeBody(std::string_view body, const std::string& cacheDirectory = {},
                                      AnalysisStats* stats = nullptr) {
  auto a = std::make_unique<Analyzed>();
  a->checked = checkBody(body);
  EXPECT_TRUE(a->checked->ok()) << a->checked->text();
  if (!a->checked->ok()) return a;
  AnalysisOptions options;
  options.now = testing::kNow;
  options.threads = 2;
  options.cacheDirectory = cacheDirectory;
  options.repository = "analysis-test";
  std::string error;
  EXPECT_TRUE(analyze(*a->checked->program, a->checked->sources, a->diags, options, stats, error)) << error;
  return a;
}

// Every witness, run through the VM, shows what its finding claims.
void expectWitnessesHold(const Analyzed& a) {
  std::string error;
  auto bundle = Bundle::build(*a.checked->program, a.checked->sources, error);
  ASSERT_TRUE(bundle) << error;
  Confirmer vm(bundle);
  for (const Diagnostic& d : a.diags.all()) {
    if (!d.witnessJson) continue;
    nlohmann::json decision = vm.decide(nlohmann::json::parse(*d.witnessJson));
    EXPECT_TRUE(validInput(decision)) << decision.dump();
    EXPECT_TRUE(matchedTrue(decision, d.rule)) << d.code() << " " << decision.dump();
    if (d.code() == "conflict" || d.code() == "grant-conflict") {
      for (const RelatedInfo& r : d.related) {
        EXPECT_TRUE(matchedTrue(decision, r.rule)) << decision.dump();
      }
    }
    if (d.code() == "conflict") {
      EXPECT_EQ(decision["decision"], "deny");
    }
  }
}

TEST(Analyzer, DeadRuleAndItsNearMiss) {
  auto a = analyzeBody(R"(
allow dead on CloudRole when request.duration < 1h and request.duration > 2h;
allow point on CloudRole when request.duration >= 1h and request.duration <= 1h;
)");
  auto dead = a->with("dead-rule");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]->rule, "acme.dead");
}

TEST(Analyzer, OverflowMakesDeniesMatchButNotAllows) {
  auto a = analyzeBody(R"(
request Quota for Human { n: Int }
allow grow on Quota when request.n > 0 and request.n + 1 < 0;
deny fail_closed on Quota when request.n > 0 and request.n + 1 < 0;
allow ok on Quota when request.n == 1;
)");
  auto dead = a->with("dead-rule");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]->rule, "acme.grow");
}

TEST(Analyzer, ConflictWitnessIsDenied) {
  auto a = analyzeBody(R"(
allow nonprod on CloudRole when request.env != Env.prod;
deny admin on CloudRole when request.role == "admin";
)");
  auto c = a->with("conflict");
  ASSERT_EQ(c.size(), 1u);
  ASSERT_TRUE(c[0]->witnessJson);
  expectWitnessesHold(*a);
}

// Conflicts are searched against all overlapping denies at once; every pair must still be
// reported exactly: each conflicting deny once, with a witness of its own pair, and none of
// the near misses (a disjoint deny, a deny whose every overlap is lifted).
TEST(Analyzer, ConflictsWithSeveralDeniesAreReportedPerPair) {
  auto a = analyzeBody(R"(
allow nonprod on CloudRole when request.env != Env.prod and context.time < 2030-01-01;
deny admin on CloudRole when request.role == "admin";
deny big on CloudRole when request.duration > 10h;
deny prod_only on CloudRole when request.env == Env.prod;
deny workloads on CloudRole when principal is Workload;
exception workload_ops lifts workloads when principal is Workload until 2030-12-31 owner "sre";
deny staging_workloads on CloudRole when principal is Workload and request.env == Env.staging;
)");
  std::vector<std::string> related;
  for (const Diagnostic* d : a->with("conflict")) {
    EXPECT_EQ(d->rule, "acme.nonprod");
    ASSERT_EQ(d->related.size(), 1u);
    related.push_back(d->related[0].rule);
    EXPECT_TRUE(d->witnessJson);
  }
  EXPECT_EQ(related, (std::vector<std::string>{"acme.admin", "acme.big", "acme.staging_workloads"}));
  expectWitnessesHold(*a);
}

// A second run over an unchanged program answers every job from the cache, without a
// query, and reports exactly the same findings and witnesses.
TEST(Analyzer, CachedRecheckReportsTheSameFindings) {
  const char* body = R"(
allow nonprod on CloudRole when request.env != Env.prod;
deny admin on CloudRole when request.role == "admin";
allow dead on CloudRole when request.duration < 1h and request.duration > 2h;
deny workloads on CloudRole when principal is Workload;
exception workload_ops lifts workloads when principal is Workload and request.role == "x" and request.role == "y"
  until 2030-12-31 owner "sre";
)";
  std::string dir = ::testing::TempDir() + "pave-analysis-cache-test";
  std::filesystem::remove_all(dir);
  AnalysisStats first, second;
  auto a = analyzeBody(body, dir, &first);
  auto b = analyzeBody(body, dir, &second);
  EXPECT_GT(first.queries, 0u);
  EXPECT_EQ(second.queries, 0u);
  EXPECT_GT(second.cachedJobs, 0u);
  ASSERT_EQ(a->diags.all().size(), b->diags.all().size());
  ASSERT_FALSE(a->with("conflict").empty());
  ASSERT_FALSE(a->with("dead-rule").empty());
  ASSERT_FALSE(a->with("unreachable-exception").empty());
  for (size_t i = 0; i < a->diags.all().size(); ++i) {
    const Diagnostic& x = a->diags.all()[i];
    const Diagnostic& y = b->diags.all()[i];
    EXPECT_EQ(x.code(), y.code());
    EXPECT_EQ(x.rule, y.rule);
    EXPECT_EQ(x.message, y.message);
    EXPECT_EQ(x.witnessJson, y.witnessJson);
    ASSERT_EQ(x.related.size(), y.related.size());
    for (size_t j = 0; j < x.related.size(); ++j) EXPECT_EQ(x.related[j].rule, y.related[j].rule);
  }
  expectWitnessesHold(*b);
  std::filesystem::remove_all(dir);
}

TEST(Analyzer, GrantConflictNamesTheLaterRule) {
  auto a = analyzeBody(R"(
request Database for Workload { engine: String, size_gb: Int, grant tier: String = "std" merge unique }
allow small on Database when request.size_gb <= 100 grant tier = "silver";
allow pg on Database when request.engine == "postgres" grant tier = "gold";
)");
  auto c = a->with("grant-conflict");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->rule, "acme.pg");
  ASSERT_EQ(c[0]->related.size(), 1u);
  EXPECT_EQ(c[0]->related[0].rule, "acme.small");
  expectWitnessesHold(*a);
}

TEST(Analyzer, AllowLintSuppresses) {
  auto a = analyzeBody(R"(
@allow_lint("dead-rule")
allow dead on CloudRole when request.env == Env.prod and request.env == Env.dev;
allow ok on CloudRole when request.env == Env.dev;
)");
  EXPECT_TRUE(a->with("dead-rule").empty());
}

TEST(Analyzer, StringsSetsAndNetworks) {
  auto a = analyzeBody(R"(
allow glob on CloudRole when request.role like "adm*n" and request.role.endsWith("x");
allow quantified on CloudRole when principal is Human and "b" in principal.groups
  and all g in principal.groups: g.startsWith("a");
allow net on CloudRole when has(context.source_ip) and context.source_ip in cidr("10.0.0.0/8")
  and not (context.source_ip in cidr("10.0.0.0/9"));
)");
  auto dead = a->with("dead-rule");
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0]->rule, "acme.glob");
  EXPECT_EQ(dead[1]->rule, "acme.quantified");
}

// An IPv4-mapped IPv6 address is the IPv4 address it maps (SPEC §2.1), in literals and in
// the encoding of inputs: no IPv6 input is a mapped one, so these rules can never match.
TEST(Analyzer, MappedAddressesAreIpv4) {
  auto a = analyzeBody(R"(
allow lit on CloudRole when has(context.source_ip) and context.source_ip in cidr("::ffff:10.0.0.0/104")
  and not (context.source_ip in cidr("10.0.0.0/8"));
allow addr on CloudRole when has(context.source_ip) and context.source_ip == ip("::ffff:10.1.2.3")
  and context.source_ip != ip("10.1.2.3");
allow only_mapped on CloudRole when has(context.source_ip) and context.source_ip in cidr("::fffe:0:0/95")
  and not (context.source_ip in cidr("::fffe:0:0/96"));
allow v4 on CloudRole when has(context.source_ip) and context.source_ip in cidr("::ffff:0:0/96");
)");
  auto dead = a->with("dead-rule");
  std::vector<std::string> names;
  for (const auto* d : dead) names.push_back(d->rule);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"acme.addr", "acme.lit", "acme.only_mapped"}));
}

TEST(Bounds, CyclicDemandsAreInexact) {
  auto c = checkBody(R"(
allow chain on CloudRole when principal is Human and "a" in principal.groups
  and all g in principal.groups: (g + "a") in principal.groups;
allow simple on CloudRole when principal is Human and "a" in principal.groups and principal.groups.size() < 3;
)");
  ASSERT_TRUE(c->ok()) << c->text();
  const auto& p = *c->program;
  auto roots = [&](const char* name) {
    std::vector<sema::CExprId> out;
    for (const sema::Conjunct& cj : c->rule(name).condition) out.push_back(cj.expr);
    return out;
  };
  SetBounds chain = computeBounds(p, c->rule("acme.chain").targets[0], roots("acme.chain"));
  EXPECT_FALSE(chain.exact);
  SetBounds simple = computeBounds(p, c->rule("acme.simple").targets[0], roots("acme.simple"));
  EXPECT_TRUE(simple.exact);
  EXPECT_GE(simple.of("p.acme.Human.groups"), 4u);
}

TEST(Prefilter, DisjointEnumsAndPrincipals) {
  auto c = checkBody(R"(
allow a on CloudRole when request.env == Env.dev and principal is Human;
allow b on CloudRole when request.env in [Env.prod, Env.staging];
allow d on CloudRole when principal is Workload;
allow e on CloudRole when request.env != Env.prod;
)");
  ASSERT_TRUE(c->ok()) << c->text();
  const auto& p = *c->program;
  sema::RequestId t = c->rule("acme.a").targets[0];
  auto f = [&](const char* n) { return factsOf(p, c->rule(n), t, false); };
  EXPECT_TRUE(disjoint(f("acme.a"), f("acme.b")));
  EXPECT_TRUE(disjoint(f("acme.a"), f("acme.d")));
  EXPECT_FALSE(disjoint(f("acme.a"), f("acme.e")));
  EXPECT_FALSE(disjoint(f("acme.b"), f("acme.d")));
}

}  // namespace
}  // namespace pave::analysis
