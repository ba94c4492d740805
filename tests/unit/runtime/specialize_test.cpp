// Functions specialized for a principal type (specializeForPrincipal): the rule set of a
// principal type runs its conjuncts with `principal is T` folded. The code must shrink to
// what the type can run, and decisions must not change (the explained path runs the
// functions as compiled).
#include <gtest/gtest.h>

#include "bundle_reader.h"
#include "plan/build.h"
#include "program.h"
#include "test_support.h"

namespace pave::rt::test {
namespace {

using nlohmann::json;

// `if principal is T then principal.<attr of T> else false`, as the compiler emits an `if`.
Body ifPrincipalThen(Catalog& c, uint32_t ptype, uint32_t attr) {
  return [ptype, attr](FunctionBuilder& fb) {
    Reg cond = fb.reg(), out = fb.reg();
    Label other = fb.label(), end = fb.label();
    fb.emit(Op::IS_PRIN, cond, ptype);
    fb.jumpIfNotTrue(cond, other);
    fb.emit(Op::LOAD_PRIN, out, attr, ptype);
    fb.jump(end);
    fb.bind(other);
    fb.emit(Op::LOADB, out, 0);
    fb.emit(Op::TAKE_ERROR, out, cond);
    fb.bind(end);
    return out;
  };
}

TEST(Specialize, IfOnThePrincipalTypeFoldsToOneTest) {
  Catalog c;
  uint32_t fn = c.fn(ifPrincipalThen(c, c.human, c.hOnCall));
  const Function& f = c.b.functions[fn];
  // Human: the attribute as is, a fast test.
  std::vector<Instr> human = specializeForPrincipal(f, c.human);
  ASSERT_EQ(human.size(), 2u);
  EXPECT_EQ(Op(opcodeOf(human[0])), Op::LOAD_PRIN);
  EXPECT_EQ(Op(opcodeOf(human[1])), Op::RET);
  EXPECT_EQ(fieldA(human[0]), fieldA(human[1]));
  Function view{f.numRegs, human, f.consts};
  EXPECT_EQ(recognizeFastTest(view, {}).form, FastTest::Form::Load);
  // Workload: false.
  std::vector<Instr> workload = specializeForPrincipal(f, c.workload);
  ASSERT_EQ(workload.size(), 2u);
  EXPECT_EQ(workload[0], encode(Op::LOADB, fieldA(workload[1]), 0));
  view.code = workload;
  FastTest t = recognizeFastTest(view, {});
  EXPECT_EQ(t.form, FastTest::Form::Constant);
  EXPECT_TRUE(t.k.isFalse());
  // Nothing to fold: no code.
  EXPECT_TRUE(specializeForPrincipal(c.b.functions[c.fn(requestRoleIs(c, "admin"))], c.human).empty());
}

// (principal is Human or request.role == "x") and any s in request.scopes: s == "a": a
// jump over code the human rule set removes, and a loop after it.
Body humanOrRoleWithScope(Catalog& c) {
  return [&c](FunctionBuilder& fb) {
    Reg is = fb.reg(), role = fb.reg(), k = fb.reg(), eq = fb.reg(), either = fb.reg();
    Label skip = fb.label();
    fb.emit(Op::IS_PRIN, is, c.human);
    fb.emit(Op::MOVE, either, is);
    fb.jumpIfTrue(is, skip);
    fb.emit(Op::LOAD_REQ, role, c.sRole);
    fb.emit(Op::LOADK, k, fb.constant(fb.stringConst("x")));
    fb.emit(Op::EQ, eq, role, k);
    fb.emit(Op::OR, either, is, eq);
    fb.bind(skip);
    Reg scopes = fb.reg(), var = fb.reg(), pred = fb.reg(), any = fb.reg(), a = fb.load(fb.stringConst("a"));
    fb.emit(Op::LOAD_REQ, scopes, c.sScopes);
    Loop loop = fb.iterBegin(QuantMode::Any, var, scopes);
    fb.emit(Op::EQ, pred, var, a);
    fb.iterNext(loop, any, pred);
    Reg out = fb.reg();
    fb.emit(Op::AND, out, either, any);
    return out;
  };
}

TEST(Specialize, JumpsAreRetargetedAroundRemovedCode) {
  Catalog c;
  uint32_t fn = c.fn(humanOrRoleWithScope(c));
  const Function& f = c.b.functions[fn];
  std::vector<Instr> human = specializeForPrincipal(f, c.human);
  ASSERT_FALSE(human.empty());
  EXPECT_LT(human.size(), f.code.size());
  for (Instr ins : human) {  // the `or` branch is gone, and so is the type test
    EXPECT_NE(Op(opcodeOf(ins)), Op::IS_PRIN);
    EXPECT_FALSE(Op(opcodeOf(ins)) == Op::LOAD_REQ && fieldB(ins) == c.sRole);
  }
  std::vector<Instr> workload = specializeForPrincipal(f, c.workload);
  ASSERT_FALSE(workload.empty());
  // Both verify in place of the original (decisions: DecisionsAreUnchanged).
  for (const auto& code : {human, workload}) {
    Bundle b = c.b;
    b.functions[fn].code = code;
    std::string why;
    EXPECT_TRUE(verifyBundle(b, &why)) << why;
  }
}

// Decisions over rules whose conditions branch on the principal type: the plain decision
// (specialized rule sets) equals the explained one (functions as compiled), for humans,
// workloads and agents.
TEST(Specialize, DecisionsAreUnchanged) {
  Catalog c;
  c.rule("acme.on_call_humans", Effect::Allow, {c.cloudRole}, {ifPrincipalThen(c, c.human, c.hOnCall)});
  c.rule("acme.attested_workloads", Effect::Allow, {c.cloudRole},
         {ifPrincipalThen(c, c.workload, c.wAttested), requestRoleIs(c, "admin")});
  c.rule("acme.not_unattested", Effect::Deny, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
           Reg has = fb.reg(), out = fb.reg();
           fb.emit(Op::HAS_PRIN, has, c.wAttested, c.workload);
           fb.emit(Op::NOT, out, has);
           return out;
         },
                                                               requestEnvIs(c, 2)});
  c.rule("acme.humans_or_viewers", Effect::Allow, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
           Reg is = fb.reg(), role = fb.reg(), k = fb.reg(), eq = fb.reg(), out = fb.reg();
           fb.emit(Op::IS_PRIN, is, c.human);
           fb.emit(Op::LOAD_REQ, role, c.sRole);
           fb.emit(Op::LOADK, k, fb.constant(fb.stringConst("viewer")));
           fb.emit(Op::EQ, eq, role, k);
           fb.emit(Op::OR, out, is, eq);
           return out;
         }});
  c.rule("acme.human_or_x_with_scope", Effect::Allow, {c.cloudRole}, {humanOrRoleWithScope(c)});
  // principal is Human and (if request.justification == "ticket" then true else false):
  // the `if` condition errs when the justification is absent, and the error must stay.
  c.rule("acme.human_with_ticket", Effect::Allow, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
           Reg is = fb.reg(), j = fb.reg(), k = fb.reg(), eq = fb.reg(), then = fb.reg(), out = fb.reg();
           Label other = fb.label(), end = fb.label();
           fb.emit(Op::IS_PRIN, is, c.human);
           fb.emit(Op::LOAD_REQ, j, c.sJustification);
           fb.emit(Op::LOADK, k, fb.constant(fb.stringConst("ticket")));
           fb.emit(Op::EQ, eq, j, k);
           fb.jumpIfNotTrue(eq, other);
           fb.emit(Op::LOADB, then, 1);
           fb.jump(end);
           fb.bind(other);
           fb.emit(Op::LOADB, then, 0);
           fb.emit(Op::TAKE_ERROR, then, eq);
           fb.bind(end);
           fb.emit(Op::AND, out, is, then);
           return out;
         }});
  auto lb = c.load();
  // The specialized guard is a probe: on_call of a human is one Bool test.
  const auto& impl = lb->impl();
  const RuleSet& humans = impl.plan.requests[c.cloudRole].byPrincipal[c.human];
  bool found = false;
  for (const RuleUse& use : humans.rules)
    if (lb->model().strings[lb->model().rules[use.rule].name] == "acme.on_call_humans") {
      found = true;
      ASSERT_EQ(use.guards.size(), 1u);
      EXPECT_TRUE(use.others.empty());
      EXPECT_EQ(int(use.guards[0].probe), int(GuardProbe::Bool));
    }
  EXPECT_TRUE(found);
  const char* principals[] = {
      R"({"type": "Human", "email": "a@acme.io", "groups": [], "on_call": true})",
      R"({"type": "Human", "email": "b@acme.io", "groups": [], "on_call": false})",
      R"({"type": "Workload", "spiffe_id": "spiffe://a/b", "owner": "team-a", "env": "prod", "attested": true})",
      R"({"type": "Workload", "spiffe_id": "spiffe://a/c", "owner": "team-b", "env": "dev", "attested": false})",
  };
  const char* requests[] = {
      R"({"account": "1", "role": "admin", "env": "prod", "duration": "1h"})",
      R"({"account": "2", "role": "viewer", "env": "dev", "duration": "1h"})",
      R"({"account": "3", "role": "auditor", "env": "prod", "duration": "1h"})",
      R"({"account": "4", "role": "x", "env": "dev", "duration": "1h", "scopes": ["a", "b"]})",
      R"({"account": "5", "role": "y", "env": "dev", "duration": "1h", "scopes": ["a"]})",
      R"({"account": "6", "role": "y", "env": "dev", "duration": "1h", "justification": "ticket"})",
  };
  int decided = 0;
  for (const char* pr : principals)
    for (const char* req : requests) {
      std::string input = std::string(R"({"type": "CloudRole", "principal": )") + pr + R"(, "request": )" + req +
                          R"(, "context": {"time": "2026-11-27T10:00:00Z", "break_glass": false}})";
      json plain = decide(lb, input, false), explained = decide(lb, input, true);
      explained.erase("trace");
      EXPECT_EQ(plain, explained) << input;
      decided += plain["decision"] != "deny" || !plain["deny_rules"].empty();
    }
  EXPECT_GT(decided, 0);  // some rules matched: the comparison is not vacuous
}

}  // namespace
}  // namespace pave::rt::test
