// Semantics of every opcode, observed through a single-conjunct allow rule and its trace.
#include <gtest/gtest.h>

#include <limits>

#include "program.h"
#include "test_support.h"

namespace pave::rt::test {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// "true", "false" or "error": how the condition evaluates for `input`.
std::string eval(Catalog& c, const Body& body, const std::string& input = "") {
  c.rule("acme.probe", Effect::Allow, {c.cloudRole}, {body});
  auto lb = c.load();
  if (!lb) return "load failed";
  std::string in = input.empty() ? humanInput(cloudRequest()) : input;
  auto d = decide(lb, in, true);
  if (!d["errors"].empty() && d["trace"].empty()) return "invalid input: " + d["errors"].dump();
  auto m = d["trace"][0]["matched"];
  return m.is_boolean() ? (m.get<bool>() ? "true" : "false") : m.get<std::string>();
}

// A condition comparing the result of `value` with constant `expected` using EQ.
Body equals(const Body& value, std::function<Const(FunctionBuilder&)> expected) {
  return [value, expected](FunctionBuilder& fb) {
    Reg v = value(fb);
    Reg k = fb.load(expected(fb));
    Reg out = fb.reg();
    fb.emit(Op::EQ, out, v, k);
    return out;
  };
}

Body binary(Op op, std::function<Const(FunctionBuilder&)> x, std::function<Const(FunctionBuilder&)> y) {
  return [=](FunctionBuilder& fb) {
    Reg a = fb.load(x(fb)), b = fb.load(y(fb)), out = fb.reg();
    fb.emit(op, out, a, b);
    return out;
  };
}

Body unary(Op op, std::function<Const(FunctionBuilder&)> x) {
  return [=](FunctionBuilder& fb) {
    Reg a = fb.load(x(fb)), out = fb.reg();
    fb.emit(op, out, a);
    return out;
  };
}

// `op` (one operand) on a Bool loaded by LOADB.
Body unaryOnLoadedBool(Op op, bool v) {
  return [=](FunctionBuilder& fb) {
    Reg a = fb.reg(), out = fb.reg();
    fb.emit(Op::LOADB, a, v ? 1 : 0);
    fb.emit(op, out, a);
    return out;
  };
}

auto I(int64_t v) { return [v](FunctionBuilder& fb) { return fb.intConst(v); }; }
auto D(int64_t v) { return [v](FunctionBuilder& fb) { return fb.durationConst(v); }; }
auto T(int64_t v) { return [v](FunctionBuilder& fb) { return fb.timestampConst(v); }; }
auto S(std::string v) { return [v](FunctionBuilder& fb) { return fb.stringConst(v); }; }

std::string arith(Op op, std::function<Const(FunctionBuilder&)> x, std::function<Const(FunctionBuilder&)> y,
                  std::function<Const(FunctionBuilder&)> expected) {
  Catalog c;
  return eval(c, equals([=](FunctionBuilder& fb) {
                          Reg a = fb.load(x(fb)), b = fb.load(y(fb)), out = fb.reg();
                          fb.emit(op, out, a, b);
                          return out;
                        },
                        expected));
}

TEST(Opcodes, ConstantsAndMoves) {
  Catalog c;
  EXPECT_EQ(eval(c, constBool(true)), "true");
  Catalog c2;
  EXPECT_EQ(eval(c2, constBool(false)), "false");
  Catalog c3;
  EXPECT_EQ(eval(c3, unaryOnLoadedBool(Op::MOVE, true)), "true");
  // MOVE copies every byte of an IPv6 address (the value is copied field by field): the
  // moved address equals its constant and differs from one that differs in the last byte.
  IpAddr v6, other;
  v6.family = other.family = 6;
  for (uint8_t i = 0; i < 16; ++i) v6.bytes[i] = other.bytes[i] = uint8_t(0x20 + i);
  other.bytes[15] ^= 1;
  for (bool same : {true, false}) {
    const IpAddr k = same ? v6 : other;
    Catalog c4;
    EXPECT_EQ(eval(c4, [v6, k](FunctionBuilder& fb) {
                Reg a = fb.load(fb.ipConst(v6, false)), b = fb.reg(), out = fb.reg();
                fb.emit(Op::MOVE, b, a);
                fb.emit(Op::EQ, out, b, fb.load(fb.ipConst(k, false)));
                return out;
              }),
              same ? "true" : "false");
  }
}

TEST(Opcodes, ComparisonsOnIntDurationTimestamp) {
  struct Case { Op op; int64_t x, y; bool want; };
  for (Case k : {Case{Op::LT, 1, 2, true}, Case{Op::LT, 2, 2, false}, Case{Op::LE, 2, 2, true}, Case{Op::GT, 3, 2, true},
                 Case{Op::GT, 2, 2, false}, Case{Op::GE, 2, 2, true}, Case{Op::GE, 1, 2, false}, Case{Op::EQ, 5, 5, true},
                 Case{Op::NE, 5, 5, false}, Case{Op::NE, 5, 6, true}}) {
    Catalog c1, c2, c3;
    std::string want = k.want ? "true" : "false";
    EXPECT_EQ(eval(c1, binary(k.op, I(k.x), I(k.y))), want) << opInfo(k.op).name;
    EXPECT_EQ(eval(c2, binary(k.op, D(k.x), D(k.y))), want) << opInfo(k.op).name;
    EXPECT_EQ(eval(c3, binary(k.op, T(k.x), T(k.y))), want) << opInfo(k.op).name;
  }
}

TEST(Opcodes, EqualityOnStringsSetsEnumsAndIps) {
  Catalog c1;
  EXPECT_EQ(eval(c1, binary(Op::EQ, S("a"), S("a"))), "true");
  Catalog c2;
  EXPECT_EQ(eval(c2, binary(Op::EQ, S("a"), S("ab"))), "false");
  Catalog c3;
  // Sets compare as sets: request.scopes (given unordered with duplicates) == ["a", "b"].
  EXPECT_EQ(eval(c3, [&c3](FunctionBuilder& fb) {
              Reg s = fb.reg(), out = fb.reg();
              fb.emit(Op::LOAD_REQ, s, c3.sScopes);
              Reg k = fb.load(fb.setConst(c3.tString, {fb.stringConst("b"), fb.stringConst("a")}));
              fb.emit(Op::EQ, out, s, k);
              return out;
            }, humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","scopes":["b","a","b"]})")),
            "true");
  Catalog c4;
  EXPECT_EQ(eval(c4, requestEnvIs(c4, 0)), "true");
  Catalog c5;
  EXPECT_EQ(eval(c5, requestEnvIs(c5, 2)), "false");
  Catalog c6;
  IpAddr ip;
  ip.family = 4;
  ip.bytes = {10, 1, 2, 3};
  EXPECT_EQ(eval(c6, [&c6, ip](FunctionBuilder& fb) {
              Reg a = fb.reg(), out = fb.reg();
              fb.emit(Op::LOAD_CTX, a, c6.cSourceIp);
              fb.emit(Op::EQ, out, a, fb.load(fb.ipConst(ip, false)));
              return out;
            }, humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":false,"source_ip":"10.1.2.3"})")),
            "true");
}

