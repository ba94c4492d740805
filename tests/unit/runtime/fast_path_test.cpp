// The decider's shortcuts must never change a decision: one-test conditions evaluated
// without the interpreter (FastTest), the per-principal-type rule lists and the guards
// that skip rules a cheap test rules out. Each fast condition has a "slow twin" that
// computes the same thing with one extra MOVE, which the decider does not recognize, so
// it runs in the interpreter; both must match on every input, explained or not.
#include <gtest/gtest.h>

#include <random>

#include <cstdio>
#include <limits>

#include "program.h"
#include "test_support.h"

namespace pave::rt::test {
namespace {

using nlohmann::json;

// Root of an attribute load.
enum class Root { Principal, Request, Context };

struct Probe {
  std::string name;
  Root root;
  uint32_t slot;
  uint32_t ptype = 0;  // principal loads
  Op op;
  Const k;
  bool const_left = false;
  bool has_only = false;  // HAS_* alone
  std::string entry = {};  // compare the map attribute's entry `entry` (MAP_GET) instead
  bool negate = false;     // `not` of the test
  bool size = false;       // compare the attribute's size (SIZE) instead
  bool guarded = false;    // `has(attribute) and <test>`
};

Body body(Catalog& c, const Probe& t, bool slow) {
  return [&c, t, slow](FunctionBuilder& fb) {
    if (t.negate) {
      Probe inner = t;
      inner.negate = false;
      Reg x = body(c, inner, slow)(fb), out = fb.reg();
      fb.emit(Op::NOT, out, x);
      return out;
    }
    if (t.guarded) {  // HAS rH; JMP_FALSE rH, end; <test into rT>; AND rH, rH, rT; end:
      Probe inner = t;
      inner.guarded = false;
      Reg h = fb.reg();
      fb.emit(t.root == Root::Principal ? Op::HAS_PRIN : t.root == Root::Request ? Op::HAS_REQ : Op::HAS_CTX, h,
              t.slot, t.ptype);
      Label end = fb.label();
      fb.jumpIfFalse(h, end);
      Reg x = body(c, inner, slow)(fb);
      fb.emit(Op::AND, h, h, x);
      fb.bind(end);
      return h;
    }
    Reg k_first = t.size && t.const_left ? fb.load(t.k) : Reg{};
    Reg v = fb.reg(), out = fb.reg();
    Op load = t.root == Root::Principal ? (t.has_only ? Op::HAS_PRIN : Op::LOAD_PRIN)
              : t.root == Root::Request ? (t.has_only ? Op::HAS_REQ : Op::LOAD_REQ)
                                        : (t.has_only ? Op::HAS_CTX : Op::LOAD_CTX);
    fb.emit(load, v, t.slot, t.ptype);
    if (!t.entry.empty()) {
      Reg key = fb.load(fb.stringConst(t.entry)), e = fb.reg();
      fb.emit(Op::MAP_GET, e, v, key);
      v = e;
    }
    if (slow) {
      Reg moved = fb.reg();
      fb.emit(Op::MOVE, moved, v);
      v = moved;
    }
    if (t.size) {
      Reg s = fb.reg();
      fb.emit(Op::SIZE, s, v);
      v = s;
    }
    if (t.size && t.const_left) {  // the constant was loaded first, as `13 <= x.size()` compiles
      fb.emit(t.op, out, k_first, v);
      return out;
    }
    if (t.has_only || t.op == Op::RET) return v;  // HAS_x, or a Bool attribute as is
    if (t.op == Op::LIKE) {
      fb.emit(Op::LIKE, out, v, fb.constant(t.k));
      return out;
    }
    Reg k = fb.load(t.k);
    if (t.const_left) fb.emit(t.op, out, k, v);
    else fb.emit(t.op, out, v, k);
    return out;
  };
}

class FastPath : public ::testing::Test {
 protected:
  void SetUp() override {
    FunctionBuilder fb(c.b);
    Const prod = fb.enumConst(c.envEnum, 2), dev = fb.enumConst(c.envEnum, 0);
    Const hour = fb.durationConst(3600);
    IpAddr net;
    net.family = 4;
    net.prefix = 8;
    net.bytes[0] = 10;
    std::vector<Probe> tests = {
        {"eq_env", Root::Request, c.sEnv, 0, Op::EQ, prod},
        {"eq_env_left", Root::Request, c.sEnv, 0, Op::EQ, dev, true},
        {"ne_role", Root::Request, c.sRole, 0, Op::NE, fb.stringConst("admin")},
        {"lt_duration", Root::Request, c.sDuration, 0, Op::LT, hour},
        {"le_duration_left", Root::Request, c.sDuration, 0, Op::LE, hour, true},
        {"gt_duration", Root::Request, c.sDuration, 0, Op::GT, hour},
        {"ge_duration_left", Root::Request, c.sDuration, 0, Op::GE, hour, true},
        {"lt_count", Root::Request, c.sCount, 0, Op::LT, fb.intConst(3)},
        {"lt_time_left", Root::Context, c.cTime, 0, Op::LT, fb.timestampConst(1795773600), true},
        {"in_set_role", Root::Request, c.sRole, 0, Op::IN_SET,
         fb.setConst(c.tString, {fb.stringConst("admin"), fb.stringConst("viewer")})},
        {"in_set_env", Root::Request, c.sEnv, 0, Op::IN_SET, fb.setConst(c.tEnv, {dev, prod})},
        {"like_role", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("view*")},
        // Patterns the loader turns into startsWith, endsWith, contains (above: "view*"),
        // and ones it leaves to the glob matcher.
        {"like_suffix", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("*er")},
        {"like_infix", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("*dmi*")},
        {"like_anything", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("*")},
        {"like_two_stars", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("**")},
        {"like_inner_star", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("a*n")},
        {"like_escaped_star", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("admin\\*")},
        {"like_literal", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("viewer")},
        {"starts_with", Root::Request, c.sRole, 0, Op::STARTS_WITH, fb.stringConst("ad")},
        {"ends_with", Root::Request, c.sRole, 0, Op::ENDS_WITH, fb.stringConst("er")},
        {"contains", Root::Request, c.sAccount, 0, Op::CONTAINS_STR, fb.stringConst("456")},
        {"in_map", Root::Request, c.sTags, 0, Op::IN_MAP, fb.stringConst("owner"), true},
        {"in_cidr", Root::Context, c.cSourceIp, 0, Op::IN_CIDR, fb.ipConst(net, true)},
        {"eq_optional", Root::Request, c.sJustification, 0, Op::EQ, fb.stringConst("ticket 42")},
        {"has_justification", Root::Request, c.sJustification, 0, Op::RET, {}, false, true},
        {"has_source_ip", Root::Context, c.cSourceIp, 0, Op::RET, {}, false, true},
        {"has_workload_owner", Root::Principal, c.wOwner, c.workload, Op::RET, {}, false, true},
        {"bool_break_glass", Root::Context, c.cBreakGlass, 0, Op::RET, {}},
        {"bool_attested", Root::Principal, c.wAttested, c.workload, Op::RET, {}},
        {"eq_workload_owner", Root::Principal, c.wOwner, c.workload, Op::EQ, fb.stringConst("team-a")},
        {"eq_human_email", Root::Principal, c.hEmail, c.human, Op::EQ, fb.stringConst("dev@acme.io")},
        // Map entries: the key present, missing, or the map absent.
        {"entry_eq", Root::Request, c.sTags, 0, Op::EQ, fb.stringConst("x"), false, false, "owner"},
        {"entry_eq_left", Root::Request, c.sTags, 0, Op::EQ, fb.stringConst("y"), true, false, "team"},
        {"entry_ne", Root::Request, c.sTags, 0, Op::NE, fb.stringConst("x"), false, false, "owner"},
        {"entry_starts_with", Root::Request, c.sTags, 0, Op::STARTS_WITH, fb.stringConst("y"), false, false, "team"},
        {"entry_in_set", Root::Request, c.sTags, 0, Op::IN_SET,
         fb.setConst(c.tString, {fb.stringConst("x"), fb.stringConst("z")}), false, false, "owner"},
        // Negated tests (`not …`), fast for Has and comparisons.
        {"not_has_justification", Root::Request, c.sJustification, 0, Op::RET, {}, false, true, {}, true},
        {"not_has_workload_owner", Root::Principal, c.wOwner, c.workload, Op::RET, {}, false, true, {}, true},
        {"not_eq_env", Root::Request, c.sEnv, 0, Op::EQ, prod, false, false, {}, true},
        {"not_ne_role", Root::Request, c.sRole, 0, Op::NE, fb.stringConst("admin"), false, false, {}, true},
        {"not_le_duration", Root::Request, c.sDuration, 0, Op::LE, hour, false, false, {}, true},
        {"not_lt_count_left", Root::Request, c.sCount, 0, Op::LT, fb.intConst(3), true, false, {}, true},
        {"not_in_set_env", Root::Request, c.sEnv, 0, Op::IN_SET, fb.setConst(c.tEnv, {dev, prod}), false, false, {},
         true},
        {"not_in_set_role", Root::Request, c.sRole, 0, Op::IN_SET,
         fb.setConst(c.tString, {fb.stringConst("admin"), fb.stringConst("viewer")}), false, false, {}, true},
        {"not_in_map", Root::Request, c.sTags, 0, Op::IN_MAP, fb.stringConst("owner"), true, false, {}, true},
        {"not_like_role", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst("view*"), false, false, {}, true},
        {"not_entry_eq", Root::Request, c.sTags, 0, Op::EQ, fb.stringConst("x"), false, false, "owner", true},
        {"not_eq_human_email", Root::Principal, c.hEmail, c.human, Op::EQ, fb.stringConst("dev@acme.io"), false,
         false, {}, true},
        // Sizes (String bytes, Set elements, Map entries), and tests guarded by `has`.
        {"size_ge_justification", Root::Request, c.sJustification, 0, Op::GE, fb.intConst(6), false, false, {}, false,
         true},
        {"size_lt_tags_left", Root::Request, c.sTags, 0, Op::LT, fb.intConst(0), true, false, {}, false, true},
        {"size_eq_groups", Root::Principal, c.hGroups, c.human, Op::EQ, fb.intConst(1), false, false, {}, false, true},
        {"guarded_size_justification", Root::Request, c.sJustification, 0, Op::GE, fb.intConst(9), false, false, {},
         false, true, true},
        {"not_guarded_size_justification", Root::Request, c.sJustification, 0, Op::GE, fb.intConst(9), false, false,
         {}, true, true, true},
        {"guarded_eq_justification", Root::Request, c.sJustification, 0, Op::EQ, fb.stringConst("other"), false,
         false, {}, false, false, true},
        {"guarded_in_cidr", Root::Context, c.cSourceIp, 0, Op::IN_CIDR, fb.ipConst(net, true), false, false, {},
         false, false, true},
        {"not_guarded_workload_owner", Root::Principal, c.wOwner, c.workload, Op::EQ, fb.stringConst("team-a"),
         false, false, {}, true, false, true},
        {"guarded_entry_eq", Root::Request, c.sTags, 0, Op::EQ, fb.stringConst("x"), false, false, "owner", false,
         false, true},
    };
    for (const Probe& t : tests) {
      c.rule("acme.fast_" + t.name, Effect::Allow, {c.cloudRole}, {body(c, t, false)});
      c.rule("acme.slow_" + t.name, Effect::Allow, {c.cloudRole}, {body(c, t, true)});
      names.push_back(t.name);
    }
    // Guards and principal lists: a deny behind `principal is Workload`, an exception
    // behind `principal is Human`, an approve with a fast guard after a slow conjunct.
    uint32_t deny = c.rule("acme.workload_admin", Effect::Deny, {c.cloudRole},
                           {principalIs(c, c.workload), requestRoleIs(c, "admin")});
    c.exception("acme.human_admin", deny, 1798761599, {principalIs(c, c.human)});
    uint32_t deny2 = c.rule("acme.any_admin", Effect::Deny, {c.cloudRole}, {requestRoleIs(c, "admin")});
    c.exception("acme.human_admin2", deny2, 1798761599, {principalIs(c, c.human), requestEnvIs(c, 0)});
    uint32_t a = c.rule("acme.prod_approval", Effect::Approve, {c.cloudRole},
                        {durationAtMost(c, 7200), requestEnvIs(c, 2), principalIs(c, c.human)});
    c.b.rules[a].approvers = {c.fn(constString("sre"))};
    lb = c.load();
  }

