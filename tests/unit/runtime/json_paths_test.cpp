// The two input decoders (SPEC §7.2) agree. A valid input with "type" first, and the
// principal's "type" first, takes the one-pass fast path; anything else (an error, or
// "request" before "type") is decoded by the DOM path and its validator. So the same input
// written in both key orders must give the same decision, and invalid inputs must give
// exactly the problems the DOM path reports.
#include <gtest/gtest.h>

#include "test_support.h"

namespace pave::rt::test {
namespace {

using nlohmann::json;

// An input in parts, written either way.
struct Parts {
  std::string type = "\"CloudRole\"";
  std::string principal = R"("email": "dev@acme.io", "groups": ["dev", "ops"], "on_call": false)";
  std::string principalType = "\"Human\"";
  std::string request = R"({"account": "1", "role": "viewer", "env": "dev", "duration": "1h", "scopes": ["a"]})";
  std::string context = R"({"time": "2026-11-27T10:00:00Z", "break_glass": false})";

  // "type" first everywhere: the fast path's order.
  std::string fastOrder() const {
    return "{\"type\":" + type + ",\"principal\":{\"type\":" + principalType + (principal.empty() ? "" : ",") +
           principal + "},\"request\":" + request + ",\"context\":" + context + "}";
  }
  // "type" last everywhere: the fast path gives up, the DOM path decodes.
  std::string domOrder() const {
    return "{\"context\":" + context + ",\"request\":" + request + ",\"principal\":{" + principal +
           (principal.empty() ? "" : ",") + "\"type\":" + principalType + "},\"type\":" + type + "}";
  }
};

class JsonPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    // Grants echo input values of several types into the decision.
    uint32_t r = c.rule("acme.echo", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
    c.grant(r, "max_ttl", loadRequest(c, c.sDuration));
    c.grant(r, "scopes", loadRequest(c, c.sScopes));
    c.grant(r, "ticket_queue", loadRequest(c, c.sAccount));
    c.grant(r, "audited", [this](FunctionBuilder& fb) {
      Reg x = fb.reg();
      fb.emit(Op::LOAD_CTX, x, c.cBreakGlass);
      return x;
    });
    c.grant(r, "common", [this](FunctionBuilder& fb) {
      Reg x = fb.reg();
      fb.emit(Op::LOAD_PRIN, x, c.hGroups, c.human);
      return x;
    });
    lb = c.load();
  }
  std::string decideJson(const std::string& input) {
    Decider d(lb);
    return d.decideJson(input, /*explain=*/true);
  }
  // The (code, path, message) triples reported for `input`.
  std::vector<std::vector<std::string>> problems(const std::string& input) {
    json d = json::parse(decideJson(input));
    std::vector<std::vector<std::string>> out;
    for (auto& e : d["errors"]) out.push_back({e["code"], e["path"], e["message"]});
    return out;
  }
  Catalog c;
  std::shared_ptr<const LoadedBundle> lb;
};

TEST_F(JsonPaths, BothKeyOrdersGiveTheSameDecision) {
  auto withRequest = [](std::string request) {
    Parts p;
    p.request = std::move(request);
    return p;
  };
  std::vector<Parts> cases;
  cases.push_back(Parts{});
  // Escapes, surrogate pairs, raw UTF-8, escapes at every offset of a long string.
  cases.push_back(withRequest(
      R"({"account": "\u00e9\n\"\\\/\t\b\f\r\u0001x", "role": "r", "env": "dev", "duration": "90s", "scopes": ["\ud83d\ude00", "é", "a\"b"]})"));
  for (int at = 0; at < 20; ++at)
    cases.push_back(withRequest(R"({"account": ")" + std::string(size_t(at), 'x') + R"(\"0123456789abcdef", "role": "r",)"
                                R"( "env": "dev", "duration": "1h", "scopes": []})"));
  // Escaped keys; numbers at the int64 limits; durations as numbers; nulls for optionals.
  cases.push_back(withRequest(R"({"acc\u006funt": "1", "role": "r", "env": "dev", "duration": -90, "scopes": ["x"],)"
                              R"( "count": 9223372036854775807, "justification": null, "tags": null})"));
  cases.push_back(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": 0, "scopes": ["x"],)"
                              R"( "count": -9223372036854775808})"));
  // Sets with duplicates and out of order; maps out of order; empty ones.
  cases.push_back(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1d2h3m4s",)"
                              R"( "scopes": ["b", "a", "b", "c", "a"], "tags": {"z": "1", "a": "2", "m": ""}})"));
  cases.push_back(withRequest(R"({"account": "", "role": "r", "env": "dev", "duration": "1h", "scopes": [], "tags": {}})"));
  // Whitespace everywhere.
  cases.push_back(withRequest(" \t\r\n{ \n\"account\" \t: \r\"1\" ,\n \"role\":\"r\",\"env\"\n:\n\"dev\" , \"duration\" : "
                              "\"1h\" , \"scopes\" : [ \"a\" , \"b\" ] , \"tags\" : { \"k\" : \"v\" } }\t\n "));
  // Context: date-only timestamp, IPv6, null optional; attributes in any order.
  Parts ctx;
  ctx.context = R"({"break_glass": true, "source_ip": "2001:db8::1", "time": "2026-11-27"})";
  cases.push_back(ctx);
  ctx.context = R"({"source_ip": null, "time": "2026-11-27T23:59:59Z", "break_glass": false})";
  cases.push_back(ctx);
  // Another request type; a qualified type name; a workload principal.
  Parts secret;
  secret.type = "\"acme.SecretAccess\"";
  secret.principalType = "\"acme.Workload\"";
  secret.principal = R"("spiffe_id": "spiffe://x", "owner": "o", "env": "prod", "attested": true)";
  secret.request = R"({"path": "/a", "mode": "read", "persistent": false, "ttl": "15m"})";
  cases.push_back(secret);
  // Empty principal attributes (then missing ones are problems on both paths).
  Parts agent;
  agent.type = "\"SecretAccess\"";
  agent.principalType = "\"Agent\"";
  agent.principal = R"("operator": "o", "model": "m")";
  agent.request = secret.request;
  cases.push_back(agent);

  for (const Parts& p : cases) {
    std::string fast = decideJson(p.fastOrder()), dom = decideJson(p.domOrder());
    EXPECT_EQ(fast, dom) << p.fastOrder();
    EXPECT_TRUE(json::parse(fast)["errors"].empty()) << fast;
  }
}

