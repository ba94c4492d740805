// The decision procedure (SPEC §5) and the decision JSON (SPEC §7.4).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "pave/vm.h"
#include "test_support.h"

namespace pave::rt {
// Internal (loaded_bundle.cpp): how many LoadedBundle objects exist in the process.
size_t liveBundleCount();
}  // namespace pave::rt

namespace pave::rt::test {
namespace {

using nlohmann::json;

constexpr int64_t k2026_12_31_235959 = 1798761599;

// The code of a decision's first error, or "" if it has none.
std::string firstError(const Decision& d) { return d.errors.empty() ? "" : d.errors[0].code; }

Body overflow() { return overflowingBool(); }

// A deny rule on CloudRole for the `admin` role, with its `because` text when one is given.
uint32_t denyAdminRole(Catalog& c, const char* name, const char* because = nullptr) {
  uint32_t d = c.rule(name, Effect::Deny, {c.cloudRole}, {requestRoleIs(c, "admin")});
  if (because) c.b.rules[d].because = c.b.intern(because);
  return d;
}

TEST(Decision, AllowWithGrantFromRequestAndExactJson) {
  Catalog c;
  uint32_t r = c.rule("acme.nonprod_roles", Effect::Allow, {c.cloudRole},
                      {principalIs(c, c.human), requestEnvIs(c, 0), durationAtMost(c, 4 * 3600)});
  c.grant(r, "max_ttl", loadRequest(c, c.sDuration));
  auto lb = c.load();
  Decider d(lb);
  std::string out = d.decideJson(humanInput(cloudRequest("dev", "viewer", "\"2h\"")));
  EXPECT_EQ(out,
            R"({"decision":"allow","request_type":"acme.CloudRole","rules":["acme.nonprod_roles"],"deny_rules":[],)"
            R"("exceptions":[],"approvals":[],"grants":{"max_ttl":"2h","scopes":[],"ticket_queue":"default",)"
            R"("audited":false,"common":[]},"reasons":[],"errors":[],"bundle":{"name":"acme","revision":"r1",)"
            R"("digest":"sha256:)" + std::string(lb->digestHex()) + R"("}})");
  // Identical input, identical bytes.
  EXPECT_EQ(d.decideJson(humanInput(cloudRequest("dev", "viewer", "\"2h\""))), out);
  // The boundary is inclusive; one second more falls to the default deny.
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "\"4h\"")))["decision"], "allow");
  json deny = decide(lb, humanInput(cloudRequest("dev", "viewer", "\"4h1s\"")));
  EXPECT_EQ(deny["decision"], "deny");
  EXPECT_EQ(deny["reasons"], json::array({"no-matching-rule"}));
  EXPECT_EQ(deny["grants"], json::object());
  EXPECT_EQ(deny["rules"], json::array());
}