  std::vector<std::string> inputs() {
    std::vector<std::string> out;
    const char* contexts[] = {
        R"({"time": "2026-11-27T10:00:00Z", "break_glass": false})",
        R"({"time": "2026-11-27T09:00:00Z", "break_glass": true, "source_ip": "10.1.2.3"})",
        R"({"time": "2026-11-28T10:00:00Z", "break_glass": false, "source_ip": "192.168.0.1"})",
    };
    const char* requests[] = {
        R"({"account": "123456789012", "role": "viewer", "env": "dev", "duration": "30m"})",
        R"({"account": "1", "role": "admin", "env": "prod", "duration": "1h", "justification": "ticket 42",
            "tags": {"owner": "x"}, "count": 2})",
        R"({"account": "4567", "role": "auditor", "env": "staging", "duration": "2h", "justification": "other",
            "tags": {"team": "y"}, "count": 3})",
        R"({"account": "9", "role": "admin", "env": "dev", "duration": 7200, "count": -5})",
    };
    const char* principals[] = {
        R"({"type": "Human", "email": "dev@acme.io", "groups": ["dev"], "on_call": false})",
        R"({"type": "Human", "email": "ops@acme.io", "groups": [], "on_call": true})",
        R"({"type": "Workload", "spiffe_id": "spiffe://a/b", "owner": "team-a", "env": "prod", "attested": true})",
        R"({"type": "Workload", "spiffe_id": "spiffe://a/c", "owner": "team-b", "env": "dev", "attested": false})",
    };
    for (const char* ctx : contexts)
      for (const char* req : requests)
        for (const char* pr : principals)
          out.push_back(std::string(R"({"type": "CloudRole", "principal": )") + pr + R"(, "request": )" + req +
                        R"(, "context": )" + ctx + "}");
    return out;
  }

  Catalog c;
  std::vector<std::string> names;
  std::shared_ptr<const LoadedBundle> lb;
};