TEST(Opcodes, AdditionSubtractionAndOverflow) {
  EXPECT_EQ(arith(Op::ADD, I(2), I(3), I(5)), "true");
  EXPECT_EQ(arith(Op::SUB, I(2), I(3), I(-1)), "true");
  EXPECT_EQ(arith(Op::ADD, D(60), D(30), D(90)), "true");
  EXPECT_EQ(arith(Op::ADD, T(1000), D(30), T(1030)), "true");
  EXPECT_EQ(arith(Op::SUB, T(1000), D(30), T(970)), "true");
  EXPECT_EQ(arith(Op::SUB, T(1000), T(400), D(600)), "true");
  EXPECT_EQ(arith(Op::ADD, I(kMax), I(1), I(0)), "error");
  EXPECT_EQ(arith(Op::SUB, I(kMin), I(1), I(0)), "error");
  EXPECT_EQ(arith(Op::ADD, D(kMax), D(1), D(0)), "error");
  EXPECT_EQ(arith(Op::ADD, T(kMaxTimestamp), D(kMax), T(0)), "error");  // int64 overflow
  // Timestamps exist in years 0000–9999 only (SPEC §4.5): leaving the range is an error.
  EXPECT_EQ(arith(Op::ADD, T(kMaxTimestamp), D(0), T(kMaxTimestamp)), "true");
  EXPECT_EQ(arith(Op::ADD, T(kMaxTimestamp), D(1), T(0)), "error");
  EXPECT_EQ(arith(Op::SUB, T(kMinTimestamp), D(1), T(0)), "error");
  EXPECT_EQ(arith(Op::ADD, T(kMinTimestamp), D(-1), T(0)), "error");
  EXPECT_EQ(arith(Op::SUB, T(kMaxTimestamp), T(kMinTimestamp), D(kMaxTimestamp - kMinTimestamp)), "true");
}

