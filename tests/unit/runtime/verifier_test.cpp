// The verifier refuses malformed bytecode and models (SPEC §7.6), with a message.
#include <gtest/gtest.h>

#include "test_support.h"

namespace pave::rt::test {
namespace {

// Loads a bundle whose only rule has `fn` as its condition; returns the load error.
std::string loadError(Catalog& c, Function fn, std::vector<uint32_t> targets = {0}) {
  c.b.functions.push_back(std::move(fn));
  Rule r;
  r.name = c.b.intern("acme.r");
  r.targets = std::move(targets);
  r.conjuncts = {uint32_t(c.b.functions.size() - 1)};
  c.b.rules.push_back(r);
  std::vector<uint8_t> bytes;
  std::string error;
  EXPECT_TRUE(writeBundle(c.b, {}, bytes, &error)) << error;
  if (LoadedBundle::load(bytes, {}, &error)) return "";
  EXPECT_FALSE(error.empty());
  return error;
}

Function code(uint32_t regs, std::vector<Instr> instrs, std::vector<Const> consts = {}) {
  Function f;
  f.numRegs = regs;
  f.code = std::move(instrs);
  f.consts = std::move(consts);
  return f;
}

#define EXPECT_REFUSED(fn, needle)                                              \
  do {                                                                          \
    Catalog c;                                                                  \
    std::string e = loadError(c, fn);                                           \
    EXPECT_NE(e.find(needle), std::string::npos) << "error was: '" << e << "'"; \
  } while (0)

TEST(Verifier, AcceptsAWellFormedFunction) {
  Catalog c;
  EXPECT_EQ(loadError(c, code(1, {encode(Op::LOADB, 0, 1), encode(Op::RET, 0)})), "");
}

TEST(Verifier, RefusesBadControlFlow) {
  EXPECT_REFUSED(code(1, {}), "empty");
  EXPECT_REFUSED(code(1, {encode(Op::LOADB, 0, 1)}), "falls off the end");
  EXPECT_REFUSED(code(1, {encode(Op::LOADB, 0, 1), encode(Op::JMP, 0, 5), encode(Op::RET, 0)}), "invalid operand of JMP");
  // A jump to itself would need offset -1: the format cannot even express backward jumps,
  // and a jump past the end is out of bounds.
  EXPECT_REFUSED(code(1, {encode(Op::LOADB, 0, 1), encode(Op::JMP, 0, 1), encode(Op::RET, 0)}), "invalid operand");
  EXPECT_REFUSED(code(1, {Instr(0xfe), encode(Op::RET, 0)}), "unknown opcode");
}

TEST(Verifier, RefusesBadOperands) {
  EXPECT_REFUSED(code(1, {encode(Op::LOADB, 3, 1), encode(Op::RET, 0)}), "invalid operand of LOADB");
  EXPECT_REFUSED(code(1, {encode(Op::LOADK, 0, 0), encode(Op::RET, 0)}), "invalid operand of LOADK");
  EXPECT_REFUSED(code(1, {encode(Op::IS_PRIN, 0, 9), encode(Op::RET, 0)}), "invalid operand of IS_PRIN");
  EXPECT_REFUSED(code(1, {encode(Op::LOAD_CTX, 0, 9), encode(Op::RET, 0)}), "context slot out of range");
  EXPECT_REFUSED(code(1, {encode(Op::LOAD_PRIN, 0, 9, 0), encode(Op::RET, 0)}), "principal slot out of range");
  EXPECT_REFUSED(code(1, {encode(Op::LOADB, 0, 1, 0, 7), encode(Op::RET, 0)}), "invalid operand");  // X must be 0
  EXPECT_REFUSED(code(0, {encode(Op::RET, 0)}), "invalid register count");
}

TEST(Verifier, RefusesTypeErrors) {
  Catalog t;
  // LT on strings.
  {
    Catalog c;
    Function f = code(2, {encode(Op::LOADK, 0, 0), encode(Op::LT, 1, 0, 0), encode(Op::RET, 1)});
    Const s;
    s.type = c.tString;
    s.str = c.b.intern("x");
    f.consts = {s};
    std::string e = loadError(c, f);
    EXPECT_NE(e.find("not Int, Duration or Timestamp"), std::string::npos) << e;
  }
  // Reading a register nobody wrote.
  EXPECT_REFUSED(code(2, {encode(Op::NOT, 1, 0), encode(Op::RET, 1)}), "reads an unset register");
  // A register set on only one path is unset after the join.
  EXPECT_REFUSED(code(3, {encode(Op::LOADB, 0, 1), encode(Op::JMP_TRUE, 0, 1), encode(Op::LOADB, 1, 1),
                          encode(Op::RET, 1)}),
                 "reads an unset register");
  // Returning a String from a condition.
  EXPECT_REFUSED(code(1, {encode(Op::LOAD_REQ, 0, t.sRole), encode(Op::RET, 0)}), "returns a value of the wrong type");
  // EQ across types.
  EXPECT_REFUSED(code(3, {encode(Op::LOAD_REQ, 0, t.sRole), encode(Op::LOAD_REQ, 1, t.sDuration), encode(Op::EQ, 2, 0, 1),
                          encode(Op::RET, 2)}),
                 "operands of different types");
  // A request slot the target does not have (SecretAccess's `path` on CloudRole).
  EXPECT_REFUSED(code(2, {encode(Op::LOAD_REQ, 0, t.sPath), encode(Op::EQ, 1, 0, 0), encode(Op::RET, 1)}),
                 "request slot not on every target");
  // LIKE with a non-String pattern constant.
  {
    Catalog c;
    Function f = code(2, {encode(Op::LOAD_REQ, 0, c.sRole), encode(Op::LIKE, 1, 0, 0), encode(Op::RET, 1)});
    f.consts = {Const{}};
    f.consts[0].type = c.tInt;
    std::string e = loadError(c, f);
    EXPECT_NE(e.find("pattern is not a String constant"), std::string::npos) << e;
  }
}

TEST(Verifier, RefusesMalformedLoops) {
  Catalog t;
  // ITER_BEGIN must jump to its ITER_NEXT.
  EXPECT_REFUSED(code(4, {encode(Op::LOAD_REQ, 0, t.sScopes), encode(Op::LOADB, 2, 0), encode(Op::ITER_BEGIN, 1, 0, 0),
                          encode(Op::LOADB, 2, 1), encode(Op::ITER_NEXT, 3, 2), encode(Op::RET, 3)}),
                 "ITER_BEGIN without its ITER_NEXT");
  // A stray ITER_NEXT.
  EXPECT_REFUSED(code(2, {encode(Op::LOADB, 0, 1), encode(Op::ITER_NEXT, 1, 0), encode(Op::RET, 1)}), "stray ITER_NEXT");
  // A jump from inside a loop body past its ITER_NEXT.
  EXPECT_REFUSED(code(4, {encode(Op::LOAD_REQ, 0, t.sScopes), encode(Op::LOADB, 2, 0), encode(Op::ITER_BEGIN, 1, 0, 1),
                          encode(Op::JMP, 0, 1), encode(Op::ITER_NEXT, 3, 2), encode(Op::RET, 3)}),
                 "jump into or out of a loop");
  // A body that changes the type of a register live at the loop head.
  EXPECT_REFUSED(code(4, {encode(Op::LOAD_REQ, 0, t.sScopes), encode(Op::LOADB, 2, 0), encode(Op::ITER_BEGIN, 1, 0, 1),
                          encode(Op::LOAD_REQ, 2, t.sRole), encode(Op::ITER_NEXT, 3, 2), encode(Op::RET, 3)}),
                 "predicate is not Bool");
  // A well-formed loop is accepted.
  Catalog c;
  EXPECT_EQ(loadError(c, code(4, {encode(Op::LOAD_REQ, 0, t.sScopes), encode(Op::LOADB, 2, 0),
                                  encode(Op::ITER_BEGIN, 1, 0, 1), encode(Op::LOADB, 2, 1), encode(Op::ITER_NEXT, 3, 2),
                                  encode(Op::RET, 3)})),
            "");
}

TEST(Verifier, RefusesBadModels) {
  auto loadModel = [](Catalog& c) {
    std::vector<uint8_t> bytes;
    std::string error;
    if (!writeBundle(c.b, {}, bytes, &error)) return error;
    return LoadedBundle::load(bytes, {}, &error) ? std::string() : error;
  };
  {
    Catalog c;
    c.b.schema.context.erase(c.b.schema.context.begin());  // no `time`
    EXPECT_NE(loadModel(c).find("time"), std::string::npos);
  }
  {
    Catalog c;
    uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
    c.exception("acme.e", a, 0, {constBool(true)});  // lifts an allow
    EXPECT_NE(loadModel(c).find("lifts a rule that is not a deny"), std::string::npos);
  }
  {
    Catalog c;
    c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
    c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
    EXPECT_NE(loadModel(c).find("duplicate rule"), std::string::npos);
  }
  {
    Catalog c;
    uint32_t a = c.rule("acme.a", Effect::Approve, {c.cloudRole}, {constBool(true)});  // no approvers
    (void)a;
    EXPECT_NE(loadModel(c).find("approvers"), std::string::npos);
  }
  {
    Catalog c;
    uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
    c.grant(a, "token_ttl", [](FunctionBuilder& fb) { return fb.load(fb.durationConst(1)); });  // not on CloudRole
    EXPECT_NE(loadModel(c).find("grant not declared"), std::string::npos);
  }
  {
    Catalog c;
    uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
    c.grant(a, "max_ttl", constString("1h"));  // wrong type
    EXPECT_NE(loadModel(c).find("wrong type"), std::string::npos);
  }
  {
    Catalog c;
    c.b.schema.requests[0].grants[0].merge = MergeOp::Union;  // Duration cannot union
    EXPECT_NE(loadModel(c).find("merge operator"), std::string::npos);
  }
  {
    Catalog c;  // an enum constant out of range
    c.rule("acme.a", Effect::Allow, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
             Reg e = fb.reg(), out = fb.reg();
             fb.emit(Op::LOAD_REQ, e, c.sEnv);
             fb.emit(Op::EQ, out, e, fb.load(fb.enumConst(c.envEnum, 7)));
             return out;
           }});
    EXPECT_NE(loadModel(c).find("enum constant out of range"), std::string::npos);
  }
  {
    Catalog c;  // an unsorted set constant
    c.rule("acme.a", Effect::Allow, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
             Const s = fb.setConst(c.tString, {fb.stringConst("a"), fb.stringConst("b")});
             std::swap(s.elems[0], s.elems[1]);
             Reg r = fb.reg(), out = fb.reg();
             fb.emit(Op::LOAD_REQ, r, c.sRole);
             fb.emit(Op::IN_SET, out, r, fb.load(s));
             return out;
           }});
    EXPECT_NE(loadModel(c).find("not sorted"), std::string::npos);
  }
  {
    // Regression: a repeated allowed principal type was named by the string whose index is
    // the type's index, not by the type's name.
    Catalog c;
    c.b.schema.requests[c.cloudRole].principals = {c.workload, c.human, c.workload};
    EXPECT_NE(loadModel(c).find("duplicate allowed principal 'acme.Workload'"), std::string::npos) << loadModel(c);
  }
}