TEST_F(FastPath, FastConditionsAgreeWithTheInterpreter) {
  int checked = 0;
  for (const std::string& input : inputs()) {
    json d = decide(lb, input, /*explain=*/true);
    ASSERT_TRUE(d["errors"].is_array()) << d.dump();
    std::map<std::string, json> matched;
    for (const json& t : d["trace"]) matched[t["rule"].get<std::string>()] = t["matched"];
    for (const std::string& n : names) {
      ASSERT_TRUE(matched.count("acme.fast_" + n)) << n;
      EXPECT_EQ(matched["acme.fast_" + n], matched["acme.slow_" + n]) << n << " on " << input;
      ++checked;
    }
    // Evaluation errors (absent attributes, another principal type) keep the VM's messages.
    std::map<std::string, std::string> messages;
    for (const json& e : d["errors"])
      if (e.contains("rule")) messages[e["rule"].get<std::string>()] = e["message"].get<std::string>();
    for (const std::string& n : names)
      EXPECT_EQ(messages["acme.fast_" + n], messages["acme.slow_" + n]) << n << " on " << input;
  }
  EXPECT_EQ(checked, int(inputs().size() * names.size()));
}

// The probes above only test something if the loader recognized them: every fast probe's
// function (and none of its slow twins') has a fast test; the map-entry ones read an entry.
TEST_F(FastPath, ProbesAreRecognized) {
  const auto& impl = lb->impl();
  const Bundle& m = lb->model();
  size_t fast = 0, entries = 0;
  for (const Rule& r : m.rules) {
    std::string_view name = m.strings[r.name];
    const FastTest& t = impl.plan.fns[r.conjuncts[0]].fast;
    if (name.starts_with("acme.slow_")) {
      EXPECT_EQ(t.form, FastTest::Form::None) << name;
    }
    if (!name.starts_with("acme.fast_")) continue;
    EXPECT_NE(t.form, FastTest::Form::None) << name;
    EXPECT_EQ(t.negate, name.starts_with("acme.fast_not_")) << name;
    EXPECT_EQ(t.size, name.find("size_") != std::string_view::npos) << name;
    EXPECT_EQ(t.guarded, name.find("guarded_") != std::string_view::npos) << name;
    fast += t.form != FastTest::Form::None;
    if (name.starts_with("acme.fast_entry_") || name.starts_with("acme.fast_not_entry_")) {
      EXPECT_TRUE(t.entry) << name;
      entries += t.entry && t.form == FastTest::Form::Compare;
    }
  }
  EXPECT_EQ(fast, names.size());
  EXPECT_EQ(entries, 6u);
}

// `like` patterns that are a literal with a leading or trailing `*` (or both) become the
// string tests they are; FastConditionsAgreeWithTheInterpreter checks their results.
TEST_F(FastPath, SimpleLikePatternsBecomeStringTests) {
  const auto& impl = lb->impl();
  const Bundle& m = lb->model();
  std::map<std::string, const FastTest*> tests;
  for (const Rule& r : m.rules) tests[std::string(m.strings[r.name])] = &impl.plan.fns[r.conjuncts[0]].fast;
  const std::tuple<const char*, Op, const char*> expected[] = {
      {"acme.fast_like_role", Op::STARTS_WITH, "view"},   {"acme.fast_not_like_role", Op::STARTS_WITH, "view"},
      {"acme.fast_like_suffix", Op::ENDS_WITH, "er"},     {"acme.fast_like_infix", Op::CONTAINS_STR, "dmi"},
      {"acme.fast_like_anything", Op::ENDS_WITH, ""},     {"acme.fast_like_two_stars", Op::CONTAINS_STR, ""},
      {"acme.fast_like_inner_star", Op::LIKE, "a*n"},     {"acme.fast_like_escaped_star", Op::LIKE, "admin\\*"},
      {"acme.fast_like_literal", Op::LIKE, "viewer"},
  };
  for (const auto& [name, op, k] : expected) {
    ASSERT_TRUE(tests.count(name)) << name;
    EXPECT_EQ(int(tests[name]->op), int(op)) << name;
    EXPECT_EQ(tests[name]->k.str(), k) << name;
  }
}