TEST(Opcodes, NegationAndNot) {
  Catalog c1;
  EXPECT_EQ(eval(c1, equals(unary(Op::NEG, I(5)), I(-5))), "true");
  Catalog c2;
  EXPECT_EQ(eval(c2, equals(unary(Op::NEG, I(kMin)), I(0))), "error");
  Catalog c3;
  EXPECT_EQ(eval(c3, equals(unary(Op::NEG, D(60)), D(-60))), "true");
  Catalog c4;
  EXPECT_EQ(eval(c4, unaryOnLoadedBool(Op::NOT, false)), "true");
}

TEST(Opcodes, StringOperations) {
  auto check = [](Op op, std::string x, std::string y) {
    Catalog c;
    return eval(c, binary(op, S(x), S(y)));
  };
  EXPECT_EQ(check(Op::STARTS_WITH, "admin:users", "admin:"), "true");
  EXPECT_EQ(check(Op::STARTS_WITH, "read:x", "admin:"), "false");
  EXPECT_EQ(check(Op::ENDS_WITH, "team-a-leads", "-leads"), "true");
  EXPECT_EQ(check(Op::ENDS_WITH, "a", "-leads"), "false");
  EXPECT_EQ(check(Op::CONTAINS_STR, "payments-dev", "nts-d"), "true");
  EXPECT_EQ(check(Op::CONTAINS_STR, "payments-dev", "prod"), "false");
  Catalog c1;
  EXPECT_EQ(eval(c1, equals([](FunctionBuilder& fb) {
                              Reg a = fb.load(fb.stringConst("team-")), b = fb.load(fb.stringConst("a")), out = fb.reg();
                              fb.emit(Op::CONCAT, out, a, b);
                              return out;
                            },
                            S("team-a"))),
            "true");
  Catalog c2;
  EXPECT_EQ(eval(c2, equals(unary(Op::LOWER, S("MiXeD-Ä")), S("mixed-Ä"))), "true");
  Catalog c3;
  EXPECT_EQ(eval(c3, equals(unary(Op::UPPER, S("MiXeD-é")), S("MIXED-é"))), "true");
  Catalog c4;
  EXPECT_EQ(eval(c4, equals(unary(Op::SIZE, S("héllo")), I(6))), "true");  // bytes
  Catalog c5;
  EXPECT_EQ(eval(c5, unary(Op::IS_EMPTY, S(""))), "true");
}

std::string like(std::string text, std::string pattern) {
  Catalog c;
  return eval(c, [=](FunctionBuilder& fb) {
    Reg s = fb.load(fb.stringConst(text)), out = fb.reg();
    fb.emit(Op::LIKE, out, s, fb.constant(fb.stringConst(pattern)));
    return out;
  });
}

TEST(Opcodes, LikeGlob) {
  EXPECT_EQ(like("dev-eu-1", "dev-*"), "true");
  EXPECT_EQ(like("eu-dev-1", "dev-*"), "false");  // anchored
  EXPECT_EQ(like("read:", "read:*"), "true");
  EXPECT_EQ(like("abcbd", "a*b*d"), "true");
  EXPECT_EQ(like("abcbe", "a*b*d"), "false");
  EXPECT_EQ(like("a*b", "a\\*b"), "true");  // escaped star is literal
  EXPECT_EQ(like("axb", "a\\*b"), "false");
  EXPECT_EQ(like("", "*"), "true");
  EXPECT_EQ(like("x", ""), "false");
}

