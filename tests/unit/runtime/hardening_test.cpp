// Regression tests for the defects of the adversarial review: trusted keys that are never
// "no key", IPv4-mapped IPv6 addresses, timestamps outside years 0000–9999, and denies that
// matched through an error (SPEC §2.1, §4.5, §5, §7.1).
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "pave/vm.h"
#include "test_support.h"

namespace pave::rt::test {
namespace {

using json = nlohmann::json;

// ---- trusted keys ----

struct Signed {
  std::string priv, pub, other_priv, other_pub;
  std::vector<uint8_t> signed_bytes, unsigned_bytes;
  Signed() {
    makeKeyPair(priv, pub);
    makeKeyPair(other_priv, other_pub);
    Catalog c;
    c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
    signed_bytes = c.bytes({.signKeyPem = priv, .strip = false});
    unsigned_bytes = c.bytes();
  }
};

TEST(TrustedKeys, AnEmptyOrInvalidKeyIsAnErrorNotNoKey) {
  Signed s;
  std::string error;
  for (const std::string& key : {std::string(), std::string("\n"), std::string("not a key"), s.priv,
                                 std::string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}) {
    for (const auto* bytes : {&s.signed_bytes, &s.unsigned_bytes}) {
      error.clear();
      EXPECT_FALSE(LoadedBundle::load(*bytes, {.publicKeysPem = {key}}, &error)) << "key: " << key;
      EXPECT_FALSE(error.empty());
      EXPECT_EQ(error.find("signature verified"), std::string::npos);
    }
  }
  EXPECT_FALSE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {""}}, &error));
  EXPECT_NE(error.find("no public key found"), std::string::npos) << error;
  EXPECT_FALSE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {s.priv}}, &error));
  EXPECT_NE(error.find("not a public key"), std::string::npos) << error;
  // One invalid text among valid ones fails too.
  EXPECT_FALSE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {s.pub, ""}}, &error));
  // Text outside PEM blocks is ignored, as PEM readers do.
  EXPECT_TRUE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {"comment\n" + s.pub + "garbage"}}, &error))
      << error;
  std::string why;
  EXPECT_FALSE(checkPublicKeys("", nullptr, &why));
  size_t n = 0;
  EXPECT_TRUE(checkPublicKeys(s.pub + s.other_pub, &n, &why)) << why;
  EXPECT_EQ(n, 2u);
}

TEST(TrustedKeys, CApiEmptyKeyFailsTheOpen) {
  Signed s;
  EXPECT_EQ(pave_open(s.unsigned_bytes.data(), s.unsigned_bytes.size(), ""), nullptr);
  EXPECT_NE(std::string(pave_last_error()).find("no public key found"), std::string::npos) << pave_last_error();
  EXPECT_EQ(pave_open(s.signed_bytes.data(), s.signed_bytes.size(), ""), nullptr);
  // NULL: signatures are not checked.
  pave_bundle* b = pave_open(s.unsigned_bytes.data(), s.unsigned_bytes.size(), nullptr);
  EXPECT_NE(b, nullptr);
  pave_close(b);
  // Several keys in one PEM text: any may sign.
  std::string both = s.other_pub + s.pub;
  b = pave_open(s.signed_bytes.data(), s.signed_bytes.size(), both.c_str());
  EXPECT_NE(b, nullptr) << pave_last_error();
  pave_close(b);
  EXPECT_EQ(pave_open(s.signed_bytes.data(), s.signed_bytes.size(), s.other_pub.c_str()), nullptr);
}

TEST(TrustedKeys, RotationAnyListedKeyMaySign) {
  Signed s;
  std::string error;
  EXPECT_TRUE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {s.other_pub, s.pub}}, &error)) << error;
  EXPECT_TRUE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {s.other_pub + s.pub}}, &error)) << error;
  EXPECT_TRUE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {s.pub + s.other_pub}}, &error)) << error;
  EXPECT_FALSE(LoadedBundle::load(s.signed_bytes, {.publicKeysPem = {s.other_pub, s.other_pub}}, &error));
  EXPECT_NE(error.find("verification failed"), std::string::npos) << error;
  EXPECT_FALSE(LoadedBundle::load(s.unsigned_bytes, {.publicKeysPem = {s.other_pub, s.pub}}, &error));
  EXPECT_NE(error.find("not signed"), std::string::npos) << error;
}

// ---- IPv4-mapped IPv6 addresses (SPEC §2.1) ----