// In the rule set of a principal type, guards are specialized probes (GuardProbe): the
// plain decisions of ExplainingChangesNothingButTheTrace run them, the explained ones run
// the fast tests, so these are compared on every input.
TEST_F(FastPath, GuardsAreSpecializedProbes) {
  const auto& impl = lb->impl();
  const Bundle& m = lb->model();
  const RuleSet& humans = impl.plan.requests[c.cloudRole].byPrincipal[c.human];
  std::map<std::string, GuardProbe> probes;
  for (const RuleUse& use : humans.rules)
    if (use.guards.size() == 1) probes[std::string(m.strings[m.rules[use.rule].name])] = use.guards[0].probe;
  const std::pair<const char*, GuardProbe> expected[] = {
      {"acme.fast_eq_env", GuardProbe::EnumEq},       {"acme.fast_not_eq_env", GuardProbe::EnumEq},
      {"acme.fast_ne_role", GuardProbe::StrEq},       {"acme.fast_not_ne_role", GuardProbe::StrEq},
      {"acme.fast_lt_duration", GuardProbe::Lt},      {"acme.fast_le_duration_left", GuardProbe::Ge},
      {"acme.fast_not_le_duration", GuardProbe::Le},  {"acme.fast_lt_count", GuardProbe::Lt},
      {"acme.fast_in_set_env", GuardProbe::EnumIn},   {"acme.fast_not_in_set_env", GuardProbe::EnumIn},
      {"acme.fast_has_justification", GuardProbe::Has}, {"acme.fast_not_has_justification", GuardProbe::Has},
      {"acme.fast_bool_break_glass", GuardProbe::Bool}, {"acme.fast_eq_human_email", GuardProbe::StrEq},
      {"acme.fast_like_role", GuardProbe::StrPrefix},   {"acme.fast_not_like_role", GuardProbe::StrPrefix},
      {"acme.fast_like_suffix", GuardProbe::StrSuffix}, {"acme.fast_like_anything", GuardProbe::StrSuffix},
      {"acme.fast_like_infix", GuardProbe::StrContains}, {"acme.fast_like_two_stars", GuardProbe::StrContains},
      // Left to the fast test: string sets, other patterns, map entries, another principal type.
      {"acme.fast_in_set_role", GuardProbe::Generic},   {"acme.fast_like_inner_star", GuardProbe::Generic},
      {"acme.fast_entry_eq", GuardProbe::Generic},      {"acme.fast_eq_workload_owner", GuardProbe::Generic},
      {"acme.fast_size_ge_justification", GuardProbe::Size}, {"acme.fast_size_lt_tags_left", GuardProbe::Size},
      {"acme.fast_size_eq_groups", GuardProbe::Size},        {"acme.fast_guarded_size_justification", GuardProbe::Size},
      {"acme.fast_not_guarded_size_justification", GuardProbe::Size},
      {"acme.fast_guarded_eq_justification", GuardProbe::Generic},
  };
  for (const auto& [name, probe] : expected) {
    ASSERT_TRUE(probes.count(name)) << name;
    EXPECT_EQ(int(probes[name]), int(probe)) << name;
  }
}

// The plain decision on `input` names `expected` as its rules and equals the explained
// one but for the trace.
void expectRulesExplainedOrNot(const std::shared_ptr<const LoadedBundle>& lb, const std::string& input,
                               const json& expected) {
  json plain = decide(lb, input, false);
  EXPECT_EQ(plain["rules"], expected) << input;
  json explained = decide(lb, input, true);
  explained.erase("trace");
  EXPECT_EQ(plain, explained) << input;
}

// String-pattern guards (`like "p*"`, `like "*s"`, `like "*x*"`, and `not` of them) are
// probes (GuardProbe::StrPrefix, StrSuffix, StrContains): on roles shorter than, equal to
// and around each pattern, the matching allow rules are those std::string_view's
// starts_with / ends_with / find name, explained or not.
TEST(Probes, StringPatternsMatchAsTheirTests) {
  Catalog c;
  struct Pattern {
    const char* name;
    const char* like;
    bool negate;
    bool (*holds)(std::string_view);
  };
  const Pattern patterns[] = {
      {"acme.prefix", "view*", false, [](std::string_view s) { return s.starts_with("view"); }},
      {"acme.not_prefix", "view*", true, [](std::string_view s) { return !s.starts_with("view"); }},
      {"acme.suffix", "*er", false, [](std::string_view s) { return s.ends_with("er"); }},
      {"acme.not_suffix", "*er", true, [](std::string_view s) { return !s.ends_with("er"); }},
      {"acme.infix", "*dmi*", false, [](std::string_view s) { return s.find("dmi") != std::string_view::npos; }},
      {"acme.not_infix", "*dmi*", true, [](std::string_view s) { return s.find("dmi") == std::string_view::npos; }},
      {"acme.long_prefix", "administrator-of-*", false,
       [](std::string_view s) { return s.starts_with("administrator-of-"); }},
      {"acme.anything", "*", false, [](std::string_view) { return true; }},
  };
  FunctionBuilder fb(c.b);
  for (const Pattern& p : patterns) {
    Probe t{"", Root::Request, c.sRole, 0, Op::LIKE, fb.stringConst(p.like), false, false, {}, p.negate};
    c.rule(p.name, Effect::Allow, {c.cloudRole}, {body(c, t, false)});
  }
  auto lb = c.load();
  const RuleSet& humans = lb->impl().plan.requests[c.cloudRole].byPrincipal[c.human];
  for (const RuleUse& use : humans.rules) {
    ASSERT_EQ(use.guards.size(), 1u);
    EXPECT_NE(use.guards[0].probe, GuardProbe::Generic) << lb->model().strings[lb->model().rules[use.rule].name];
  }
  const char* roles[] = {"",         "v",   "view",  "viewer", "reviewer", "er",     "r",  "admin",
                         "xadminx",  "dmi", "dm",    "a*n",    "VIEWER",   "vie\xc3\xa9", "administrator-of-x",
                         "administrator-of-", "administrator-o"};
  for (const char* role : roles) {
    json expected = json::array();
    for (const Pattern& p : patterns)
      if (p.holds(role)) expected.push_back(p.name);
    std::sort(expected.begin(), expected.end());
    expectRulesExplainedOrNot(lb, humanInput(cloudRequest("dev", role)), expected);
  }
}