TEST(Opcodes, SetOperations) {
  auto withScopes = [](const Body& body, const std::string& scopes) {
    Catalog c;
    return eval(c, body, humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","scopes":)" + scopes + "}"));
  };
  auto setOp = [](Op op, std::vector<std::string> other) {
    return [op, other](FunctionBuilder& fb) {
      Catalog tmp;  // slot numbers are the same in every Catalog
      Reg s = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_REQ, s, tmp.sScopes);
      std::vector<Const> elems;
      for (auto& o : other) elems.push_back(fb.stringConst(o));
      Reg k = fb.load(fb.setConst(tmp.tString, elems));
      fb.emit(op, out, s, k);
      return out;
    };
  };
  EXPECT_EQ(withScopes(setOp(Op::CONTAINS_ALL, {"read:logs", "write:logs"}), R"(["write:logs","read:logs","x"])"), "true");
  EXPECT_EQ(withScopes(setOp(Op::CONTAINS_ALL, {"read:logs", "write:logs"}), R"(["read:logs"])"), "false");
  EXPECT_EQ(withScopes(setOp(Op::CONTAINS_ALL, {}), R"([])"), "true");
  EXPECT_EQ(withScopes(setOp(Op::CONTAINS_ANY, {"write:billing", "admin:billing"}), R"(["admin:billing"])"), "true");
  EXPECT_EQ(withScopes(setOp(Op::CONTAINS_ANY, {"write:billing"}), R"(["read:logs"])"), "false");
  Body in = [](FunctionBuilder& fb) {
    Catalog tmp;
    Reg s = fb.reg(), x = fb.load(fb.stringConst("b")), out = fb.reg();
    fb.emit(Op::LOAD_REQ, s, tmp.sScopes);
    fb.emit(Op::IN_SET, out, x, s);
    return out;
  };
  EXPECT_EQ(withScopes(in, R"(["c","b","a"])"), "true");
  EXPECT_EQ(withScopes(in, R"(["c","a"])"), "false");
  Body size = [](FunctionBuilder& fb) {
    Catalog tmp;
    Reg s = fb.reg(), n = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, s, tmp.sScopes);
    fb.emit(Op::SIZE, n, s);
    fb.emit(Op::EQ, out, n, fb.load(fb.intConst(2)));
    return out;
  };
  EXPECT_EQ(withScopes(size, R"(["a","b","a"])"), "true");  // duplicates collapse
  Body empty = [](FunctionBuilder& fb) {
    Catalog tmp;
    Reg s = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, s, tmp.sScopes);
    fb.emit(Op::IS_EMPTY, out, s);
    return out;
  };
  EXPECT_EQ(withScopes(empty, "[]"), "true");
  EXPECT_EQ(withScopes(empty, R"(["a"])"), "false");
}

TEST(Opcodes, BuildSet) {
  Catalog c;
  // [request.role, principal.email] contains "viewer"; duplicates collapse.
  EXPECT_EQ(eval(c, [&c](FunctionBuilder& fb) {
              Reg base = fb.regs(3), out = fb.reg(), n = fb.reg(), two = fb.reg(), x = fb.reg(), sz = fb.reg();
              fb.emit(Op::LOAD_REQ, base, c.sRole);
              fb.emit(Op::LOAD_PRIN, base + 1, c.hEmail, c.human);
              fb.emit(Op::LOAD_REQ, base + 2, c.sRole);
              fb.emit(Op::BUILD_SET, out, base, 3);
              fb.emit(Op::SIZE, n, out);
              fb.emit(Op::LOADK, two, fb.constant(fb.intConst(2)));
              fb.emit(Op::EQ, sz, n, two);
              fb.emit(Op::IN_SET, x, fb.load(fb.stringConst("viewer")), out);
              fb.emit(Op::AND, x, x, sz);
              return x;
            }),
            "true");
}

