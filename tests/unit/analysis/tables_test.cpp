// The analyzer on tables (SPEC §2.3): exact for small tables, any content for large ones
// (and for tables whose data was not read), witnesses confirmed with the real rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "SemaTestUtil.h"
#include "analysis/Analyzer.h"
#include "analysis/Encoder.h"
#include "analysis/Witness.h"
#include "data/Tables.h"

namespace pave::analysis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kSchema = R"(namespace acme;
enum Env { dev, staging, prod }
principal Human { email: String, team: String }
record Account { owner: String, env: Env, admins: Set<String>, frozen: Bool? }
table accounts: Map<String, Account> from "data/accounts.json";
request CloudRole for Human { account: String, role: String }
request Ticket for Human { title: String, priority: Int }
)";

// No prod account is frozen in any of the data below.
const char* const kFrozenProd = R"(
allow frozen_prod on CloudRole
  when request.account in accounts and accounts[request.account].env == Env.prod
   and has(accounts[request.account].frozen) and accounts[request.account].frozen;
)";

json smallAccounts() {
  return {{"111", {{"owner", "team-a"}, {"env", "prod"}, {"admins", {"a@x"}}}},
          {"222", {{"owner", "team-b"}, {"env", "dev"}, {"admins", json::array()}, {"frozen", true}}},
          {"333", {{"owner", "team-c"}, {"env", "staging"}, {"admins", {"c@x", "b@x"}}, {"frozen", nullptr}}}};
}

// More rows than the exact encoding takes; still no frozen prod account.
json largeAccounts() {
  json d = smallAccounts();
  const char* envs[] = {"dev", "staging", "prod"};
  for (int i = 0; i < int(kExactTableRows) + 50; ++i) {
    json row = {{"owner", "team-" + std::to_string(i % 40)}, {"env", envs[i % 3]}, {"admins", {"u" + std::to_string(i) + "@x"}}};
    if (i % 3 != 2) row["frozen"] = i % 2 == 0;
    d["acct-" + std::to_string(1000 + i)] = row;
  }
  return d;
}

struct TableRepo {
  std::unique_ptr<testing::Checked> checked;
  DiagnosticEngine diags;
  bool analyzed = false;

  std::vector<const Diagnostic*> with(std::string_view code, std::string_view rule = {}) const {
    std::vector<const Diagnostic*> out;
    for (const Diagnostic& d : diags.all())
      if (d.code() == code && (rule.empty() || d.rule == rule)) out.push_back(&d);
    return out;
  }
};

// Checks `kSchema + body`; with `data`, reads it as the table's file (through the real
// reader), else leaves the table unread as the language server does.
std::unique_ptr<TableRepo> analyzeTables(std::string_view body, const std::optional<json>& data) {
  auto r = std::make_unique<TableRepo>();
  r->checked = testing::checkFiles({{"policy.pave", std::string(kSchema) + std::string(body)}});
  EXPECT_TRUE(r->checked->ok()) << r->checked->text();
  if (!r->checked->ok()) return r;
  if (data) {
    fs::path root = fs::temp_directory_path() / ("pave-tables-test-" + std::to_string(getpid()));
    fs::create_directories(root / "data");
    std::ofstream(root / "data" / "accounts.json") << data->dump();
    bool ok = data::loadTables(*r->checked->program, root.string(), r->checked->sources, r->checked->diags);
    fs::remove_all(root);
    EXPECT_TRUE(ok) << r->checked->text();
    if (!ok) return r;
  }
  AnalysisOptions options;
  options.now = testing::kNow;
  options.threads = 2;
  std::string error;
  r->analyzed = analyze(*r->checked->program, r->checked->sources, r->diags, options, nullptr, error);
  EXPECT_TRUE(r->analyzed) << error;
  return r;
}

std::set<std::string> keysOf(const json& data) {
  std::set<std::string> out;
  for (auto it = data.begin(); it != data.end(); ++it) out.insert(it.key());
  return out;
}

// Every witness, run through the VM with the real data, shows its rule matching.
void expectWitnessesHold(const TableRepo& r) {
  std::string error;
  auto bundle = Bundle::build(*r.checked->program, r.checked->sources, error);
  ASSERT_TRUE(bundle) << error;
  Confirmer vm(bundle);
  for (const Diagnostic& d : r.diags.all()) {
    if (!d.witnessJson) continue;
    json decision = vm.decide(json::parse(*d.witnessJson));
    EXPECT_TRUE(validInput(decision)) << decision.dump();
    EXPECT_TRUE(matchedTrue(decision, d.rule)) << d.code() << " " << decision.dump();
    if (d.code() == "conflict") {
      EXPECT_EQ(decision["decision"], "deny");
      for (const RelatedInfo& x : d.related) EXPECT_TRUE(matchedTrue(decision, x.rule)) << decision.dump();
    }
  }
}