// Size tests are probes (GuardProbe::Size): each comparison with k = 2 on a set's size and,
// guarded by `has` or not, on a string's, for sizes around 2 and the attribute absent:
// the matching allow rules are those the comparison names, explained or not.
TEST(Probes, SizesMatchAsTheirComparisons) {
  Catalog c;
  FunctionBuilder fb(c.b);
  const std::pair<Op, const char*> ops[] = {{Op::EQ, "eq"}, {Op::NE, "ne"}, {Op::LT, "lt"},
                                            {Op::LE, "le"}, {Op::GT, "gt"}, {Op::GE, "ge"}};
  auto holds = [](Op op, int64_t n) {
    return op == Op::EQ ? n == 2 : op == Op::NE ? n != 2 : op == Op::LT ? n < 2 : op == Op::LE ? n <= 2
           : op == Op::GT ? n > 2 : n >= 2;
  };
  for (const auto& [op, name] : ops) {
    Probe groups{"", Root::Principal, c.hGroups, c.human, op, fb.intConst(2), false, false, {}, false, true};
    c.rule(std::string("acme.groups_") + name, Effect::Allow, {c.cloudRole}, {body(c, groups, false)});
    Probe text{"", Root::Request, c.sJustification, 0, op, fb.intConst(2), false, false, {}, false, true, true};
    c.rule(std::string("acme.text_") + name, Effect::Allow, {c.cloudRole}, {body(c, text, false)});
    text.negate = true;
    c.rule(std::string("acme.text_not_") + name, Effect::Allow, {c.cloudRole}, {body(c, text, false)});
  }
  auto lb = c.load();
  for (const RuleUse& use : lb->impl().plan.requests[c.cloudRole].byPrincipal[c.human].rules) {
    ASSERT_EQ(use.guards.size(), 1u);
    EXPECT_EQ(use.guards[0].probe, GuardProbe::Size);
  }
  const char* group_lists[] = {"[]", R"(["a"])", R"(["a", "b"])", R"(["a", "b", "c"])"};
  const char* texts[] = {nullptr, "", "a", "ab", "abc"};
  for (int g = 0; g < 4; ++g)
    for (const char* text : texts) {
      json expected = json::array();
      for (const auto& [op, name] : ops) {
        if (holds(op, g)) expected.push_back(std::string("acme.groups_") + name);
        const bool t = text && holds(op, int64_t(std::strlen(text)));  // absent: `has` is false
        expected.push_back(std::string(t ? "acme.text_" : "acme.text_not_") + name);
      }
      std::sort(expected.begin(), expected.end());
      std::string request = cloudRequest();
      if (text) request.insert(request.size() - 1, std::string(R"(, "justification": ")") + text + "\"");
      const std::string input = R"({"type": "CloudRole", "principal": {"type": "Human", "email": "a@b", "groups": )" +
                                std::string(group_lists[g]) + R"(, "on_call": false}, "request": )" + request +
                                R"(, "context": {"time": "2026-11-27T10:00:00Z", "break_glass": false}})";
      expectRulesExplainedOrNot(lb, input, expected);
    }
}

// `has(x) and <test>` is a fast test only when the test leaves the `has` register alone:
// here the test overwrites it with the attribute (Bool), so the AND reads `x` and the
// condition is `x and not x` (never true); as a fast test it would be `not x`.
TEST(Probes, GuardedTestThatOverwritesItsGuardIsNotFast) {
  Catalog c;
  FunctionBuilder fb(c.b);
  const Reg h = fb.reg(), k = fb.reg(), t = fb.reg();
  fb.emit(Op::HAS_CTX, h, c.cBreakGlass);
  Label end = fb.label();
  fb.jumpIfFalse(h, end);
  fb.emit(Op::LOAD_CTX, h, c.cBreakGlass);
  fb.emit(Op::LOADK, k, fb.constant(fb.boolConst(false)));
  fb.emit(Op::EQ, t, h, k);
  fb.emit(Op::AND, h, h, t);
  fb.bind(end);
  fb.ret(h);
  const uint32_t fn = fb.finish();
  c.b.rules[c.rule("acme.odd", Effect::Allow, {c.cloudRole}, {})].conjuncts = {fn};
  auto lb = c.load();
  EXPECT_EQ(lb->impl().plan.fns[fn].fast.form, FastTest::Form::None);
  for (const char* glass : {"false", "true"}) {
    const std::string input =
        humanInput(cloudRequest(), std::string(R"({"time": "2026-11-27T10:00:00Z", "break_glass": )") + glass + "}");
    EXPECT_EQ(decide(lb, input, false)["decision"], "deny") << glass;
    EXPECT_EQ(decide(lb, input, true)["decision"], "deny") << glass;
  }
}

TEST_F(FastPath, ExplainingChangesNothingButTheTrace) {
  for (const std::string& input : inputs()) {
    json plain = decide(lb, input, false);
    json explained = decide(lb, input, true);
    ASSERT_TRUE(explained.contains("trace"));
    explained.erase("trace");
    EXPECT_EQ(plain, explained) << input;
  }
}