// Regression (found by fuzz_bundle_load): a function no rule uses is not verified, and the
// loader read its constants anyway (a LOADK index past the pool: an out-of-bounds read,
// a crash of `pave inspect`). Such functions are now left alone, and decisions work.
TEST(Verifier, UnusedFunctionsAreNeverLookedAt) {
  Catalog c;
  c.rule("acme.a", Effect::Allow, {c.cloudRole}, {requestRoleIs(c, "admin")});
  Function unused;
  unused.numRegs = 3;
  unused.code = {encode(Op::LOAD_REQ, 1, c.sDuration), encode(Op::LOADK, 2, 25088), encode(Op::LE, 0, 1, 2),
                 encode(Op::RET, 0)};
  unused.consts = {Const{}};
  c.b.functions.push_back(unused);
  std::vector<uint8_t> bytes;
  std::string error;
  ASSERT_TRUE(writeBundle(c.b, {}, bytes, &error)) << error;
  auto lb = LoadedBundle::load(bytes, {}, &error);
  ASSERT_TRUE(lb) << error;
  EXPECT_NE(disassemble(lb->model()).find("LOADK"), std::string::npos);
  nlohmann::json d = decide(lb, humanInput(cloudRequest("dev", "admin", "\"1h\"")));
  EXPECT_EQ(d["decision"], "allow") << d.dump();
}