TEST(Decision, DenyOverridesAllow) {
  Catalog c;
  c.rule("acme.nonprod_roles", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  denyAdminRole(c, "acme.no_admin", "admin roles are not self-service");
  denyAdminRole(c, "acme.a_second");  // no `because`: contributes its name
  auto lb = c.load();
  json out = decide(lb, humanInput(cloudRequest("dev", "admin")));
  EXPECT_EQ(out["decision"], "deny");
  EXPECT_EQ(out["rules"], json::array({"acme.nonprod_roles"}));
  EXPECT_EQ(out["deny_rules"], json::array({"acme.a_second", "acme.no_admin"}));
  EXPECT_EQ(out["reasons"], json::array({"acme.a_second", "admin roles are not self-service"}));
  EXPECT_EQ(out["grants"], json::object());
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer")))["decision"], "allow");
}

TEST(Decision, DenyFailsClosedAndAllowFailsOpen) {
  Catalog c;
  c.rule("acme.allow_all", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.rule("acme.broken_deny", Effect::Deny, {c.cloudRole}, {overflow()});
  auto lb = c.load();
  json out = decide(lb, humanInput(cloudRequest()), true);
  EXPECT_EQ(out["decision"], "deny");
  EXPECT_EQ(out["deny_rules"], json::array({"acme.broken_deny"}));
  ASSERT_EQ(out["errors"].size(), 1u);
  EXPECT_EQ(out["errors"][0]["code"], "evaluation-error");
  EXPECT_EQ(out["errors"][0]["rule"], "acme.broken_deny");
  EXPECT_EQ(out["errors"][0]["message"], "integer overflow");
  EXPECT_EQ(out["trace"][1]["matched"], "error");

  Catalog c2;
  c2.rule("acme.broken_allow", Effect::Allow, {c2.cloudRole}, {overflow()});
  json out2 = decide(c2.load(), humanInput(cloudRequest()));
  EXPECT_EQ(out2["decision"], "deny");
  EXPECT_EQ(out2["rules"], json::array());
  EXPECT_EQ(out2["reasons"], json::array({"no-matching-rule"}));
  EXPECT_EQ(out2["errors"][0]["rule"], "acme.broken_allow");

  // A false conjunct absorbs an error in another: no error, no match.
  Catalog c3;
  c3.rule("acme.deny", Effect::Deny, {c3.cloudRole}, {overflow(), constBool(false)});
  json out3 = decide(c3.load(), humanInput(cloudRequest()));
  EXPECT_EQ(out3["deny_rules"], json::array());
  EXPECT_EQ(out3["errors"], json::array());
}

TEST(Decision, ExceptionsLiftDeniesUntilTheirDeadline) {
  Catalog c;
  c.rule("acme.dev", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  uint32_t deny = denyAdminRole(c, "acme.no_admin", "admin is not self-service");
  c.exception("acme.migrator", deny, k2026_12_31_235959, {principalIs(c, c.human)}, "team-data", "SEC-1234");
  auto lb = c.load();
  auto at = [&](const std::string& time, const std::string& env = "dev") {
    return decide(lb, humanInput(cloudRequest(env, "admin"), R"({"time":")" + time + R"(","break_glass":false})"), true);
  };
  json active = at("2026-12-01T09:00:00Z");
  EXPECT_EQ(active["decision"], "allow");
  EXPECT_EQ(active["deny_rules"], json::array());
  EXPECT_EQ(active["exceptions"],
            json::parse(R"([{"id":"acme.migrator","lifts":"acme.no_admin","until":"2026-12-31T23:59:59Z",)"
                        R"("owner":"team-data","ticket":"SEC-1234"}])"));
  EXPECT_EQ(active["trace"][0]["rule"], "acme.dev");
  EXPECT_EQ(active["trace"][1]["rule"], "acme.migrator");
  EXPECT_EQ(active["trace"][1]["active"], true);
  // `until` is exclusive.
  json boundary = at("2026-12-31T23:59:59Z");
  EXPECT_EQ(boundary["decision"], "deny");
  EXPECT_EQ(boundary["deny_rules"], json::array({"acme.no_admin"}));
  EXPECT_EQ(boundary["exceptions"], json::array());
  EXPECT_EQ(boundary["trace"][1]["active"], false);
  EXPECT_EQ(at("2026-12-31T23:59:58Z")["decision"], "allow");
  // Lifted, but nothing allows: the default deny still lists the exception.
  json lifted = at("2026-12-01T09:00:00Z", "prod");
  EXPECT_EQ(lifted["decision"], "deny");
  EXPECT_EQ(lifted["reasons"], json::array({"no-matching-rule"}));
  EXPECT_EQ(lifted["exceptions"].size(), 1u);
  EXPECT_FALSE(lifted["exceptions"][0].contains("no-ticket"));
  // No matching deny: the exception lifts nothing and is not listed.
  json nothing = decide(lb, humanInput(cloudRequest("dev", "viewer")));
  EXPECT_EQ(nothing["exceptions"], json::array());
}

TEST(Decision, ExceptionWithoutTicketOmitsIt) {
  Catalog c;
  c.rule("acme.ok", Effect::Allow, {c.cloudRole}, {constBool(true)});
  uint32_t deny = c.rule("acme.d", Effect::Deny, {}, {constBool(true)});  // on *
  c.exception("acme.e", deny, k2026_12_31_235959, {constBool(true)}, "owner-x");
  json out = decide(c.load(), humanInput(cloudRequest()));
  EXPECT_EQ(out["decision"], "allow");
  EXPECT_EQ(out["exceptions"][0], json::parse(R"({"id":"acme.e","lifts":"acme.d","until":"2026-12-31T23:59:59Z","owner":"owner-x"})"));
}

TEST(Decision, ApprovalsCollectGroupsAndQuorum) {
  Catalog c;
  uint32_t allow = c.rule("acme.nonprod", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  c.grant(allow, "max_ttl", [](FunctionBuilder& fb) { return fb.load(fb.durationConst(4 * 3600)); });
  c.grant(allow, "scopes", [&c](FunctionBuilder& fb) { return fb.load(fb.setConst(c.tString, {fb.stringConst("read")})); });
  uint32_t admin = c.rule("acme.admin_roles", Effect::Approve, {c.cloudRole}, {requestRoleIs(c, "admin")});
  Rule& a = c.b.rules[admin];
  a.quorum = 2;
  a.approvers = {c.fn(constString("security")), c.fn([&c](FunctionBuilder& fb) {
                   Reg e = fb.reg(), out = fb.reg();
                   fb.emit(Op::LOAD_PRIN, e, c.hEmail, c.human);
                   fb.emit(Op::CONCAT, out, e, fb.load(fb.stringConst("-leads")));
                   return out;
                 }),
                 c.fn(constString("security"))};
  c.grant(admin, "max_ttl", [](FunctionBuilder& fb) { return fb.load(fb.durationConst(1800)); });
  c.grant(admin, "scopes", [&c](FunctionBuilder& fb) { return fb.load(fb.setConst(c.tString, {fb.stringConst("admin")})); });
  // Constant approvers (their JSON is written at load time), repeated, unsorted, one to escape.
  uint32_t leads = c.rule("acme.leads", Effect::Approve, {c.cloudRole}, {requestRoleIs(c, "admin")});
  c.b.rules[leads].approvers = {c.fn(constString("z\"q")), c.fn(constString("b-leads")), c.fn(constString("z\"q"))};
  auto lb = c.load();
  json out = decide(lb, humanInput(cloudRequest("dev", "admin")));
  EXPECT_EQ(out["decision"], "approval");
  EXPECT_EQ(out["rules"], json::array({"acme.admin_roles", "acme.leads", "acme.nonprod"}));
  EXPECT_EQ(out["approvals"], json::parse(R"([{"rule":"acme.admin_roles","groups":["dev@acme.io-leads","security"],"quorum":2},)"
                                          R"({"rule":"acme.leads","groups":["b-leads","z\"q"],"quorum":1}])"));
  // A decision changed by hand after the fact is written as it is.
  Decider d(lb);
  Decision changed = d.decide(humanInput(cloudRequest("dev", "admin")));
  ASSERT_EQ(changed.approvals.size(), 2u);
  const std::string_view other[] = {"other"};
  std::vector<Approval> approvals(changed.approvals.begin(), changed.approvals.end());
  approvals[1].groups = other;
  changed.approvals = approvals;
  std::string text;
  toJson(*lb, changed, text);
  EXPECT_EQ(json::parse(text)["approvals"][1], json::parse(R"({"rule":"acme.leads","groups":["other"],"quorum":1})"));
  changed = d.decide(humanInput(cloudRequest("dev", "admin")));
  approvals.assign(changed.approvals.begin(), changed.approvals.end());
  approvals[1].quorum = 3;
  changed.approvals = approvals;
  text.clear();
  toJson(*lb, changed, text);
  EXPECT_EQ(json::parse(text)["approvals"][1], json::parse(R"({"rule":"acme.leads","groups":["b-leads","z\"q"],"quorum":3})"));
  EXPECT_EQ(out["grants"]["max_ttl"], "30m");
  EXPECT_EQ(out["grants"]["scopes"], json::array({"admin", "read"}));
  json plain = decide(lb, humanInput(cloudRequest("dev", "viewer")));
  EXPECT_EQ(plain["decision"], "allow");
  EXPECT_EQ(plain["approvals"], json::array());
  EXPECT_EQ(plain["grants"]["max_ttl"], "4h");
}

TEST(Decision, GrantMergesAndUniqueConflict) {
  Catalog c;
  auto set = [&c](std::vector<std::string> xs) {
    return [&c, xs](FunctionBuilder& fb) {
      std::vector<Const> e;
      for (auto& x : xs) e.push_back(fb.stringConst(x));
      return fb.load(fb.setConst(c.tString, e));
    };
  };
  uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
  uint32_t b = c.rule("acme.b", Effect::Allow, {c.cloudRole}, {requestRoleIs(c, "viewer")});
  c.grant(a, "common", set({"x", "y", "z"}));
  c.grant(b, "common", set({"y", "z", "w"}));
  c.grant(a, "audited", constBool(false));
  c.grant(b, "audited", constBool(true));
  c.grant(a, "ticket_queue", constString("ops"));
  c.grant(b, "ticket_queue", constString("ops"));
  auto lb = c.load();
  json out = decide(lb, humanInput(cloudRequest("dev", "viewer")));
  EXPECT_EQ(out["decision"], "allow");
  EXPECT_EQ(out["grants"]["common"], json::array({"y", "z"}));
  EXPECT_EQ(out["grants"]["audited"], true);
  EXPECT_EQ(out["grants"]["ticket_queue"], "ops");
  EXPECT_EQ(out["grants"]["max_ttl"], "1h");  // default when unassigned
  // Only `a` matches: its values, not merged with defaults.
  json only_a = decide(lb, humanInput(cloudRequest("dev", "editor")));
  EXPECT_EQ(only_a["grants"]["common"], json::array({"x", "y", "z"}));
  EXPECT_EQ(only_a["grants"]["audited"], false);

  Catalog k;
  uint32_t x = k.rule("acme.x", Effect::Allow, {k.cloudRole}, {constBool(true)});
  uint32_t y = k.rule("acme.y", Effect::Allow, {k.cloudRole}, {constBool(true)});
  k.grant(x, "ticket_queue", constString("ops"));
  k.grant(y, "ticket_queue", constString("sec"));
  json conflict = decide(k.load(), humanInput(cloudRequest()));
  EXPECT_EQ(conflict["decision"], "deny");
  EXPECT_EQ(conflict["grants"], json::object());
  EXPECT_EQ(conflict["rules"], json::array({"acme.x", "acme.y"}));
  ASSERT_EQ(conflict["errors"].size(), 1u);
  EXPECT_EQ(conflict["errors"][0]["code"], "grant-conflict");
  EXPECT_EQ(conflict["errors"][0]["rule"], "acme.y");
}

// Matching rules that assign no grants and name no approvers are the decision's rules but
// take no part in grant merging (the decider keeps only the others for that step).
TEST(Decision, RulesWithoutGrantsAmongOthers) {
  Catalog c;
  c.rule("acme.a_plain", Effect::Allow, {c.cloudRole}, {constBool(true)});
  uint32_t granted = c.rule("acme.b_granted", Effect::Allow, {c.cloudRole}, {requestRoleIs(c, "viewer")});
  c.rule("acme.c_plain", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(granted, "ticket_queue", constString("ops"));
  uint32_t approve = c.rule("acme.d_approve", Effect::Approve, {c.cloudRole}, {requestRoleIs(c, "admin")});
  c.b.rules[approve].approvers = {c.fn(constString("security"))};
  auto lb = c.load();
  json one = decide(lb, humanInput(cloudRequest("dev", "viewer")));
  EXPECT_EQ(one["decision"], "allow");
  EXPECT_EQ(one["rules"], json::array({"acme.a_plain", "acme.b_granted", "acme.c_plain"}));
  EXPECT_EQ(one["grants"]["ticket_queue"], "ops");
  EXPECT_EQ(one["grants"]["max_ttl"], "1h");  // default
  json none = decide(lb, humanInput(cloudRequest("dev", "editor")));
  EXPECT_EQ(none["decision"], "allow");
  EXPECT_EQ(none["rules"], json::array({"acme.a_plain", "acme.c_plain"}));
  EXPECT_EQ(none["grants"]["ticket_queue"], "default");
  EXPECT_EQ(none["approvals"], json::array());
  json approval = decide(lb, humanInput(cloudRequest("dev", "admin")));
  EXPECT_EQ(approval["decision"], "approval");
  EXPECT_EQ(approval["rules"], json::array({"acme.a_plain", "acme.c_plain", "acme.d_approve"}));
  EXPECT_EQ(approval["approvals"], json::parse(R"([{"rule":"acme.d_approve","groups":["security"],"quorum":1}])"));
  EXPECT_EQ(approval["grants"]["ticket_queue"], "default");

  // A conflict names the first rule that assigned the grant, past rules without grants.
  Catalog k;
  uint32_t x = k.rule("acme.x", Effect::Allow, {k.cloudRole}, {constBool(true)});
  k.rule("acme.y", Effect::Allow, {k.cloudRole}, {constBool(true)});
  uint32_t z = k.rule("acme.z", Effect::Allow, {k.cloudRole}, {constBool(true)});
  k.grant(x, "ticket_queue", constString("ops"));
  k.grant(z, "ticket_queue", constString("sec"));
  json conflict = decide(k.load(), humanInput(cloudRequest()));
  EXPECT_EQ(conflict["decision"], "deny");
  ASSERT_EQ(conflict["errors"].size(), 1u);
  EXPECT_EQ(conflict["errors"][0]["code"], "grant-conflict");
  EXPECT_EQ(conflict["errors"][0]["rule"], "acme.z");
  EXPECT_NE(conflict["errors"][0]["message"].get<std::string>().find("'acme.x' and 'acme.z'"), std::string::npos);
}

TEST(Decision, ErrorsInGrantsOrApproversDeny) {
  Catalog c;
  uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(a, "max_ttl", [](FunctionBuilder& fb) {
    Reg big = fb.load(fb.durationConst(std::numeric_limits<int64_t>::max())), out = fb.reg();
    fb.emit(Op::ADD, out, big, big);
    return out;
  });
  json out = decide(c.load(), humanInput(cloudRequest()));
  EXPECT_EQ(out["decision"], "deny");
  EXPECT_EQ(out["errors"][0]["code"], "evaluation-error");
  EXPECT_EQ(out["errors"][0]["rule"], "acme.a");
  EXPECT_EQ(out["grants"], json::object());

  Catalog c2;
  uint32_t p = c2.rule("acme.p", Effect::Approve, {c2.cloudRole}, {constBool(true)});
  c2.b.rules[p].approvers = {c2.fn([&c2](FunctionBuilder& fb) {
    Reg v = fb.reg();
    fb.emit(Op::LOAD_REQ, v, c2.sJustification);  // absent: error
    return v;
  })};
  json out2 = decide(c2.load(), humanInput(cloudRequest()));
  EXPECT_EQ(out2["decision"], "deny");
  EXPECT_EQ(out2["approvals"], json::array());
  EXPECT_EQ(out2["errors"][0]["rule"], "acme.p");
}

TEST(Decision, RulesOnStarApplyToEveryRequestType) {
  Catalog c;
  uint32_t d = c.rule("acme.break_glass", Effect::Deny, {}, {[&c](FunctionBuilder& fb) {
                        Reg r = fb.reg();
                        fb.emit(Op::LOAD_CTX, r, c.cBreakGlass);
                        return r;
                      }});
  c.b.rules[d].because = c.b.intern("use the incident process");
  c.rule("acme.secrets", Effect::Allow, {c.secretAccess}, {constBool(true)});
  auto lb = c.load();
  std::string agent = R"({"type":"SecretAccess","principal":{"type":"Agent","model":"m","operator":"o"},
    "request":{"path":"kv/x","mode":"read","persistent":false,"ttl":"10m"},
    "context":{"time":"2026-11-27T10:00:00Z","break_glass":)";
  json glass = decide(lb, agent + "true}}", true);
  EXPECT_EQ(glass["decision"], "deny");
  EXPECT_EQ(glass["deny_rules"], json::array({"acme.break_glass"}));
  EXPECT_EQ(glass["rules"], json::array({"acme.secrets"}));
  EXPECT_EQ(glass["trace"].size(), 2u);
  json fine = decide(lb, agent + "false}}");
  EXPECT_EQ(fine["decision"], "allow");
  EXPECT_EQ(fine["grants"], json::parse(R"({"token_ttl":"15m"})"));
  // CloudRole only sees the global deny.
  json cloud = decide(lb, humanInput(cloudRequest()), true);
  EXPECT_EQ(cloud["trace"].size(), 1u);
  EXPECT_EQ(cloud["trace"][0]["rule"], "acme.break_glass");
}

TEST(Decision, ExplainNamesTheFirstFalseConjunct) {
  Catalog c;
  uint32_t r = c.rule("acme.nonprod", Effect::Allow, {c.cloudRole},
                      {principalIs(c, c.human), requestEnvIs(c, 0), durationAtMost(c, 4 * 3600)});
  c.b.hasSourceMap = true;
  c.b.rules[r].line = 10;
  c.b.rules[r].source = {{11, c.b.intern("principal is Human")},
                         {12, c.b.intern("request.env in [Env.dev, Env.staging]")},
                         {13, c.b.intern("request.duration <= 4h")}};
  auto lb = c.load();
  json out = decide(lb, humanInput(cloudRequest("dev", "viewer", "\"5h\"")), true);
  EXPECT_EQ(out["trace"],
            json::parse(R"([{"rule":"acme.nonprod","effect":"allow","matched":false,)"
                        R"("failed":{"line":13,"text":"request.duration <= 4h"}}])"));
  json ok = decide(lb, humanInput(cloudRequest("dev", "viewer", "\"1h\"")), true);
  EXPECT_EQ(ok["trace"], json::parse(R"([{"rule":"acme.nonprod","effect":"allow","matched":true}])"));
  // Without --explain there is no trace; stripped bundles have no `failed`.
  EXPECT_FALSE(decide(lb, humanInput(cloudRequest())).contains("trace"));
  std::string error;
  auto stripped = LoadedBundle::load(c.bytes({.signKeyPem = "", .strip = true}), {}, &error);
  ASSERT_TRUE(stripped) << error;
  json s = decide(stripped, humanInput(cloudRequest("dev", "viewer", "\"5h\"")), true);
  EXPECT_FALSE(s["trace"][0].contains("failed"));
}

TEST(Decision, PreBoundInputMatchesJson) {
  Catalog c;
  uint32_t r = c.rule("acme.nonprod", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0), durationAtMost(c, 4 * 3600)});
  c.grant(r, "max_ttl", loadRequest(c, c.sDuration));
  auto lb = c.load();
  Decider d(lb);
  std::string from_json = d.decideJson(humanInput(cloudRequest("dev", "viewer", "\"2h\"")));

  InputBuilder in = d.bind(c.cloudRole, c.human);
  EXPECT_TRUE(in.principal("email", in.makeString("dev@acme.io")));
  Value dev_group = in.makeString("dev");
  EXPECT_TRUE(in.principal("groups", in.makeSet({&dev_group, 1})));
  EXPECT_TRUE(in.principal("on_call", Value::boolean(false)));
  EXPECT_TRUE(in.request("account", in.makeString("123456789012")));
  EXPECT_TRUE(in.request("role", in.makeString("viewer")));
  EXPECT_TRUE(in.request("env", in.makeEnum("Env", "dev")));
  EXPECT_FALSE(in.request("env", Value::integer(1)));  // wrong kind is refused
  EXPECT_FALSE(in.request("path", in.makeString("x")));  // not a CloudRole attribute
  EXPECT_FALSE(in.request(c.sPath, in.makeString("x")));  // nor by slot
  EXPECT_FALSE(in.request(100000, in.makeString("x")));   // no such slot
  EXPECT_FALSE(in.principal(100000, Value::boolean(true)));
  EXPECT_FALSE(in.context(100000, Value::boolean(true)));
  EXPECT_FALSE(in.request(c.sDuration, Value::integer(7200)));  // an Int is not a Duration
  EXPECT_FALSE(in.principal("on_call", Value::integer(2, Kind::Bool)));  // a Bool is 0 or 1
  EXPECT_TRUE(in.request(c.sDuration, Value::integer(7200, Kind::Duration)));
  EXPECT_TRUE(in.context("time", Value::integer(1795773600, Kind::Timestamp)));
  EXPECT_TRUE(in.context("break_glass", Value::boolean(false)));
  const Decision& dec = d.decideBound();
  EXPECT_EQ(dec.outcome, Outcome::Allow);
  std::string bound;
  toJson(*lb, dec, bound);
  EXPECT_EQ(bound, from_json);
  EXPECT_EQ(dec.grants[0].i, 7200);
  // Deciding again on the same bound input gives the same decision, not an accumulation.
  std::string again;
  toJson(*lb, d.decideBound(), again);
  EXPECT_EQ(again, from_json);

  // Binding an unknown request type binds nothing.
  InputBuilder unknown = d.bind(100000, c.human);
  EXPECT_FALSE(unknown.request(c.sDuration, Value::integer(7200, Kind::Duration)));
  EXPECT_FALSE(unknown.principal(0, in.makeString("dev@acme.io")));
  EXPECT_FALSE(unknown.context("break_glass", Value::boolean(false)));
  EXPECT_EQ(firstError(d.decideBound()), "unknown-request-type");
  d.bind(c.cloudRole, 100000);  // an unknown principal type: the same
  EXPECT_EQ(firstError(d.decideBound()), "unknown-request-type");

  // A principal type the request type does not allow denies with principal-not-allowed.
  InputBuilder agent = d.bind(c.cloudRole, c.agent);
  ASSERT_TRUE(agent.principal("model", agent.makeString("m")) && agent.principal("operator", agent.makeString("o")) &&
              agent.request("account", agent.makeString("123456789012")) &&
              agent.request("role", agent.makeString("viewer")) && agent.request("env", agent.makeEnum("Env", "dev")) &&
              agent.request(c.sDuration, Value::integer(7200, Kind::Duration)) &&
              agent.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
              agent.context("break_glass", Value::boolean(false)));
  const Decision& refused = d.decideBound();
  EXPECT_EQ(refused.outcome, Outcome::Deny);
  ASSERT_EQ(refused.errors.size(), 1u);
  EXPECT_EQ(refused.errors[0].code, "principal-not-allowed");

  // Missing required attributes deny with missing-attribute.
  InputBuilder in2 = d.bind(c.cloudRole, c.human);
  (void)in2;
  const Decision& missing = d.decideBound();
  EXPECT_EQ(missing.outcome, Outcome::Deny);
  ASSERT_FALSE(missing.errors.empty());
  EXPECT_EQ(missing.errors[0].code, "missing-attribute");

  // Binding clears only the input and deciding clears the decision: a JSON decision, then
  // a bound one, then JSON again, each from scratch.
  EXPECT_EQ(d.decideJson(humanInput(cloudRequest("prod", "viewer", "\"2h\""))).find("\"allow\""), std::string::npos);
  InputBuilder in3 = d.bind(c.cloudRole, c.human);
  Value dev_group3 = in3.makeString("dev");  // values made before the last bind are gone
  EXPECT_TRUE(in3.principal("email", in3.makeString("dev@acme.io")) &&
              in3.principal("groups", in3.makeSet({&dev_group3, 1})) && in3.principal("on_call", Value::boolean(false)) &&
              in3.request("account", in3.makeString("123456789012")) && in3.request("role", in3.makeString("viewer")) &&
              in3.request("env", in3.makeEnum("Env", "dev")) &&
              in3.request(c.sDuration, Value::integer(7200, Kind::Duration)) &&
              in3.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
              in3.context("break_glass", Value::boolean(false)));
  std::string rebound;
  toJson(*lb, d.decideBound(), rebound);
  EXPECT_EQ(rebound, from_json);
  EXPECT_EQ(d.decideJson(humanInput(cloudRequest("dev", "viewer", "\"2h\""))), from_json);
}