TEST_F(FastPath, GuardsKeepDenyOverridesAndExceptions) {
  // Workload asking for admin: both denies match, no exception applies.
  json d = decide(lb, inputs()[4 + 2]);  // first context, second request, first workload
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_EQ(d["deny_rules"], json::array({"acme.any_admin", "acme.workload_admin"}));
  // Human asking for admin in prod: acme.any_admin is not lifted (its exception needs dev).
  d = decide(lb, inputs()[4 + 0]);
  EXPECT_EQ(d["deny_rules"], json::array({"acme.any_admin"}));
  EXPECT_TRUE(d["exceptions"].empty());
  // Human asking for admin in dev: lifted by acme.human_admin2.
  d = decide(lb, inputs()[12 + 0]);
  EXPECT_EQ(d["deny_rules"], json::array()) << d.dump();
  EXPECT_EQ(d["exceptions"][0]["id"], "acme.human_admin2");
}

// The dispatch index (per Enum, Bool and String attribute value, the rules whose guards can
// hold) over more than 64 rules per list: decisions must equal the explained ones, which
// walk every rule, including rules that err when their guard does not rule them out.
TEST(Dispatch, ManyRulesAgreeWithExplainedDecisions) {
  Catalog c;
  const std::string roles[] = {"viewer", "admin", "auditor", "r3", "r4"};
  auto overflowing = [](FunctionBuilder& fb) {
    Reg a = fb.load(fb.intConst(std::numeric_limits<int64_t>::max())), s = fb.reg(), out = fb.reg();
    fb.emit(Op::ADD, s, a, a);
    fb.emit(Op::EQ, out, s, a);
    return out;
  };
  for (int i = 0; i < 150; ++i) {
    std::vector<Body> conj;
    conj.push_back(requestEnvIs(c, uint32_t(i % 3)));
    if (i % 2) conj.push_back(requestRoleIs(c, roles[i % 5]));
    if (i % 7 == 0) conj.push_back([&c](FunctionBuilder& fb) {  // role in ["admin", "r3"]
      Reg v = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_REQ, v, c.sRole);
      Reg k = fb.load(fb.setConst(c.tString, {fb.stringConst("admin"), fb.stringConst("r3")}));
      fb.emit(Op::IN_SET, out, v, k);
      return out;
    });
    if (i % 11 == 0) conj.push_back([&c](FunctionBuilder& fb) {  // role != "viewer"
      Reg v = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_REQ, v, c.sRole);
      Reg k = fb.load(fb.stringConst("viewer"));
      fb.emit(Op::NE, out, v, k);
      return out;
    });
    if (i % 13 == 0) conj.push_back([&c](FunctionBuilder& fb) {  // context.break_glass
      Reg v = fb.reg();
      fb.emit(Op::LOAD_CTX, v, c.cBreakGlass);
      return v;
    });
    if (i % 3 == 0) conj.push_back([&c, i](FunctionBuilder& fb) {  // request.tags["owner"] == "team-<i % 4>"
      Reg m = fb.reg(), e = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_REQ, m, c.sTags);
      fb.emit(Op::MAP_GET, e, m, fb.load(fb.stringConst("owner")));
      fb.emit(Op::EQ, out, e, fb.load(fb.stringConst("team-" + std::to_string(i % 4))));
      return out;
    });
    if (i % 5 == 0) conj.push_back(overflowing);
    if (i % 17 == 0) conj.insert(conj.begin(), principalIs(c, c.workload));
    Effect effect = i % 4 == 0 ? Effect::Deny : i % 4 == 1 ? Effect::Approve : Effect::Allow;
    char name[32];
    std::snprintf(name, sizeof name, "acme.r%03d", i);
    uint32_t r = c.rule(name, effect, {c.cloudRole}, conj);
    if (effect == Effect::Approve) c.b.rules[r].approvers = {c.fn(constString("sre"))};
    if (effect == Effect::Deny && i % 8 == 0)
      c.exception(std::string(name) + "_x", r, 1798761599, {requestRoleIs(c, roles[(i / 8) % 5])});
  }
  auto lb = c.load();
  // The map entry is one of the dispatch keys of the Human rule list.
  const RuleSet& humanRules = lb->impl().plan.requests[c.cloudRole].byPrincipal[c.human];
  EXPECT_TRUE(std::any_of(humanRules.keys.begin(), humanRules.keys.end(),
                          [](const DispatchKey& k) { return k.entry && k.entryKey == "owner"; }));
  // Rules whose conjuncts the dispatch keys decide alone (env only; env and role; of every
  // effect, and exceptions on the role) make the list walk by bitsets.
  EXPECT_TRUE(humanRules.walk.byBits);
  size_t key_decided = 0;
  for (uint64_t w : humanRules.walk.decided) key_decided += size_t(__builtin_popcountll(w));
  EXPECT_GT(key_decided, 40u);
  int compared = 0;
  const char* tag_sets[] = {"", R"(, "tags": {"owner": "team-1"})", R"(, "tags": {"owner": "zzz", "x": "team-1"})",
                            R"(, "tags": {"team": "team-2"})"};
  for (const char* env : {"dev", "staging", "prod"})
    for (const std::string& role : {std::string("viewer"), std::string("admin"), std::string("r3"), std::string("zzz")})
      for (const char* glass : {"false", "true"})
        for (const char* tags : tag_sets) {
          std::string request = cloudRequest(env, role);
          request.insert(request.size() - 1, tags);
          std::string input = humanInput(request, std::string(R"({"time": "2026-11-27T10:00:00Z", "break_glass": )") + glass + "}");
          json plain = decide(lb, input, false);
          json explained = decide(lb, input, true);
          explained.erase("trace");
          EXPECT_EQ(plain, explained) << input;
          ++compared;
        }
  EXPECT_EQ(compared, 96);
}