TEST(Opcodes, MapsAndCidrs) {
  auto withTags = [](const Body& body) {
    Catalog c;
    return eval(c, body,
                humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","tags":{"owner":"team-a","cost-center":"42"}})"));
  };
  auto inMap = [](std::string key) {
    return [key](FunctionBuilder& fb) {
      Catalog tmp;
      Reg m = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_REQ, m, tmp.sTags);
      fb.emit(Op::IN_MAP, out, fb.load(fb.stringConst(key)), m);
      return out;
    };
  };
  EXPECT_EQ(withTags(inMap("owner")), "true");
  EXPECT_EQ(withTags(inMap("team")), "false");
  auto get = [](std::string key) {
    return [key](FunctionBuilder& fb) {
      Catalog tmp;
      Reg m = fb.reg(), v = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_REQ, m, tmp.sTags);
      fb.emit(Op::MAP_GET, v, m, fb.load(fb.stringConst(key)));
      fb.emit(Op::EQ, out, v, fb.load(fb.stringConst("team-a")));
      return out;
    };
  };
  EXPECT_EQ(withTags(get("owner")), "true");
  EXPECT_EQ(withTags(get("missing")), "error");

  auto inCidr = [](std::string ip, std::string cidr) {
    Catalog c;
    IpAddr net;
    net.family = cidr.find(':') == std::string::npos ? 4 : 6;
    if (net.family == 4) {
      net.bytes = {172, 16};
      net.prefix = 12;
    } else {
      net.bytes = {0xfc};
      net.prefix = 7;
    }
    return eval(c, [&c, net](FunctionBuilder& fb) {
      Reg a = fb.reg(), out = fb.reg();
      fb.emit(Op::LOAD_CTX, a, c.cSourceIp);
      fb.emit(Op::IN_CIDR, out, a, fb.load(fb.ipConst(net, true)));
      return out;
    }, humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":false,"source_ip":")" + ip + "\"}"));
  };
  EXPECT_EQ(inCidr("172.20.1.9", "172.16.0.0/12"), "true");
  EXPECT_EQ(inCidr("172.32.1.9", "172.16.0.0/12"), "false");
  EXPECT_EQ(inCidr("fd00::1", "fc00::/7"), "true");
  EXPECT_EQ(inCidr("fe80::1", "fc00::/7"), "false");
  EXPECT_EQ(inCidr("fd00::1", "172.16.0.0/12"), "false");  // other family
}

TEST(Opcodes, TimeFunctions) {
  // 2026-11-27T10:30:00Z is a Friday.
  int64_t t = 1795775400;
  Catalog c1;
  EXPECT_EQ(eval(c1, equals(unary(Op::HOUR, T(t)), I(10))), "true");
  Catalog c2;
  EXPECT_EQ(eval(c2, equals(unary(Op::WEEKDAY, T(t)), I(5))), "true");
  Catalog c3;
  EXPECT_EQ(eval(c3, equals(unary(Op::WEEKDAY, T(t + 2 * 86400)), I(7))), "true");  // Sunday
  Catalog c4;
  EXPECT_EQ(eval(c4, equals(unary(Op::DATE, T(t)), T(t - 10 * 3600 - 1800))), "true");
  Catalog c5;
  EXPECT_EQ(eval(c5, equals(unary(Op::SECONDS, D(5400)), I(5400))), "true");
  Catalog c6;
  EXPECT_EQ(eval(c6, equals(unary(Op::HOUR, T(-1)), I(23))), "true");  // before the epoch
}

// CEL absorption (SPEC §4.5): `false and error` is false, `true or error` is true.
Body logic(Op op, int left, int right) {  // 0 false, 1 true, 2 error
  return [=](FunctionBuilder& fb) {
    auto value = [&](int v) {
      if (v < 2) {
        Reg r = fb.reg();
        fb.emit(Op::LOADB, r, uint32_t(v));
        return r;
      }
      Reg a = fb.load(fb.intConst(kMax)), one = fb.load(fb.intConst(1)), sum = fb.reg(), r = fb.reg();
      fb.emit(Op::ADD, sum, a, one);
      fb.emit(Op::EQ, r, sum, one);
      return r;
    };
    Reg out = value(left);
    Label end = fb.label();
    if (op == Op::AND) fb.jumpIfFalse(out, end);
    else fb.jumpIfTrue(out, end);
    Reg rhs = value(right);
    fb.emit(op, out, out, rhs);
    fb.bind(end);
    return out;
  };
}