// Binds a Human's CloudRole request for a dev viewer (the context's source_ip left out).
bool bindDevViewer(InputBuilder& in, const Catalog& c) {
  return in.principal("email", in.makeString("dev@acme.io")) && in.principal("groups", in.makeSet({})) &&
         in.principal("on_call", Value::boolean(false)) && in.request("account", in.makeString("123456789012")) &&
         in.request("role", in.makeString("viewer")) && in.request("env", in.makeEnum("Env", "dev")) &&
         in.request(c.sDuration, Value::integer(7200, Kind::Duration)) &&
         in.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
         in.context("break_glass", Value::boolean(false));
}

// A decision's lists have room for every applicable rule (SPEC §5: each rule is walked at
// most once): full lists, with and without a trace. Under the sanitizers, a list written
// past its room is reported.
TEST(Decision, ListsHoldEveryApplicableRule) {
  for (Effect effect : {Effect::Approve, Effect::Deny}) {
    Catalog c;
    constexpr int kRules = 70;  // more than one bitset word
    for (int i = 0; i < kRules; ++i) {
      uint32_t r = c.rule("acme.r" + std::to_string(100 + i), effect, {c.cloudRole}, {constBool(true)});
      if (effect == Effect::Approve) c.b.rules[r].approvers = {c.fn(constString("team"))};
    }
    auto lb = c.load();
    Decider d(lb);
    for (bool explain : {false, true}) {
      const Decision& dec = d.decide(humanInput(cloudRequest()), explain);
      ASSERT_TRUE(dec.errors.empty());
      if (effect == Effect::Approve) {
        EXPECT_EQ(dec.outcome, Outcome::Approval);
        EXPECT_EQ(dec.rules.size(), size_t(kRules));
        EXPECT_EQ(dec.approvals.size(), size_t(kRules));
      } else {
        EXPECT_EQ(dec.outcome, Outcome::Deny);
        EXPECT_EQ(dec.denyRules.size(), size_t(kRules));
        EXPECT_EQ(dec.reasons.size(), size_t(kRules));
      }
      EXPECT_EQ(dec.trace.size(), explain ? size_t(kRules) : 0u);
    }
  }
}