// Rules with the same conjuncts share their result within a decision (RuleUse::Share):
// groups of rules of every effect over more than 64 rules, conditions that a dispatch key
// decides, that run bytecode, and that err (each rule of an erring group must report its own
// error). One decider makes every plain decision, so a result kept from one decision must
// not leak into the next; each must equal the explained decision, which shares nothing.
TEST(Dispatch, RulesWithTheSameConditionsShareResults) {
  Catalog c;
  const std::string roles[] = {"viewer", "admin", "auditor"};
  auto overflowing = [](FunctionBuilder& fb) {
    Reg a = fb.load(fb.intConst(std::numeric_limits<int64_t>::max())), s = fb.reg(), out = fb.reg();
    fb.emit(Op::ADD, s, a, a);
    fb.emit(Op::EQ, out, s, a);
    return out;
  };
  auto breakGlass = [&c](FunctionBuilder& fb) {
    Reg v = fb.reg();
    fb.emit(Op::LOAD_CTX, v, c.cBreakGlass);
    return v;
  };
  auto ownerIs = [&c](int team) {  // request.tags["owner"] == "team-<team>": runs bytecode
    return [&c, team](FunctionBuilder& fb) {
      Reg m = fb.reg(), e = fb.reg(), out = fb.reg(), slow = fb.reg();
      fb.emit(Op::LOAD_REQ, m, c.sTags);
      fb.emit(Op::MAP_GET, e, m, fb.load(fb.stringConst("owner")));
      fb.emit(Op::EQ, out, e, fb.load(fb.stringConst("team-" + std::to_string(team))));
      fb.emit(Op::MOVE, slow, out);
      return slow;
    };
  };
  std::vector<uint32_t> leaders;  // per condition group, its first rule
  for (int i = 0; i < 130; ++i) {
    const int group = i % 9;
    Effect effect = i % 5 == 0 ? Effect::Deny : i % 5 == 1 ? Effect::Approve : Effect::Allow;
    char name[32];
    std::snprintf(name, sizeof name, "acme.s%03d", i);
    std::vector<Body> conj;
    switch (group) {
      case 0: conj = {requestEnvIs(c, 0)}; break;
      case 1: conj = {requestEnvIs(c, 2), requestRoleIs(c, "admin")}; break;
      case 2: conj = {ownerIs(1)}; break;
      case 3: conj = {requestEnvIs(c, 1), ownerIs(2)}; break;
      case 4: conj = {overflowing}; break;
      case 5: conj = {requestEnvIs(c, 0), overflowing}; break;
      case 6: conj = {breakGlass, ownerIs(1)}; break;
      case 7: conj = {requestRoleIs(c, roles[size_t(i) % 3])}; break;  // not all the same
      default: conj = {principalIs(c, c.workload), requestEnvIs(c, 0)}; break;
    }
    uint32_t r = c.rule(name, effect, {c.cloudRole}, conj);
    if (size_t(group) < leaders.size()) c.b.rules[r].conjuncts = c.b.rules[leaders[size_t(group)]].conjuncts;
    else leaders.push_back(r);
    if (effect == Effect::Approve) c.b.rules[r].approvers = {c.fn(constString("sre"))};
    if (effect == Effect::Deny && i % 3 == 0)
      c.exception(std::string(name) + "_x", r, 1798761599, {requestRoleIs(c, roles[size_t(i / 3) % 3])});
  }
  auto lb = c.load();
  const RuleSet& humanRules = lb->impl().plan.requests[c.cloudRole].byPrincipal[c.human];
  size_t followers = 0;
  for (const RuleUse& use : humanRules.rules) followers += use.share == RuleUse::Share::Follows;
  EXPECT_GT(humanRules.rules.size(), 64u);
  EXPECT_GT(followers, 80u);
  EXPECT_TRUE(humanRules.walk.byBits);
  // A leader's follower bits (which its result, unless an error, takes out of the walk)
  // are exactly the rules that follow it, in any word of the set.
  for (uint32_t pos = 0; pos < humanRules.rules.size(); ++pos) {
    const RuleUse& use = humanRules.rules[pos];
    if (use.share != RuleUse::Share::Leads) continue;
    for (uint32_t other = 0; other < humanRules.rules.size(); ++other) {
      const RuleUse& o = humanRules.rules[other];
      const bool bit = humanRules.sharing.followers[use.followers + other / 64] >> (other % 64) & 1;
      EXPECT_EQ(bit, o.share == RuleUse::Share::Follows && o.sameAs == pos) << pos << " " << other;
    }
  }

  Decider plain(lb);
  int compared = 0, erring = 0;
  const char* tag_sets[] = {"", R"(, "tags": {"owner": "team-1"})", R"(, "tags": {"owner": "team-2"})"};
  for (const char* env : {"dev", "staging", "prod"})
    for (const std::string& role : {std::string("viewer"), std::string("admin"), std::string("zzz")})
      for (const char* glass : {"false", "true"})
        for (const char* tags : tag_sets) {
          std::string request = cloudRequest(env, role);
          request.insert(request.size() - 1, tags);
          std::string input = humanInput(request, std::string(R"({"time": "2026-11-27T10:00:00Z", "break_glass": )") + glass + "}");
          json got = json::parse(plain.decideJson(input, false));
          json explained = decide(lb, input, true);
          explained.erase("trace");
          EXPECT_EQ(got, explained) << input;
          erring += got["errors"].size() > 0;
          ++compared;
        }
  EXPECT_EQ(compared, 54);
  EXPECT_EQ(erring, compared);  // group 4 errs on every input: one error per rule of it
  std::string request = cloudRequest("staging", "viewer");
  request.insert(request.size() - 1, tag_sets[1]);  // so only group 4 errs
  json one = json::parse(plain.decideJson(humanInput(request), false));
  size_t group4 = 0;
  for (int i = 4; i < 130; i += 9) ++group4;
  EXPECT_EQ(one["errors"].size(), group4);
}