// A deny on 10.0.0.0/8 and an allow of everything: the deny must hold for every spelling of
// an address in 10/8.
Catalog managementNetworkDeny() {
  Catalog c;
  c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.rule("acme.no_mgmt", Effect::Deny, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
           IpAddr net;
           net.family = 4;
           net.prefix = 8;
           net.bytes[0] = 10;
           Reg ip = fb.reg(), out = fb.reg();
           fb.emit(Op::LOAD_CTX, ip, c.cSourceIp);
           Reg k = fb.load(fb.ipConst(net, true));
           fb.emit(Op::IN_CIDR, out, ip, k);
           return out;
         }});
  return c;
}

TEST(MappedAddresses, JsonInputMatchesIpv4Cidr) {
  Catalog c = managementNetworkDeny();
  auto lb = c.load();
  auto from = [&](const std::string& ip) {
    return decide(lb, humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":false,"source_ip":")" +
                                                     ip + R"("})"));
  };
  for (const char* ip : {"10.1.2.3", "::ffff:10.1.2.3", "::ffff:a01:203", "0:0:0:0:0:ffff:10.1.2.3", "::FFFF:a01:203"}) {
    json d = from(ip);
    EXPECT_EQ(d["decision"], "deny") << ip << " " << d;
    EXPECT_EQ(d["deny_rules"], json::array({"acme.no_mgmt"})) << ip;
  }
  for (const char* ip : {"11.1.2.3", "::ffff:11.1.2.3", "::a01:203", "64:ff9b::a01:203", "::fffe:a01:203"})
    EXPECT_EQ(from(ip)["decision"], "allow") << ip;
}

TEST(MappedAddresses, PreBoundMatchesIpv4Cidr) {
  Catalog c = managementNetworkDeny();
  auto lb = c.load();
  Decider d(lb);
  auto bound = [&](std::initializer_list<uint8_t> tail) {
    InputBuilder in = d.bind(c.cloudRole, c.human);
    EXPECT_TRUE(in.principal("email", in.makeString("dev@acme.io")) && in.principal("groups", in.makeSet({})) &&
                in.principal("on_call", Value::boolean(false)) && in.request("account", in.makeString("1")) &&
                in.request("role", in.makeString("viewer")) && in.request("env", in.makeEnum("Env", "dev")) &&
                in.request(c.sDuration, Value::integer(60, Kind::Duration)) &&
                in.context("time", Value::integer(1795773600, Kind::Timestamp)) &&
                in.context("break_glass", Value::boolean(false)));
    Value ip;
    ip.kind = Kind::Ip;
    ip.family = 6;
    std::memset(ip.ip, 0, 16);
    std::copy(tail.begin(), tail.end(), ip.ip + 16 - tail.size());
    EXPECT_TRUE(in.context("source_ip", ip));
    return d.decideBound().outcome;
  };
  EXPECT_EQ(bound({0xff, 0xff, 10, 1, 2, 3}), Outcome::Deny);
  EXPECT_EQ(bound({0xff, 0xff, 11, 1, 2, 3}), Outcome::Allow);
  EXPECT_EQ(bound({0xff, 0xfe, 10, 1, 2, 3}), Outcome::Allow);
}

TEST(MappedAddresses, MappedCidrInputIsTheIpv4Network) {
  Catalog c;
  const uint32_t slot = [&] {
    c.b.schema.context.push_back({c.b.intern("net"), c.tCidr, true});
    return uint32_t(c.b.schema.context.size() - 1);
  }();
  Const def;
  def.type = c.tCidr;
  c.b.schema.requests[c.cloudRole].grants.push_back({c.b.intern("net"), c.tCidr, def, MergeOp::Unique});
  uint32_t r = c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(r, "net", [slot](FunctionBuilder& fb) {
    Reg v = fb.reg();
    fb.emit(Op::LOAD_CTX, v, slot);
    return v;
  });
  auto lb = c.load();
  auto net = [&](const std::string& text) {
    return decide(lb, humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":false,"net":")" +
                                                     text + R"("})"))["grants"]["net"];
  };
  EXPECT_EQ(net("::ffff:10.0.0.0/104"), "10.0.0.0/8");
  EXPECT_EQ(net("::ffff:10.1.2.3/128"), "10.1.2.3/32");
  EXPECT_EQ(net("::ffff:0:0/96"), "0.0.0.0/0");
  EXPECT_EQ(net("::/0"), "::/0");
}