// Regression: an IPv4 value built by hand may leave anything in the 12 unused bytes of its
// address (and in its prefix); it must still equal the same address from JSON or a
// constant.
TEST(Decision, PreBoundIpv4IgnoresUnusedAddressBytes) {
  Catalog c;
  IpAddr office;
  office.family = 4;
  office.bytes[0] = 10, office.bytes[1] = 3, office.bytes[2] = 1, office.bytes[3] = 2;
  c.rule("acme.from_office", Effect::Allow, {c.cloudRole}, {[&c, office](FunctionBuilder& fb) {
           Reg ip = fb.reg(), out = fb.reg();
           fb.emit(Op::LOAD_CTX, ip, c.cSourceIp);
           Reg k = fb.load(fb.ipConst(office, false));
           fb.emit(Op::EQ, out, ip, k);
           return out;
         }});
  // The same test in a form the fast path does not recognize (an extra MOVE).
  c.rule("acme.from_office_slow", Effect::Allow, {c.cloudRole}, {[&c, office](FunctionBuilder& fb) {
           Reg ip = fb.reg(), moved = fb.reg(), out = fb.reg();
           fb.emit(Op::LOAD_CTX, ip, c.cSourceIp);
           fb.emit(Op::MOVE, moved, ip);
           Reg k = fb.load(fb.ipConst(office, false));
           fb.emit(Op::EQ, out, moved, k);
           return out;
         }});
  auto lb = c.load();
  Decider d(lb);
  for (uint8_t junk : {uint8_t(0), uint8_t(0xab), uint8_t(0xff)}) {
    InputBuilder in = d.bind(c.cloudRole, c.human);
    Value ip;
    std::memset(static_cast<void*>(&ip), junk, sizeof ip);  // leftovers everywhere, then the fields that matter
    ip.kind = Kind::Ip;
    ip.family = 4;
    ip.n = 0;
    ip.ip[0] = 10, ip.ip[1] = 3, ip.ip[2] = 1, ip.ip[3] = 2;
    ASSERT_TRUE(bindDevViewer(in, c));
    ASSERT_TRUE(in.context("source_ip", ip));
    const Decision& dec = d.decideBound();
    EXPECT_EQ(dec.outcome, Outcome::Allow) << "junk " << int(junk);
    EXPECT_EQ(dec.rules.size(), 2u) << "junk " << int(junk);
  }
  Value a, b;
  std::memset(static_cast<void*>(&a), 0x5a, sizeof a);
  std::memset(static_cast<void*>(&b), 0, sizeof b);
  for (Value* v : {&a, &b}) {
    v->kind = Kind::Ip;
    v->family = 4;
    v->ip[0] = 192, v->ip[1] = 168, v->ip[2] = 0, v->ip[3] = 1;
  }
  EXPECT_TRUE(equalValues(a, b));
}