TEST(Tables, DeadRuleWhenNoRowSatisfiesTheCondition) {
  auto r = analyzeTables(kFrozenProd, smallAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_EQ(r->with("dead-rule", "acme.frozen_prod").size(), 1u);
  EXPECT_TRUE(r->with("analysis-inconclusive").empty());
}

TEST(Tables, LiveRuleOnExactTableHasARealKey) {
  auto r = analyzeTables(R"(
allow staging_admins on CloudRole
  when request.account in accounts and accounts[request.account].env == Env.staging
   and principal.email in accounts[request.account].admins;
deny no_b on CloudRole when principal.email == "b@x";
)",
                         smallAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_TRUE(r->with("dead-rule").empty());
  auto c = r->with("conflict", "acme.staging_admins");
  ASSERT_EQ(c.size(), 1u);
  json w = json::parse(*c[0]->witnessJson);
  EXPECT_EQ(w["request"]["account"], "333");  // the only staging account with b@x as admin
  EXPECT_EQ(w["principal"]["email"], "b@x");
  expectWitnessesHold(*r);
}

TEST(Tables, LargeTableIsAnyContentSoTheRuleIsNotDead) {
  // The same rule over more rows than the exact encoding takes: some content of the type
  // has a frozen prod account, so no proof of deadness; the real rows have none, so no
  // witness is confirmed either.
  auto r = analyzeTables(kFrozenProd, largeAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_TRUE(r->with("dead-rule").empty());
  EXPECT_EQ(r->with("analysis-inconclusive", "acme.frozen_prod").size(), 1u);
}

TEST(Tables, LargeTableStillProvesWhatHoldsForEveryContent) {
  auto r = analyzeTables(R"(
allow contradiction on CloudRole
  when request.account in accounts and accounts[request.account].env == Env.prod
   and accounts[request.account].env == Env.dev;
)",
                         largeAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_EQ(r->with("dead-rule", "acme.contradiction").size(), 1u);
}

TEST(Tables, LargeTableConflictWitnessUsesARealRow) {
  json data = largeAccounts();
  auto r = analyzeTables(R"(
allow own on CloudRole
  when request.account in accounts and accounts[request.account].owner == principal.team;
deny prod_admin on CloudRole
  when request.account in accounts and accounts[request.account].env == Env.prod and request.role == "admin";
)",
                         data);
  ASSERT_TRUE(r->analyzed);
  auto c = r->with("conflict", "acme.own");
  ASSERT_EQ(c.size(), 1u) << r->checked->text();
  json w = json::parse(*c[0]->witnessJson);
  std::string key = w["request"]["account"];
  ASSERT_TRUE(keysOf(data).count(key)) << w.dump();
  EXPECT_EQ(data[key]["env"], "prod");
  expectWitnessesHold(*r);
}

TEST(Tables, UnreadDataConfirmsNothingAndProvesOnlyForEveryContent) {
  // Without the data (the language server) a table is any content: a rule dead only
  // because of the rows is not reported, a witness on a type that reads a table cannot be
  // confirmed (inconclusive), and a type that reads no table is analysed as before.
  auto r = analyzeTables(std::string(kFrozenProd) + R"(
allow own on CloudRole
  when request.account in accounts and accounts[request.account].owner == principal.team;
deny admin on CloudRole when request.role == "admin";
allow tickets on Ticket when request.priority > 3;
deny tickets_low on Ticket when request.priority < 5;
allow ticket_dead on Ticket when request.priority > 3 and request.priority < 2;
)",
                         std::nullopt);
  ASSERT_TRUE(r->analyzed);
  EXPECT_TRUE(r->with("dead-rule", "acme.frozen_prod").empty());
  EXPECT_EQ(r->with("analysis-inconclusive", "acme.frozen_prod").size(), 1u);
  EXPECT_TRUE(r->with("conflict", "acme.own").empty());
  EXPECT_EQ(r->with("analysis-inconclusive", "acme.own").size(), 1u);
  EXPECT_EQ(r->with("dead-rule", "acme.ticket_dead").size(), 1u);
  EXPECT_EQ(r->with("conflict", "acme.tickets").size(), 1u);
}

TEST(Tables, ExactSizeAndIsEmpty) {
  auto r = analyzeTables(R"(
allow sized on CloudRole when accounts.size() == 3;
allow not_sized on CloudRole when accounts.size() > 3;
allow empty on CloudRole when accounts.isEmpty();
)",
                         smallAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_TRUE(r->with("dead-rule", "acme.sized").empty());
  EXPECT_EQ(r->with("dead-rule", "acme.not_sized").size(), 1u);
  EXPECT_EQ(r->with("dead-rule", "acme.empty").size(), 1u);
}

TEST(Tables, AbsentOptionalAttributeIsNotPresent) {
  // Account 111 has no `frozen`: `has` is false there, whatever a value would be.
  auto r = analyzeTables(R"(
allow unguarded on CloudRole
  when request.account == "111" and request.account in accounts
   and has(accounts[request.account].frozen) and not accounts[request.account].frozen;
)",
                         smallAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_EQ(r->with("dead-rule", "acme.unguarded").size(), 1u);
}

TEST(Tables, QuantifierOverATableSet) {
  auto r = analyzeTables(R"(
allow x_admins on CloudRole
  when request.account in accounts and any a in accounts[request.account].admins: a like "*@x";
allow y_admins on CloudRole
  when request.account in accounts and any a in accounts[request.account].admins: a like "*@y";
)",
                         smallAccounts());
  ASSERT_TRUE(r->analyzed);
  EXPECT_TRUE(r->with("dead-rule", "acme.x_admins").empty());
  EXPECT_EQ(r->with("dead-rule", "acme.y_admins").size(), 1u);
  expectWitnessesHold(*r);
}

}  // namespace
}  // namespace pave::analysis