// ---- timestamps outside years 0000–9999 (SPEC §4.5) ----

// `context.time + request.duration >= k`, whose sum can leave the range.
Body timePlusDurationAtLeast(Catalog& c, int64_t k) {
  return [&c, k](FunctionBuilder& fb) {
    Reg t = fb.reg(), d = fb.reg(), sum = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_CTX, t, c.cTime);
    fb.emit(Op::LOAD_REQ, d, c.sDuration);
    fb.emit(Op::ADD, sum, t, d);
    Reg lim = fb.load(fb.timestampConst(k));
    fb.emit(Op::GE, out, sum, lim);
    return out;
  };
}

TEST(TimestampRange, ArithmeticLeavingTheRangeIsAnError) {
  Catalog c;
  // An allow that would match on the far-future sum must not: it errs instead.
  c.rule("acme.late", Effect::Allow, {c.cloudRole}, {timePlusDurationAtLeast(c, 0)});
  auto lb = c.load();
  auto at = [&](const std::string& time, const std::string& duration) {
    return decide(lb, humanInput(cloudRequest("dev", "viewer", "\"" + duration + "\""),
                                 R"({"time":")" + time + R"(","break_glass":false})"));
  };
  EXPECT_EQ(at("2026-11-27T10:00:00Z", "1h")["decision"], "allow");
  EXPECT_EQ(at("9999-12-31T23:00:00Z", "59m59s")["decision"], "allow");  // 9999-12-31T23:59:59Z: in range
  for (auto [time, duration] : {std::pair{"9999-12-31T23:00:00Z", "1h"}, {"0000-01-01T00:00:00Z", "106751991167300d"},
                                {"2026-01-01T00:00:00Z", "3000000d"}, {"0000-01-01T00:00:00Z", "-1s"}}) {
    json d = at(time, duration);
    EXPECT_EQ(d["decision"], "deny") << time << " + " << duration << ": " << d;
    ASSERT_EQ(d["errors"].size(), 1u) << d;
    EXPECT_EQ(d["errors"][0]["code"], "evaluation-error");
    EXPECT_NE(d["errors"][0]["message"].get<std::string>().find("timestamp out of range"), std::string::npos);
  }
}

TEST(TimestampRange, DateOfAnOutOfRangeValueIsAnErrorNotUndefined) {
  Catalog c;
  // date(context.time + request.duration) granted: a far-future sum never reaches `date`.
  c.b.schema.requests[c.cloudRole].grants.push_back(
      {c.b.intern("day"), c.tTimestamp, [&] { Const k; k.type = c.tTimestamp; return k; }(), MergeOp::Unique});
  uint32_t r = c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  c.grant(r, "day", [&c](FunctionBuilder& fb) {
    Reg t = fb.reg(), d = fb.reg(), sum = fb.reg(), day = fb.reg();
    fb.emit(Op::LOAD_CTX, t, c.cTime);
    fb.emit(Op::LOAD_REQ, d, c.sDuration);
    fb.emit(Op::ADD, sum, t, d);
    fb.emit(Op::DATE, day, sum);
    return day;
  });
  auto lb = c.load();
  json ok = decide(lb, humanInput(cloudRequest("dev", "viewer", "\"25h\""), R"({"time":"2026-11-27T10:00:00Z","break_glass":false})"));
  EXPECT_EQ(ok["grants"]["day"], "2026-11-28T00:00:00Z");
  json bad = decide(lb, humanInput(cloudRequest("dev", "viewer", "\"106751991167300d\""),
                                   R"({"time":"0000-01-01T00:00:00Z","break_glass":false})"));
  EXPECT_EQ(bad["decision"], "deny") << bad;
  EXPECT_EQ(bad["grants"], json::object());
  EXPECT_EQ(bad["errors"][0]["code"], "evaluation-error");
}