TEST_F(JsonPaths, InvalidInputsReportTheDomPathsProblems) {
  using Problems = std::vector<std::vector<std::string>>;
  auto withRequest = [](const std::string& request) {
    Parts p;
    p.request = request;
    return p.fastOrder();
  };
  auto withContext = [](const std::string& context) {
    Parts p;
    p.context = context;
    return p.fastOrder();
  };
  auto withPrincipal = [](const std::string& principal) {
    Parts p;
    p.principal = principal;
    return p.fastOrder();
  };
  // Duplicate keys, at every level.
  EXPECT_EQ(problems(R"({"type":"CloudRole","type":"CloudRole"})"),
            (Problems{{"invalid-value", "$.type", "duplicate key"},
                      {"missing-attribute", "$.principal", "missing principal"},
                      {"missing-attribute", "$.request", "missing request"},
                      {"missing-attribute", "$.context", "missing context"}}));
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h", "role": "s"})")),
            (Problems{{"invalid-value", "$.request.role", "duplicate key"}}));
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h", "tags": {"a": "1", "a": "2"}})")),
            (Problems{{"invalid-value", "$.request.tags.a", "duplicate key"}}));
  // Regression: a repeated principal "type" is a duplicate key like any other (it was
  // accepted, the last one counting).
  Parts twice;
  twice.principalType = R"("Robot", "type": "Human")";
  EXPECT_EQ(problems(twice.fastOrder()), (Problems{{"invalid-value", "$.principal.type", "duplicate key"}}));
  twice.principalType = R"("Human", "type": "Human")";
  EXPECT_EQ(problems(twice.fastOrder()), (Problems{{"invalid-value", "$.principal.type", "duplicate key"}}));
  // Unknown keys; wrong types; nulls for required attributes.
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h", "x": [[[[{}]]]]})")),
            (Problems{{"unknown-attribute", "$.request.x", "unknown attribute 'x'"}}));
  EXPECT_EQ(problems(withRequest(R"({"account": null, "role": "r", "env": "dev", "duration": "1h"})")),
            (Problems{{"wrong-type", "$.request.account", "expected String, got null"}}));
  EXPECT_EQ(problems(withPrincipal(R"("email": "e", "groups": null, "on_call": false)")),
            (Problems{{"wrong-type", "$.principal.groups", "expected Set<String>, got null"}}));
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h", "count": 1.0})")),
            (Problems{{"invalid-value", "$.request.count", "not an integer in the int64 range: 1.0"}}));
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h", "scopes": [["a"]], "tags": []})")),
            (Problems{{"wrong-type", "$.request.scopes[0]", "expected String, got an array"},
                      {"wrong-type", "$.request.tags", "expected Map<String, String>, got an array"}}));
  // Integers just outside int64.
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h", "count": 9223372036854775808})")),
            (Problems{{"invalid-value", "$.request.count", "not an integer in the int64 range: 9223372036854775808"}}));
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": -9223372036854775809})")),
            (Problems{{"wrong-type", "$.request.duration", "expected Duration, got a number"}}));
  // Invalid values of each parsed form.
  EXPECT_EQ(problems(withContext(R"({"time": "2026-11-27T10:00:00", "source_ip": "10.0.0.256", "break_glass": 0})")),
            (Problems{{"invalid-value", "$.context.time", "invalid timestamp: \"2026-11-27T10:00:00\""},
                      {"invalid-value", "$.context.source_ip", "invalid IP address: \"10.0.0.256\""},
                      {"wrong-type", "$.context.break_glass", "expected Bool, got a number"}}));
  EXPECT_EQ(problems(withPrincipal(R"("email": "e", "groups": ["a"])")),
            (Problems{{"missing-attribute", "$.principal.on_call", "missing attribute 'on_call'"}}));
  // A principal that may not ask, and "request" before an unknown "type".
  Parts secret;
  secret.principalType = "\"Agent\"";
  secret.principal = R"("model": "m", "operator": "o")";
  EXPECT_EQ(problems(secret.fastOrder()),
            (Problems{{"principal-not-allowed", "$.principal.type", "principal type 'acme.Agent' may not ask for 'acme.CloudRole'"}}));
  Parts unknown;
  unknown.type = "\"Pizza\"";
  EXPECT_EQ(problems(unknown.domOrder()),
            (Problems{{"unknown-request-type", "$.type", "unknown request type 'Pizza'"}}));
  // Malformed JSON: trailing commas, bad escapes, control characters, bad UTF-8, deep nesting.
  EXPECT_EQ(problems(withRequest(R"({"account": "1", "role": "r", "env": "dev", "duration": "1h",})")),
            (Problems{{"malformed-json", "$", "at byte 187: expected a key"}}));
  EXPECT_EQ(problems(withRequest("{\"account\": \"a\x01\"}")),
            (Problems{{"malformed-json", "$", "at byte 140: control character in string"}}));
  EXPECT_EQ(problems(withRequest("{\"account\": \"\\x\"}")),
            (Problems{{"malformed-json", "$", "at byte 141: invalid escape"}}));
  EXPECT_EQ(problems(withRequest("{\"account\": \"0123456789\xc3\x28\"}")),
            (Problems{{"malformed-json", "$", "at byte 152: invalid UTF-8"}}));
  EXPECT_EQ(problems(withRequest(std::string(100, '[') + std::string(100, ']'))),
            (Problems{{"malformed-json", "$", "at byte 190: nesting too deep"}}));
}

// Every proper prefix of a valid input is malformed, on both key orders: the decoders
// notice the end of the text wherever it comes.
TEST_F(JsonPaths, EveryPrefixIsMalformed) {
  Parts p;
  p.request = R"({"account": "a\"b\u00e9", "role": "r", "env": "dev", "duration": 5400, "scopes": ["x"],)"
              R"( "tags": {"k": "v"}, "count": -12})";
  Decider d(lb);
  for (const std::string& input : {p.fastOrder(), p.domOrder()}) {
    ASSERT_TRUE(d.decide(input).errors.empty()) << input;
    for (size_t n = 0; n < input.size(); ++n) {
      const Decision& dec = d.decide(std::string_view(input).substr(0, n));
      ASSERT_EQ(dec.errors.size(), 1u) << input.substr(0, n);
      EXPECT_EQ(dec.errors[0].code, "malformed-json") << input.substr(0, n);
    }
  }
}

}  // namespace
}  // namespace pave::rt::test