// Grants by bitsets (RuleSet::grantTable): over more than 64 rules walked by bitsets,
// grants of every merge operator, assigned constants or a required attribute, conflicting
// `unique` values on some inputs (several errors, sorted by rule), and approvals. Each plain
// decision must equal the explained one, which takes grants rule by rule.
TEST(Dispatch, GrantsByBitsAgreeWithExplainedDecisions) {
  Catalog c;
  const std::string roles[] = {"viewer", "admin", "auditor"};
  auto strings = [&c](std::vector<std::string> xs) {
    return [&c, xs](FunctionBuilder& fb) {
      std::vector<Const> e;
      for (auto& x : xs) e.push_back(fb.stringConst(x));
      return fb.load(fb.setConst(c.tString, e));
    };
  };
  std::mt19937 rng(3);
  for (int i = 0; i < 110; ++i) {
    const unsigned pick = rng() % 20;
    Effect effect = pick < 3 ? Effect::Deny : pick < 9 ? Effect::Approve : Effect::Allow;
    char name[32];
    std::snprintf(name, sizeof name, "acme.g%03d", i);
    std::vector<Body> conj = {requestEnvIs(c, rng() % 3)};
    std::string role;  // a condition on the role, if any
    if (effect == Effect::Deny)
      role = rng() % 2 ? "zzz" : "auditor";
    else if (rng() % 2)
      role = roles[rng() % 3];
    if (!role.empty()) conj.push_back(requestRoleIs(c, role));
    uint32_t r = c.rule(name, effect, {c.cloudRole}, conj);
    if (effect == Effect::Approve) c.b.rules[r].approvers = {c.fn(constString("sre")), c.fn(constString("team"))};
    if (effect == Effect::Deny) {
      if (rng() % 2) c.exception(std::string(name) + "_x", r, 1798761599, {requestRoleIs(c, roles[rng() % 3])});
      continue;
    }
    const unsigned grant = rng() % 6;
    switch (grant) {
      case 0:
        if (rng() % 2) {
          c.grant(r, "max_ttl", loadRequest(c, c.sDuration));  // a required attribute
        } else {
          const int64_t minutes = 40 + 20 * int64_t(rng() % 6);  // 40m .. 2h20m
          c.grant(r, "max_ttl", [minutes](FunctionBuilder& fb) { return fb.load(fb.durationConst(minutes * 60)); });
        }
        break;
      case 1: c.grant(r, "scopes", strings({"s" + std::to_string(rng() % 4), "read"})); break;
      case 2: c.grant(r, "common", strings({"read", "x" + std::to_string(rng() % 2)})); break;
      case 3: c.grant(r, "audited", constBool(rng() % 4 == 0)); break;
      case 4: c.grant(r, "ticket_queue", constString(role == "admin" ? "sec" : "ops")); break;  // admins conflict
      default: break;  // none (approve rules still name approvers)
    }
    if (grant != 3 && rng() % 3 == 0) c.grant(r, "audited", constBool(false));  // a second grant
  }
  // Two conflicts for dev admins: the first `ops` value against two `sec` ones.
  for (const char* name : {"acme.t_ops", "acme.t_sec1", "acme.t_sec2"}) {
    const bool sec = name[7] == 's';
    std::vector<Body> conj = {requestEnvIs(c, 0)};
    if (sec) conj.push_back(requestRoleIs(c, "admin"));
    c.grant(c.rule(name, Effect::Allow, {c.cloudRole}, conj), "ticket_queue", constString(sec ? "sec" : "ops"));
  }
  auto lb = c.load();
  const RuleSet& humanRules = lb->impl().plan.requests[c.cloudRole].byPrincipal[c.human];
  EXPECT_GT(humanRules.rules.size(), 64u);
  EXPECT_TRUE(humanRules.walk.byBits);
  EXPECT_TRUE(humanRules.grantTable.byBits);
  int compared = 0, conflicts = 0, granted = 0;
  for (const char* env : {"dev", "staging", "prod"})
    for (const char* role : {"viewer", "admin", "auditor", "zzz"})
      for (const char* ttl : {"\"30m\"", "\"1h\"", "\"3h\""}) {
        const std::string input = humanInput(cloudRequest(env, role, ttl));
        json plain = decide(lb, input, false);
        json explained = decide(lb, input, true);
        explained.erase("trace");
        EXPECT_EQ(plain, explained) << input;
        conflicts += plain["errors"].size() > 1;
        granted += plain["decision"] != "deny";
        ++compared;
      }
  EXPECT_EQ(compared, 36);
  EXPECT_GT(conflicts, 0);
  EXPECT_GT(granted, 0);

  // A computed grant (not a constant or an attribute) takes the set off grants by bitsets.
  Catalog k;
  uint32_t a = k.rule("acme.a", Effect::Allow, {k.cloudRole}, {requestEnvIs(k, 0)});
  uint32_t b = k.rule("acme.b", Effect::Allow, {k.cloudRole}, {requestEnvIs(k, 0)});
  k.grant(a, "max_ttl", loadRequest(k, k.sDuration));
  k.grant(b, "max_ttl", [&k](FunctionBuilder& fb) {
    Reg d = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, d, k.sDuration);
    fb.emit(Op::ADD, out, d, d);
    return out;
  });
  auto computed = k.load();
  const RuleSet& computedRules = computed->impl().plan.requests[k.cloudRole].byPrincipal[k.human];
  EXPECT_TRUE(computedRules.walk.byBits);
  EXPECT_FALSE(computedRules.grantTable.byBits);
  json twice = decide(computed, humanInput(cloudRequest("dev", "viewer", "\"1h\"")), false);
  EXPECT_EQ(twice["grants"]["max_ttl"], "1h");

  // A set whose tables would pass RuleSet::kMaxGrantTable entries takes its grants rule by
  // rule: CloudRole has 5 grants, so (5 + 2) entries per rule.
  Catalog big;
  const size_t over = RuleSet::kMaxGrantTable / 7 + 1;
  for (size_t i = 0; i < over; ++i) {
    uint32_t r = big.rule("acme.b" + std::to_string(100000 + i), Effect::Allow, {big.cloudRole},
                          {requestEnvIs(big, uint32_t(i % 3))});
    if (i % 1000 == 0) big.grant(r, "max_ttl", loadRequest(big, big.sDuration));
  }
  auto large = big.load();
  const RuleSet& largeRules = large->impl().plan.requests[big.cloudRole].byPrincipal[big.human];
  EXPECT_TRUE(largeRules.walk.byBits);
  EXPECT_FALSE(largeRules.grantTable.byBits);
  EXPECT_TRUE(largeRules.grantTable.src.empty());
  json plain = decide(large, humanInput(cloudRequest("dev", "viewer", "\"1h\"")), false);
  EXPECT_EQ(plain["decision"], "allow");
  EXPECT_EQ(plain["grants"]["max_ttl"], "1h");
}

}  // namespace
}  // namespace pave::rt::test