TEST(Opcodes, AndOrAbsorbErrors) {
  struct Case { Op op; int l, r; const char* want; };
  for (Case k : {Case{Op::AND, 0, 2, "false"}, Case{Op::AND, 2, 0, "false"}, Case{Op::AND, 1, 2, "error"},
                 Case{Op::AND, 2, 1, "error"}, Case{Op::AND, 1, 1, "true"}, Case{Op::OR, 1, 2, "true"},
                 Case{Op::OR, 2, 1, "true"}, Case{Op::OR, 0, 2, "error"}, Case{Op::OR, 2, 0, "error"},
                 Case{Op::OR, 0, 0, "false"}}) {
    Catalog c;
    EXPECT_EQ(eval(c, logic(k.op, k.l, k.r)), k.want) << opInfo(k.op).name << " " << k.l << " " << k.r;
  }
}

TEST(Opcodes, IfPropagatesConditionErrors) {
  auto cond = [](int c) {
    return [c](FunctionBuilder& fb) {
      Reg rc = logic(Op::AND, c, 1)(fb);  // c as false/true/error
      Reg out = fb.reg();
      Label els = fb.label(), end = fb.label();
      fb.jumpIfNotTrue(rc, els);
      fb.emit(Op::LOADB, out, 1);
      fb.jump(end);
      fb.bind(els);
      fb.emit(Op::LOADB, out, 0);
      fb.emit(Op::TAKE_ERROR, out, rc);
      fb.bind(end);
      return out;
    };
  };
  Catalog c1, c2, c3;
  EXPECT_EQ(eval(c1, cond(1)), "true");
  EXPECT_EQ(eval(c2, cond(0)), "false");
  EXPECT_EQ(eval(c3, cond(2)), "error");
}

// `any s in request.scopes: s.startsWith(prefix)` / `all …`, with an optional error element.
Body quantifier(QuantMode mode, std::string prefix, std::string error_on = "") {
  return [=](FunctionBuilder& fb) {
    Catalog tmp;
    Reg set = fb.reg(), var = fb.reg(), pred = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, set, tmp.sScopes);
    fb.emit(Op::LOADB, pred, 0);
    Loop loop = fb.iterBegin(mode, var, set);
    fb.emit(Op::STARTS_WITH, pred, var, fb.load(fb.stringConst(prefix)));
    if (!error_on.empty()) {  // pred := error when var == error_on
      Reg is = fb.reg();
      fb.emit(Op::EQ, is, var, fb.load(fb.stringConst(error_on)));
      Label skip = fb.label();
      fb.jumpIfFalse(is, skip);
      Reg big = fb.load(fb.intConst(kMax)), sum = fb.reg();
      fb.emit(Op::ADD, sum, big, big);
      fb.emit(Op::EQ, pred, sum, big);
      fb.bind(skip);
    }
    fb.iterNext(loop, out, pred);
    return out;
  };
}

std::string withScopes(const Body& body, const std::string& scopes) {
  Catalog c;
  return eval(c, body, humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","scopes":)" + scopes + "}"));
}

TEST(Opcodes, Quantifiers) {
  EXPECT_EQ(withScopes(quantifier(QuantMode::Any, "admin:"), R"(["read:x","admin:y"])"), "true");
  EXPECT_EQ(withScopes(quantifier(QuantMode::Any, "admin:"), R"(["read:x"])"), "false");
  EXPECT_EQ(withScopes(quantifier(QuantMode::Any, "admin:"), "[]"), "false");
  EXPECT_EQ(withScopes(quantifier(QuantMode::All, "read:"), R"(["read:x","read:y"])"), "true");
  EXPECT_EQ(withScopes(quantifier(QuantMode::All, "read:"), R"(["read:x","write:y"])"), "false");
  EXPECT_EQ(withScopes(quantifier(QuantMode::All, "read:"), "[]"), "true");
  // Errors: any is true if some element is true, else error; all is false if some is false.
  EXPECT_EQ(withScopes(quantifier(QuantMode::Any, "admin:", "b"), R"(["a","b","admin:c"])"), "true");
  EXPECT_EQ(withScopes(quantifier(QuantMode::Any, "admin:", "b"), R"(["a","b"])"), "error");
  EXPECT_EQ(withScopes(quantifier(QuantMode::All, "read:", "b"), R"(["b","c"])"), "false");
  EXPECT_EQ(withScopes(quantifier(QuantMode::All, "read:", "b"), R"(["b","read:c"])"), "error");
}