TEST(TimestampRange, LoaderRejectsOutOfRangeConstantsAndUntil) {
  for (int64_t until : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), kMinTimestamp - 1,
                        kMaxTimestamp + 1}) {
    Catalog c;
    uint32_t deny = c.rule("acme.no", Effect::Deny, {c.cloudRole}, {constBool(true)});
    c.exception("acme.x", deny, until, {constBool(true)});
    std::string error;
    EXPECT_FALSE(LoadedBundle::load(c.bytes(), {}, &error)) << until;
    EXPECT_NE(error.find("until"), std::string::npos) << error;
  }
  for (int64_t k : {std::numeric_limits<int64_t>::min(), kMaxTimestamp + 1}) {
    Catalog c;
    c.rule("acme.late", Effect::Allow, {c.cloudRole}, {timePlusDurationAtLeast(c, k)});
    std::string error;
    EXPECT_FALSE(LoadedBundle::load(c.bytes(), {}, &error)) << k;
    EXPECT_NE(error.find("timestamp constant"), std::string::npos) << error;
  }
  Catalog edge;
  uint32_t deny = edge.rule("acme.no", Effect::Deny, {edge.cloudRole}, {constBool(true)});
  edge.exception("acme.x", deny, kMaxTimestamp, {constBool(true)});
  edge.rule("acme.late", Effect::Allow, {edge.cloudRole}, {timePlusDurationAtLeast(edge, kMinTimestamp)});
  std::string error;
  EXPECT_TRUE(LoadedBundle::load(edge.bytes(), {}, &error)) << error;
}

TEST(TimestampRange, PreBoundOutOfRangeTimestampIsRefused) {
  Catalog c;
  c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  auto lb = c.load();
  Decider d(lb);
  InputBuilder in = d.bind(c.cloudRole, c.human);
  EXPECT_FALSE(in.context("time", Value::integer(kMaxTimestamp + 1, Kind::Timestamp)));
  EXPECT_FALSE(in.context("time", Value::integer(std::numeric_limits<int64_t>::min(), Kind::Timestamp)));
  EXPECT_TRUE(in.context("time", Value::integer(kMaxTimestamp, Kind::Timestamp)));
}

// ---- denies that matched through an error (SPEC §5 step 3) ----

TEST(ErroredDenies, AreNeverLifted) {
  Catalog c;
  c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
  uint32_t deny = c.rule("acme.broken", Effect::Deny, {c.cloudRole}, {overflowingBool()});
  c.exception("acme.waiver", deny, kMaxTimestamp, {constBool(true)});
  auto lb = c.load();
  for (bool explain : {false, true}) {
    json d = decide(lb, humanInput(cloudRequest()), explain);
    EXPECT_EQ(d["decision"], "deny") << d;
    EXPECT_EQ(d["deny_rules"], json::array({"acme.broken"}));
    EXPECT_EQ(d["exceptions"], json::array());
    ASSERT_EQ(d["errors"].size(), 1u);
    EXPECT_EQ(d["errors"][0]["rule"], "acme.broken");
  }
  // A deny that matched without an error is still lifted.
  Catalog ok;
  ok.rule("acme.any", Effect::Allow, {ok.cloudRole}, {constBool(true)});
  uint32_t plain = ok.rule("acme.no", Effect::Deny, {ok.cloudRole}, {constBool(true)});
  ok.exception("acme.waiver", plain, kMaxTimestamp, {constBool(true)});
  EXPECT_EQ(decide(ok.load(), humanInput(cloudRequest()))["decision"], "allow");
}

TEST(ErroredDenies, AnyEvaluationErrorDenies) {
  // An erring allow beside a matching one: the decision carries the error, so it is deny.
  for (bool explain : {false, true}) {
    Catalog c;
    c.rule("acme.any", Effect::Allow, {c.cloudRole}, {constBool(true)});
    c.rule("acme.broken", Effect::Allow, {c.cloudRole}, {overflowingBool()});
    json d = decide(c.load(), humanInput(cloudRequest()), explain);
    EXPECT_EQ(d["decision"], "deny") << d;
    EXPECT_EQ(d["rules"], json::array({"acme.any"}));
    EXPECT_EQ(d["grants"], json::object());
    EXPECT_EQ(d["errors"][0]["rule"], "acme.broken");
    // An erring exception beside a lifted deny: deny too.
    Catalog x;
    x.rule("acme.any", Effect::Allow, {x.cloudRole}, {constBool(true)});
    uint32_t deny = x.rule("acme.no", Effect::Deny, {x.cloudRole}, {constBool(true)});
    x.exception("acme.waiver", deny, kMaxTimestamp, {constBool(true)});
    x.exception("acme.broken_waiver", deny, kMaxTimestamp, {overflowingBool()});
    json e = decide(x.load(), humanInput(cloudRequest()), explain);
    EXPECT_EQ(e["decision"], "deny") << e;
    EXPECT_EQ(e["errors"][0]["rule"], "acme.broken_waiver");
  }
}

}  // namespace
}  // namespace pave::rt::test