// A bound Cidr keeps only its prefix's bits (host bits cleared, whatever the prefix), as the
// JSON decoder would; seen through a grant that is the attribute as is.
// Adds an optional context attribute `name` of `type`, a CloudRole grant of the same name
// (default `def`, merge unique) and a rule that allows and grants the attribute as is, so
// that the decision shows the attribute as the decider stored it. Returns its slot.
uint32_t grantContextAttribute(Catalog& c, const char* name, TypeId type, Const def) {
  c.b.schema.context.push_back({c.b.intern(name), type, true});
  const uint32_t slot = uint32_t(c.b.schema.context.size() - 1);
  def.type = type;
  c.b.schema.requests[c.cloudRole].grants.push_back({c.b.intern(name), type, def, MergeOp::Unique});
  uint32_t r = c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(r, name, [slot](FunctionBuilder& fb) {
    Reg v = fb.reg();
    fb.emit(Op::LOAD_CTX, v, slot);
    return v;
  });
  return slot;
}

TEST(Decision, PreBoundCidrHostBitsAreCleared) {
  Catalog c;
  Const def;
  def.ip.family = 4;
  const uint32_t net = grantContextAttribute(c, "net", c.tCidr, def);
  auto lb = c.load();
  Decider d(lb);
  for (uint8_t family : {uint8_t(4), uint8_t(6)})
    for (unsigned prefix : {0u, 1u, 7u, 8u, 9u, 20u, 31u, 32u, 63u, 64u, 65u, 100u, 127u, 128u}) {
      if (family == 4 && prefix > 32) continue;
      Value v;
      std::memset(static_cast<void*>(&v), 0xff, sizeof v);
      v.kind = Kind::Cidr;
      v.family = family;
      v.prefix = uint8_t(prefix);
      uint8_t want[16] = {};
      for (unsigned bit = 0; bit < prefix; ++bit) want[bit / 8] |= uint8_t(0x80u >> (bit % 8));
      char text[64];
      ASSERT_TRUE(inet_ntop(family == 4 ? AF_INET : AF_INET6, want, text, sizeof text));
      InputBuilder in = d.bind(c.cloudRole, c.human);
      ASSERT_TRUE(bindDevViewer(in, c));
      ASSERT_TRUE(in.context(net, v));
      std::string out;
      toJson(*lb, d.decideBound(), out);
      EXPECT_EQ(json::parse(out)["grants"]["net"], std::string(text) + "/" + std::to_string(prefix)) << out;
    }
}

// Addresses in a bound set are stored canonical too, as the JSON decoder makes them: no
// prefix on an Ip, the bytes its family does not use zero.
TEST(Decision, PreBoundSetsOfAddressesAreCanonical) {
  Catalog c;
  const uint32_t hosts = grantContextAttribute(c, "hosts", c.b.typeId(TypeDesc{TypeKind::Set, kNone, c.tIp}), {});
  auto lb = c.load();
  Decider d(lb);
  auto ip = [](std::initializer_list<uint8_t> bytes, uint8_t leftover, uint8_t prefix) {
    Value v;
    std::memset(static_cast<void*>(&v), leftover, sizeof v);
    v.kind = Kind::Ip;
    v.family = 4;
    v.prefix = prefix;
    std::copy(bytes.begin(), bytes.end(), v.ip);
    return v;
  };
  InputBuilder in = d.bind(c.cloudRole, c.human);
  ASSERT_TRUE(bindDevViewer(in, c));
  const Value list[] = {ip({10, 0, 0, 5}, 0x11, 0), ip({10, 0, 0, 5}, 0xee, 24), ip({10, 0, 0, 6}, 0x00, 0)};
  const Value set = in.makeSet(list);
  ASSERT_EQ(set.n, 2u);  // the first two are the same address
  ASSERT_TRUE(in.context(hosts, set));
  const Decision& dec = d.decideBound();
  std::string out;
  toJson(*lb, dec, out);
  EXPECT_EQ(json::parse(out)["grants"]["hosts"], json::parse(R"(["10.0.0.5", "10.0.0.6"])")) << out;
  // The grant is the attribute as stored: no prefix, the unused bytes zero.
  const Value& granted = dec.grants.back();  // the last grant of CloudRole
  ASSERT_EQ(granted.n, 2u);
  for (const Value* e = granted.elems; e < granted.elems + 2; ++e) {
    EXPECT_EQ(e->prefix, 0);
    for (int i = 4; i < 16; ++i) EXPECT_EQ(e->ip[i], 0) << i;
  }
}

// A value the compiler cannot see through, so that binding it takes InputBuilder::set's
// checks for a kind only known at run time (a value built in the call folds them).
[[gnu::noinline]] Value opaque(const Value& v) {
  Value out = v;
  asm volatile("" : "+m"(out));
  return out;
}

// A catalog whose one rule allows every CloudRole request, and a decider for it: what the
// binding checks tests bind to.
struct AnyAllowed {
  Catalog c;
  std::shared_ptr<const LoadedBundle> lb;
  std::unique_ptr<Decider> d;
  AnyAllowed() {
    c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
    lb = c.load();
    d = std::make_unique<Decider>(lb);
  }
  InputBuilder bindHuman() { return d->bind(c.cloudRole, c.human); }
};