TEST(Opcodes, NestedQuantifiers) {
  // any x in scopes: all y in scopes: x <= y  (lexicographic minimum exists) — uses Int sets instead.
  Body body = [](FunctionBuilder& fb) {
    Catalog tmp;
    Reg set = fb.reg(), x = fb.reg(), y = fb.reg(), inner = fb.reg(), cmp = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, set, tmp.sScopes);
    fb.emit(Op::LOADB, inner, 0);
    Loop outer = fb.iterBegin(QuantMode::Any, x, set);
    fb.emit(Op::LOADB, cmp, 0);
    Loop in = fb.iterBegin(QuantMode::All, y, set);
    fb.emit(Op::STARTS_WITH, cmp, y, x);
    fb.iterNext(in, inner, cmp);
    fb.iterNext(outer, out, inner);
    return out;
  };
  EXPECT_EQ(withScopes(body, R"(["a","ab","abc"])"), "true");   // "a" prefixes all
  EXPECT_EQ(withScopes(body, R"(["a","b"])"), "false");
}

TEST(Opcodes, PrincipalLoadsAndTests) {
  Catalog c1;
  EXPECT_EQ(eval(c1, principalIs(c1, c1.human)), "true");
  Catalog c2;
  EXPECT_EQ(eval(c2, principalIs(c2, c2.workload)), "false");
  // Loading an attribute of another principal type is an error value.
  Catalog c3;
  EXPECT_EQ(eval(c3, [&c3](FunctionBuilder& fb) {
              Reg v = fb.reg(), out = fb.reg();
              fb.emit(Op::LOAD_PRIN, v, c3.wAttested, c3.workload);
              fb.emit(Op::EQ, out, v, v);
              return out;
            }),
            "error");
  Catalog c4;
  EXPECT_EQ(eval(c4, [&c4](FunctionBuilder& fb) {
              Reg out = fb.reg();
              fb.emit(Op::HAS_PRIN, out, c4.wAttested, c4.workload);
              return out;
            }),
            "false");
  Catalog c5;
  EXPECT_EQ(eval(c5, [&c5](FunctionBuilder& fb) {
              Reg v = fb.reg(), out = fb.reg();
              fb.emit(Op::LOAD_PRIN, v, c5.hEmail, c5.human);
              fb.emit(Op::ENDS_WITH, out, v, fb.load(fb.stringConst("@acme.io")));
              return out;
            }),
            "true");
}

TEST(Opcodes, OptionalAttributes) {
  auto has = [](Op op, uint32_t slot, const std::string& input) {
    Catalog c;
    return eval(c, [op, slot](FunctionBuilder& fb) {
      Reg out = fb.reg();
      fb.emit(op, out, slot);
      return out;
    }, input);
  };
  Catalog t;
  EXPECT_EQ(has(Op::HAS_REQ, t.sJustification, humanInput(cloudRequest())), "false");
  EXPECT_EQ(has(Op::HAS_REQ, t.sJustification,
                humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","justification":"x"})")),
            "true");
  EXPECT_EQ(has(Op::HAS_REQ, t.sJustification,
                humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","justification":null})")),
            "false");
  EXPECT_EQ(has(Op::HAS_CTX, t.cSourceIp, humanInput(cloudRequest())), "false");
  // An unguarded load of an absent optional attribute is an error value.
  Catalog c;
  EXPECT_EQ(eval(c, [&c](FunctionBuilder& fb) {
              Reg v = fb.reg(), out = fb.reg();
              fb.emit(Op::LOAD_REQ, v, c.sJustification);
              fb.emit(Op::EQ, out, v, v);
              return out;
            }),
            "error");
}