// With no target (a rule `on *` over a schema without request types), a grant function
// would never be verified: refused.
TEST(Verifier, RefusesGrantsWithoutTargets) {
  Catalog c;
  uint32_t a = c.rule("acme.a", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(a, "max_ttl", [](FunctionBuilder& fb) { return fb.load(fb.durationConst(60)); });
  c.b.rules[a].targets.clear();
  c.b.rules[a].allTargets = true;
  c.b.schema.requests.clear();
  std::vector<uint8_t> bytes;
  std::string error;
  ASSERT_TRUE(writeBundle(c.b, {}, bytes, &error)) << error;
  EXPECT_FALSE(LoadedBundle::load(bytes, {}, &error));
  EXPECT_NE(error.find("grants on a rule without targets"), std::string::npos) << error;
}

TEST(Builder, LabelsPatchForwardJumpsAndRefuseMisuse) {
  Bundle b;
  FunctionBuilder fb(b);
  Reg r = fb.reg();
  fb.emit(Op::LOADB, r, 1);
  Label end = fb.label();
  fb.jumpIfTrue(r, end);
  fb.emit(Op::LOADB, r, 0);
  fb.bind(end);
  fb.ret(r);
  EXPECT_EQ(fb.function().code[1], encode(Op::JMP_TRUE, r, 1));
  EXPECT_THROW(fb.jump(end), std::logic_error);  // backwards
  EXPECT_THROW(fb.bind(end), std::logic_error);  // twice
  EXPECT_EQ(fb.constant(fb.intConst(5)), fb.constant(fb.intConst(5)));  // interned
  EXPECT_NE(fb.constant(fb.intConst(5)), fb.constant(fb.durationConst(5)));
  EXPECT_EQ(fb.finish(), 0u);
  FunctionBuilder fb2(b);
  Label dangling = fb2.label();
  fb2.jump(dangling);
  EXPECT_THROW(fb2.finish(), std::logic_error);
}

TEST(Builder, ScopedRegistersAreReusedAndTheHighWaterMarkIsKept) {
  Bundle b;
  FunctionBuilder fb(b);
  Reg r = fb.reg();
  {
    RegScope scope(fb);
    EXPECT_EQ(fb.regs(3), 1u);
  }
  EXPECT_EQ(fb.liveRegs(), 1u);
  EXPECT_EQ(fb.reg(), 1u);  // freed by the scope
  EXPECT_EQ(fb.numRegs(), 4u);
  fb.emit(Op::LOADB, r, 1);
  fb.ret(r);
  EXPECT_EQ(fb.finish(), 0u);
  EXPECT_EQ(b.functions[0].numRegs, 4u);
}

TEST(Builder, FinishSharedReusesAnIdenticalFunction) {
  Bundle b;
  auto build = [&](uint32_t value, bool shared) {
    FunctionBuilder fb(b);
    Reg r = fb.reg();
    fb.emit(Op::LOADB, r, value);
    fb.ret(r);
    return shared ? fb.finishShared() : fb.finish();
  };
  EXPECT_EQ(build(1, true), 0u);
  EXPECT_EQ(build(0, true), 1u);
  EXPECT_EQ(build(1, true), 0u);
  EXPECT_EQ(build(1, false), 2u);  // finish() always adds
  EXPECT_EQ(b.functions.size(), 3u);
}

TEST(Builder, LimitsOfTheFormatThrowLimitError) {
  auto limitOf = [](auto&& body) {
    Bundle b;
    FunctionBuilder fb(b);
    try {
      body(fb);
    } catch (const LimitError& e) {
      return int(e.limit());
    }
    return -1;
  };
  EXPECT_EQ(limitOf([](FunctionBuilder& fb) { fb.regs(kMaxRegisters + 1); }), int(Limit::Registers));
  EXPECT_EQ(limitOf([](FunctionBuilder& fb) {
              RegScope scope(fb);
              fb.regs(kMaxRegisters);
            }),
            -1);
  EXPECT_EQ(limitOf([](FunctionBuilder& fb) {
              for (uint32_t i = 0; i <= kMaxFieldValue; ++i) fb.constant(fb.intConst(i));
            }),
            int(Limit::Constants));
  EXPECT_EQ(limitOf([](FunctionBuilder& fb) { fb.emit(Op::LOAD_REQ, 0, kMaxFieldValue + 1); }), int(Limit::Operand));
  // The length is checked when the function is finished; a jump patched before that
  // reports its own distance.
  EXPECT_EQ(limitOf([](FunctionBuilder& fb) {
              Reg r = fb.reg();
              for (uint32_t i = 0; i <= kMaxInstructions; ++i) fb.emit(Op::LOADB, r, 1);
              fb.finish();
            }),
            int(Limit::Instructions));
  EXPECT_EQ(limitOf([](FunctionBuilder& fb) {
              Reg r = fb.reg();
              Label end = fb.label();
              fb.jump(end);
              for (uint32_t i = 0; i <= kMaxFieldValue; ++i) fb.emit(Op::LOADB, r, 1);
              fb.bind(end);
            }),
            int(Limit::JumpDistance));
}

}  // namespace
}  // namespace pave::rt::test