// Scalars are checked inline by their kind: each case both built in the call and opaque.
TEST(Decision, PreBoundScalarsAreCheckedByKind) {
  AnyAllowed any;
  const Catalog& c = any.c;
  InputBuilder in = any.bindHuman();
  const Value error = Value::error("e");
#define PAVE_BIND_CASE(root, slot, value, ok)                        \
  EXPECT_EQ(in.root(slot, value), ok) << #slot " " #value;          \
  EXPECT_EQ(in.root(slot, opaque(value)), ok) << #slot " opaque " #value;
  PAVE_BIND_CASE(request, c.sEnv, Value::enumMember(c.envEnum, 0), true)
  PAVE_BIND_CASE(request, c.sEnv, Value::enumMember(c.envEnum, 2), true)
  PAVE_BIND_CASE(request, c.sEnv, Value::enumMember(c.envEnum, 3), false)   // Env has 3 members
  PAVE_BIND_CASE(request, c.sEnv, Value::enumMember(c.envEnum, -1), false)
  PAVE_BIND_CASE(request, c.sEnv, Value::enumMember(c.modeEnum, 0), false)  // a member of another enum
  PAVE_BIND_CASE(request, c.sEnv, Value::integer(0), false)
  PAVE_BIND_CASE(principal, c.hOnCall, Value::boolean(true), true)
  PAVE_BIND_CASE(principal, c.hOnCall, Value::boolean(false), true)
  PAVE_BIND_CASE(principal, c.hOnCall, Value::integer(2, Kind::Bool), false)  // a Bool is 0 or 1
  PAVE_BIND_CASE(principal, c.hOnCall, Value::integer(-1, Kind::Bool), false)
  PAVE_BIND_CASE(principal, c.hOnCall, Value::integer(1), false)
  PAVE_BIND_CASE(request, c.sDuration, Value::integer(7200, Kind::Duration), true)
  PAVE_BIND_CASE(request, c.sDuration, Value::integer(7200), false)
  PAVE_BIND_CASE(request, c.sDuration, Value::integer(7200, Kind::Timestamp), false)
  PAVE_BIND_CASE(context, c.cTime, Value::integer(1795773600, Kind::Timestamp), true)
  PAVE_BIND_CASE(context, c.cTime, Value::integer(1795773600, Kind::Duration), false)
  PAVE_BIND_CASE(request, c.sAccount, Value::string("123456789012"), true)
  PAVE_BIND_CASE(request, c.sAccount, Value::enumMember(c.envEnum, 0), false)
  PAVE_BIND_CASE(request, c.sAccount, Value(), false)  // absent
  PAVE_BIND_CASE(request, c.sAccount, error, false)
  PAVE_BIND_CASE(request, c.sPath, Value::string("x"), false)  // not a CloudRole attribute
  PAVE_BIND_CASE(request, c.sPath, Value(), false)
#undef PAVE_BIND_CASE
}

// Set<String>, Map<String, String> and addresses take their own checks when bound (not the
// general type check): each must still refuse what JSON decoding would never produce.
TEST(Decision, PreBoundCollectionsAndAddressesAreChecked) {
  AnyAllowed any;
  const Catalog& c = any.c;
  InputBuilder in = any.bindHuman();
  const Value a = Value::string("a"), b = Value::string("b"), one = Value::integer(1);
  const Value sorted[] = {a, b}, unsorted[] = {b, a}, repeated[] = {a, a}, mixed[] = {a, one};
  EXPECT_TRUE(in.principal(c.hGroups, Value::set(sorted, 2)));
  EXPECT_TRUE(in.principal(c.hGroups, Value::set(nullptr, 0)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(unsorted, 2)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(repeated, 2)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(mixed, 2)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(nullptr, 1)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::map(sorted, 1)));  // a map is not a set
  // One element is checked on a shorter path: it must still be a string.
  EXPECT_TRUE(in.principal(c.hGroups, Value::set(&a, 1)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(&one, 1)));
  const Value entries[] = {a, b, b, a}, swapped[] = {b, a, a, b}, twice[] = {a, b, a, b}, bad_value[] = {a, one};
  EXPECT_TRUE(in.request(c.sTags, Value::map(entries, 2)));
  EXPECT_FALSE(in.request(c.sTags, Value::map(swapped, 2)));
  EXPECT_FALSE(in.request(c.sTags, Value::map(twice, 2)));
  EXPECT_FALSE(in.request(c.sTags, Value::map(bad_value, 1)));
  const Value bad_key[] = {one, a};
  EXPECT_FALSE(in.request(c.sTags, Value::map(bad_key, 1)));
  EXPECT_TRUE(in.request(c.sTags, Value::map(entries, 1)));
  EXPECT_FALSE(in.request(c.sTags, Value::set(sorted, 2)));
  // A prefix shorter than "ab" orders first ("a" < "ab").
  const Value ab = Value::string("ab"), prefix_first[] = {a, ab}, prefix_last[] = {ab, a};
  EXPECT_TRUE(in.principal(c.hGroups, Value::set(prefix_first, 2)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(prefix_last, 2)));
  // The empty string (here without a pointer) orders first.
  const Value empty = Value::string({}), empty_first[] = {empty, a}, empty_twice[] = {empty, empty};
  EXPECT_TRUE(in.principal(c.hGroups, Value::set(empty_first, 2)));
  EXPECT_FALSE(in.principal(c.hGroups, Value::set(empty_twice, 2)));
  // Random sets and maps of strings with shared first bytes and bytes above 0x7f: accepted
  // exactly when strictly increasing, bytewise.
  const std::string_view pool[] = {"", "a", "aa", "ab", "b", "\x7f", "\x80", "\x80" "a", "\xff", "\xff\xff"};
  std::mt19937 rng(7);
  for (int round = 0; round < 4000; ++round) {
    const size_t n = 2 + rng() % 4;
    Value elems[5], entries[10];
    std::string_view texts[5];
    for (size_t i = 0; i < n; ++i) {
      texts[i] = pool[rng() % std::size(pool)];
      elems[i] = entries[2 * i] = Value::string(texts[i]);
      entries[2 * i + 1] = Value::string("v");
    }
    bool increasing = true;
    for (size_t i = 1; i < n; ++i) increasing &= texts[i - 1] < texts[i];
    EXPECT_EQ(in.principal(c.hGroups, Value::set(elems, uint32_t(n))), increasing) << round;
    EXPECT_EQ(in.request(c.sTags, Value::map(entries, uint32_t(n))), increasing) << round;
    entries[2 * (n - 1) + 1] = Value::integer(1);  // a value that is not a String
    EXPECT_FALSE(in.request(c.sTags, Value::map(entries, uint32_t(n)))) << round;
  }
  Value ip;
  ip.kind = Kind::Ip;
  for (uint8_t family : {uint8_t(0), uint8_t(5)}) {
    ip.family = family;
    EXPECT_FALSE(in.context(c.cSourceIp, ip)) << int(family);
  }
  ip.family = 6;
  EXPECT_TRUE(in.context(c.cSourceIp, ip));
  Value net = ip;
  net.kind = Kind::Cidr;
  EXPECT_FALSE(in.context(c.cSourceIp, net));  // a Cidr is not an Ip
}

// Binding again clears what the last binding set, also after binding another request type
// in between (each request type clears only its own range of slots).
TEST(Decision, RebindingClearsOptionalAttributes) {
  Catalog c;
  c.rule("acme.counted", Effect::Allow, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
           Reg out = fb.reg();
           fb.emit(Op::HAS_REQ, out, c.sCount);
           return out;
         }});
  auto lb = c.load();
  Decider d(lb);
  auto bindCloudRole = [&](bool with_count) {
    InputBuilder in = d.bind(c.cloudRole, c.human);
    Value dev = in.makeString("dev");
    bool ok = in.principal("email", in.makeString("dev@acme.io")) && in.principal("groups", in.makeSet({&dev, 1})) &&
              in.principal("on_call", Value::boolean(false)) &&
              in.request("account", in.makeString("123456789012")) && in.request("role", in.makeString("viewer")) &&
              in.request("env", in.makeEnum("Env", "dev")) &&
              in.request(c.sDuration, Value::integer(3600, Kind::Duration)) &&
              in.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
              in.context("break_glass", Value::boolean(false));
    if (with_count) ok = ok && in.request(c.sCount, Value::integer(3));
    return ok;
  };
  ASSERT_TRUE(bindCloudRole(true));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Allow);
  ASSERT_TRUE(bindCloudRole(false));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Deny);
  EXPECT_TRUE(d.decideBound().errors.empty());  // denied by default, not for an error
  ASSERT_TRUE(bindCloudRole(true));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Allow);
  InputBuilder secret = d.bind(c.secretAccess, c.workload);
  EXPECT_FALSE(secret.request(c.sCount, Value::integer(3)));  // not a SecretAccess attribute
  EXPECT_EQ(firstError(d.decideBound()), "missing-attribute");
  ASSERT_TRUE(bindCloudRole(false));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Deny);
}