// The verifier refuses unknown opcodes; the interpreter, given one all the same, returns an
// error value for every byte past the list (its dispatch table covers all 256).
TEST(Opcodes, UnknownOpcodeBytesAreErrorsInTheInterpreter) {
  Scratch s;
  s.regs.resize(2);
  Value slots[1];
  Input in;
  in.principal = in.request = in.context = slots;
  for (int op = kOpCount; op < 256; ++op) {
    const Instr code[] = {Instr(op) | Instr(1) << 16, encode(Op::RET, 0)};
    CompiledFn fn;
    fn.code = code;
    fn.size = 2;
    fn.numRegs = 2;
    EXPECT_TRUE(execute(fn, in, s).isError()) << op;
  }
}

TEST(Opcodes, EveryOpcodeHasANameAndDoc) {
  for (int i = 0; i < kOpCount; ++i) {
    EXPECT_NE(std::string(kOpInfo[i].name), "");
    EXPECT_NE(std::string(kOpInfo[i].doc), "");
  }
  EXPECT_EQ(std::string(opInfo(Op::LT).name), "LT");
  EXPECT_EQ(opInfo(Op::ITER_BEGIN).c, Operand::Jump);
  Instr i = encode(Op::LT, 2, 0, 1);
  EXPECT_EQ(opcodeOf(i), uint8_t(Op::LT));
  EXPECT_EQ(fieldA(i), 2u);
  EXPECT_EQ(fieldB(i), 0u);
  EXPECT_EQ(fieldC(i), 1u);
}

// The flags column of opcodes.def agrees with the operand kinds, so that the passes that
// read flags (specialize.cpp, the fast-test recognizer, the verifier) see what they expect.
TEST(Opcodes, FlagsAgreeWithOperands) {
  for (int i = 0; i < kOpCount; ++i) {
    const Op op = Op(i);
    const OpInfo& info = opInfo(op);
    SCOPED_TRACE(info.name);
    if (opHas(op, opflag::Cond)) {  // if R[A] ... then pc += B
      EXPECT_EQ(info.a, Operand::RegRead);
      EXPECT_EQ(info.b, Operand::Jump);
    }
    EXPECT_EQ(opHas(op, opflag::End), op == Op::JMP || op == Op::RET);
    EXPECT_EQ(opHas(op, opflag::Loop), op == Op::ITER_BEGIN || op == Op::ITER_NEXT);
    EXPECT_TRUE(!hasJump(op) || opHas(op, opflag::Cond | opflag::End | opflag::Loop));
    if (opHas(op, opflag::Range)) {
      EXPECT_EQ(info.b, Operand::RegRead);
      EXPECT_EQ(info.c, Operand::Count);
    }
    const int roots = opHas(op, opflag::Prin) + opHas(op, opflag::Req) + opHas(op, opflag::Ctx);
    if (opHas(op, opflag::Load | opflag::Has)) {
      EXPECT_FALSE(opHas(op, opflag::Load) && opHas(op, opflag::Has));
      EXPECT_EQ(roots, 1);
      EXPECT_EQ(info.b, Operand::Slot);
      EXPECT_EQ(info.c, opHas(op, opflag::Prin) ? Operand::PrincipalType : Operand::None);
    }
    if (opHas(op, opflag::Cmp)) {
      EXPECT_EQ(info.b, Operand::RegRead);
      EXPECT_EQ(info.c, Operand::RegRead);
    }
  }
  // The jump offset is read from and written to the J field, whichever it is.
  const Instr jmp = encode(Op::JMP_FALSE, 3, 7), loop = encode(Op::ITER_BEGIN, 1, 2, 9, 1);
  EXPECT_EQ(jumpOffset(jmp), 7u);
  EXPECT_EQ(jumpOffset(loop), 9u);
  EXPECT_EQ(withJumpOffset(jmp, 4), encode(Op::JMP_FALSE, 3, 4));
  EXPECT_EQ(withJumpOffset(loop, 5), encode(Op::ITER_BEGIN, 1, 2, 5, 1));
}

}  // namespace
}  // namespace pave::rt::test