// Binding tracks which attributes were set: a required attribute set by an earlier binding,
// then left unset or refused, is missing from the next decision.
TEST(Decision, RebindingChecksRequiredAttributesAgain) {
  Catalog c;
  c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  auto lb = c.load();
  Decider d(lb);
  // Binds a complete CloudRole input, except that the role is `role` (none: left unset).
  auto bindCloudRole = [&](const Value* role) {
    InputBuilder in = d.bind(c.cloudRole, c.human);
    Value dev = in.makeString("dev");
    bool ok = in.principal("email", in.makeString("dev@acme.io")) && in.principal("groups", in.makeSet({&dev, 1})) &&
              in.principal("on_call", Value::boolean(false)) &&
              in.request("account", in.makeString("123456789012")) && in.request("env", in.makeEnum("Env", "dev")) &&
              in.request(c.sDuration, Value::integer(3600, Kind::Duration)) &&
              in.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
              in.context("break_glass", Value::boolean(false));
    return ok && (!role || in.request(c.sRole, *role));
  };
  const Value viewer = Value::string("viewer"), wrong = Value::integer(7);
  ASSERT_TRUE(bindCloudRole(&viewer));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Allow);
  ASSERT_TRUE(bindCloudRole(nullptr));
  const Decision& unset = d.decideBound();
  EXPECT_EQ(unset.outcome, Outcome::Deny);
  ASSERT_EQ(unset.errors.size(), 1u);
  EXPECT_EQ(unset.errors[0].code, "missing-attribute");
  EXPECT_EQ(unset.errors[0].path, "$.request.role");
  ASSERT_TRUE(bindCloudRole(&viewer));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Allow);
  EXPECT_FALSE(bindCloudRole(&wrong));  // refused: the role stays unset
  const Decision& refused = d.decideBound();
  ASSERT_EQ(refused.errors.size(), 1u);
  EXPECT_EQ(refused.errors[0].path, "$.request.role");
  // A principal and a context attribute the same way.
  ASSERT_TRUE(bindCloudRole(&viewer));
  InputBuilder in = d.bind(c.cloudRole, c.human);
  Value dev = in.makeString("dev");
  ASSERT_TRUE(in.principal("groups", in.makeSet({&dev, 1})) && in.principal("on_call", Value::boolean(false)) &&
              in.request("account", in.makeString("123456789012")) && in.request("role", in.makeString("viewer")) &&
              in.request("env", in.makeEnum("Env", "dev")) &&
              in.request(c.sDuration, Value::integer(3600, Kind::Duration)) &&
              in.context("break_glass", Value::boolean(false)));
  const Decision& both = d.decideBound();
  ASSERT_EQ(both.errors.size(), 2u);
  EXPECT_EQ(both.errors[0].path, "$.principal.email");
  EXPECT_EQ(both.errors[1].path, "$.context.time");
}

// A request type whose attributes span more than 64 slots: binding clears its whole range
// instead of tracking which attributes were set, with the same results.
TEST(Decision, PreBoundWideRequestType) {
  Catalog c;
  std::vector<uint32_t> slots;
  RequestType wide{c.b.intern("acme.Wide"), {c.human}, {}, {}};
  for (int i = 0; i < 70; ++i) {
    c.b.schema.requestSlots.push_back({c.b.intern("f" + std::to_string(i)), c.tInt});
    slots.push_back(uint32_t(c.b.schema.requestSlots.size() - 1));
    wide.attrs.push_back({slots.back(), i != 0 && i != 69});  // f0 and f69 required
  }
  c.b.schema.requests.push_back(wide);
  const uint32_t type = uint32_t(c.b.schema.requests.size() - 1);
  const uint32_t f68 = slots[68];
  c.rule("acme.wide", Effect::Allow, {type}, {[f68](FunctionBuilder& fb) {
           Reg out = fb.reg();
           fb.emit(Op::HAS_REQ, out, f68);
           return out;
         }});
  auto lb = c.load();
  Decider d(lb);
  auto bindWide = [&](bool f68_set, bool f69_set) {
    InputBuilder in = d.bind(type, c.human);
    Value dev = in.makeString("dev");
    bool ok = in.principal("email", in.makeString("dev@acme.io")) && in.principal("groups", in.makeSet({&dev, 1})) &&
              in.principal("on_call", Value::boolean(false)) &&
              in.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
              in.context("break_glass", Value::boolean(false)) && in.request(slots[0], Value::integer(0));
    if (f68_set) ok = ok && in.request("f68", Value::integer(68));
    if (f69_set) ok = ok && in.request(slots[69], Value::integer(69));
    return ok;
  };
  ASSERT_TRUE(bindWide(true, true));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Allow);
  ASSERT_TRUE(bindWide(false, true));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Deny);
  EXPECT_TRUE(d.decideBound().errors.empty());
  ASSERT_TRUE(bindWide(true, false));
  const Decision& missing = d.decideBound();
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].path, "$.request.f69");
  ASSERT_TRUE(bindWide(true, true));
  EXPECT_EQ(d.decideBound().outcome, Outcome::Allow);
}

// A grant that is an attribute as is: read from the input when present; when absent, the
// bytecode's error denies.
TEST(Decision, GrantOfAnOptionalAttribute) {
  Catalog c;
  uint32_t r = c.rule("acme.queue", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(r, "ticket_queue", loadRequest(c, c.sJustification));
  auto lb = c.load();
  json with = decide(lb, humanInput(R"({"account": "123456789012", "role": "viewer", "env": "dev",
                                        "duration": "1h", "justification": "ops-queue"})"));
  EXPECT_EQ(with["decision"], "allow");
  EXPECT_EQ(with["grants"]["ticket_queue"], "ops-queue");
  json without = decide(lb, humanInput(cloudRequest()));
  EXPECT_EQ(without["decision"], "deny");
  ASSERT_EQ(without["errors"].size(), 1u);
  EXPECT_EQ(without["errors"][0]["code"], "evaluation-error");
  EXPECT_EQ(without["errors"][0]["rule"], "acme.queue");
}

// Strings are scanned 16 and 8 bytes at a time: an escape, a non-ASCII or a forbidden byte
// at any position of strings of many lengths is decoded, written back and refused exactly
// as one byte at a time would.
TEST(Decision, StringsRoundTripWhateverTheirLayout) {
  Catalog c;
  uint32_t r = c.rule("acme.echo", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(r, "ticket_queue", loadRequest(c, c.sJustification));
  auto lb = c.load();
  Decider d(lb);
  // The string in the middle of the input, and as its last value (so that the scan runs
  // into the end of the text: 16 bytes, then words, then bytes).
  auto inputs = [](const std::string& literal) {
    const std::string request =
        R"({"account": "1", "role": "viewer", "env": "dev", "duration": "1h", "justification": )" + literal + "}";
    return std::array<std::string, 2>{
        humanInput(request),
        R"({"type": "CloudRole", "principal": {"type": "Human", "email": "e", "groups": [], "on_call": false},)"
        R"( "context": {"time": "2026-11-27T10:00:00Z", "break_glass": false}, "request": )" +
            request + "}"};
  };
  const std::string valid[] = {"\\\"", "\\\\", "\\n", "\\u00e9", "\xc3\xa9", "\\u0001", "/"};
  const std::string invalid[] = {std::string(1, '\x01'), "\xff", "\\x"};
  size_t checked = 0;
  for (size_t len = 0; len <= 40; ++len)
    for (size_t pos = 0; pos <= len; ++pos) {
      const std::string before(pos, 'a'), after(len - pos, 'b');
      for (const std::string& special : valid) {
        const std::string literal = "\"" + before + special + after + "\"";
        for (const std::string& in : inputs(literal)) {
          json out = json::parse(d.decideJson(in));
          ASSERT_EQ(out["grants"]["ticket_queue"], json::parse(literal)) << in;
          ++checked;
        }
      }
      for (const std::string& special : invalid) {
        const std::string literal = "\"" + before + special + after + "\"";
        for (const std::string& in : inputs(literal)) {
          json out = json::parse(d.decideJson(in));
          ASSERT_EQ(out["errors"][0]["code"], "malformed-json") << in;
        }
      }
    }
  EXPECT_EQ(checked, 2u * 7 * 41 * 42 / 2);
}

// The first rule to assign a grant is tracked per decision: one decider, many decisions,
// alternating which rules match, gives each decision its own grants and conflict message.
TEST(Decision, GrantsAreTrackedPerDecision) {
  Catalog c;
  uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {requestRoleIs(c, "viewer")});
  uint32_t b = c.rule("acme.b", Effect::Allow, {c.cloudRole}, {requestRoleIs(c, "editor")});
  uint32_t x = c.rule("acme.x", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 1)});
  c.grant(a, "ticket_queue", constString("ops"));
  c.grant(b, "ticket_queue", constString("sec"));
  c.grant(x, "ticket_queue", constString("sec"));
  auto lb = c.load();
  Decider d(lb);
  for (int i = 0; i < 300; ++i) {
    json viewer = json::parse(d.decideJson(humanInput(cloudRequest("dev", "viewer"))));
    EXPECT_EQ(viewer["grants"]["ticket_queue"], "ops") << i;
    json editor = json::parse(d.decideJson(humanInput(cloudRequest("dev", "editor"))));
    EXPECT_EQ(editor["grants"]["ticket_queue"], "sec") << i;
    json conflict = json::parse(d.decideJson(humanInput(cloudRequest("staging", "viewer"))));
    ASSERT_EQ(conflict["errors"].size(), 1u) << i;
    EXPECT_EQ(conflict["decision"], "deny");
    EXPECT_EQ(conflict["errors"][0]["message"],
              "grant 'ticket_queue' is assigned different values by 'acme.a' and 'acme.x'");
    json agree = json::parse(d.decideJson(humanInput(cloudRequest("staging", "editor"))));
    EXPECT_EQ(agree["grants"]["ticket_queue"], "sec") << i;
    EXPECT_TRUE(agree["errors"].empty()) << i;
  }
}

TEST(Decision, ConcurrentDecisionsShareOneBundle) {
  Catalog c;
  uint32_t r = c.rule("acme.nonprod", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  c.grant(r, "max_ttl", loadRequest(c, c.sDuration));
  denyAdminRole(c, "acme.no_admin");
  auto lb = c.load();
  const std::string inputs[] = {humanInput(cloudRequest("dev", "viewer", "\"2h\"")),
                                humanInput(cloudRequest("dev", "admin")), humanInput(cloudRequest("prod"))};
  std::string expected[3];
  {
    Decider d(lb);
    for (int i = 0; i < 3; ++i) expected[i] = d.decideJson(inputs[i]);
  }
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Decider d(lb);
      for (int i = 0; i < 500; ++i)
        if (d.decideJson(inputs[(i + t) % 3]) != expected[(i + t) % 3]) ++mismatches;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Decision, CApi) {
  Catalog c;
  c.rule("acme.all", Effect::Allow, {c.cloudRole}, {constBool(true)});
  std::vector<uint8_t> bytes = c.bytes();
  pave_bundle* b = pave_open(bytes.data(), bytes.size(), nullptr);
  ASSERT_NE(b, nullptr) << pave_last_error();
  std::string in = humanInput(cloudRequest());
  char* out = pave_decide(b, in.data(), in.size(), 1);
  ASSERT_NE(out, nullptr);
  json j = json::parse(out);
  EXPECT_EQ(j["decision"], "allow");
  EXPECT_TRUE(j.contains("trace"));
  pave_free(out);
  char* bad = pave_decide(b, "{", 1, 0);
  EXPECT_EQ(json::parse(bad)["errors"][0]["code"], "malformed-json");
  pave_free(bad);
  pave_close(b);
  uint8_t garbage[] = {'P', 'A', 'V', 'B', 0};
  EXPECT_EQ(pave_open(garbage, sizeof garbage, nullptr), nullptr);
  EXPECT_NE(std::string(pave_last_error()), "");
}

// pave_decide_into writes what pave_decide returns into the caller's buffer when it fits,
// and only says how large it is when it does not.
TEST(Decision, CApiDecideInto) {
  Catalog c;
  c.rule("acme.all", Effect::Allow, {c.cloudRole}, {constBool(true)});
  std::vector<uint8_t> bytes = c.bytes();
  pave_bundle* b = pave_open(bytes.data(), bytes.size(), nullptr);
  ASSERT_NE(b, nullptr) << pave_last_error();
  for (const std::string& in : {humanInput(cloudRequest()), std::string("{")})
    for (int explain : {0, 1}) {
      char* want = pave_decide(b, in.data(), in.size(), explain);
      ASSERT_NE(want, nullptr);
      const size_t n = std::strlen(want);
      std::string small(n - 1, '#');
      EXPECT_EQ(pave_decide_into(b, in.data(), in.size(), explain, small.data(), small.size()), n);
      EXPECT_EQ(small, std::string(n - 1, '#'));  // too small: nothing written
      std::string buf(n + 8, '#');
      ASSERT_EQ(pave_decide_into(b, in.data(), in.size(), explain, buf.data(), buf.size()), n);
      EXPECT_EQ(buf.substr(0, n), want);
      EXPECT_EQ(buf.substr(n), std::string(8, '#'));
      EXPECT_EQ(pave_decide_into(b, in.data(), in.size(), explain, nullptr, 0), n);  // size only
      pave_free(want);
    }
  char buf[8];
  EXPECT_EQ(pave_decide_into(nullptr, "{}", 2, 0, buf, sizeof buf), PAVE_DECIDE_FAILED);
  EXPECT_EQ(std::string(pave_last_error()), "invalid arguments");
  EXPECT_EQ(pave_decide_into(b, "{}", 2, 0, nullptr, 8), PAVE_DECIDE_FAILED);
  pave_close(b);
}

// Regression: the decider a thread caches for the C API must not keep a closed bundle
// alive, neither on the thread that closes it nor on another thread that used it.
TEST(Decision, CApiCloseFreesTheBundle) {
  Catalog c;
  c.rule("acme.all", Effect::Allow, {c.cloudRole}, {constBool(true)});
  std::vector<uint8_t> bytes = c.bytes();
  const std::string in = humanInput(cloudRequest());
  const size_t before = liveBundleCount();
  pave_bundle* b = pave_open(bytes.data(), bytes.size(), nullptr);
  ASSERT_NE(b, nullptr) << pave_last_error();
  EXPECT_EQ(liveBundleCount(), before + 1);
  std::thread other([&] { pave_free(pave_decide(b, in.data(), in.size(), 0)); });  // caches a decider there
  other.join();
  char* out = pave_decide(b, in.data(), in.size(), 0);
  ASSERT_NE(out, nullptr);
  pave_free(out);
  pave_close(b);
  EXPECT_EQ(liveBundleCount(), before);

  // Another thread keeps its cached decider while the bundle is closed elsewhere.
  pave_bundle* b2 = pave_open(bytes.data(), bytes.size(), nullptr);
  ASSERT_NE(b2, nullptr);
  std::atomic<int> step{0};
  std::thread user([&] {
    pave_free(pave_decide(b2, in.data(), in.size(), 0));
    step = 1;
    while (step != 2) std::this_thread::yield();
    // A new bundle after the close: the stale cached decider is replaced, never used.
    pave_bundle* b3 = pave_open(bytes.data(), bytes.size(), nullptr);
    char* o = pave_decide(b3, in.data(), in.size(), 0);
    EXPECT_NE(o, nullptr);
    if (o) {
      EXPECT_EQ(json::parse(o)["decision"], "allow");
    }
    pave_free(o);
    pave_close(b3);
  });
  while (step != 1) std::this_thread::yield();
  pave_close(b2);
  EXPECT_EQ(liveBundleCount(), before);
  step = 2;
  user.join();
  EXPECT_EQ(liveBundleCount(), before);
}

}  // namespace
}  // namespace pave::rt::test
