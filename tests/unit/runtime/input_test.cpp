// Input validation (SPEC §7.2) and canonical value forms (SPEC §7.3).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "pave/literals.h"
#include "program.h"
#include "test_support.h"

namespace pave::rt::test {
namespace {

using nlohmann::json;

class Input : public ::testing::Test {
 protected:
  void SetUp() override {
    uint32_t r = c.rule("acme.dev", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
    c.grant(r, "max_ttl", loadRequest(c, c.sDuration));
    lb = c.load();
  }
  // The (code, path) pairs reported for `input`.
  std::vector<std::pair<std::string, std::string>> problems(const std::string& input) {
    json d = decide(lb, input);
    EXPECT_EQ(d["decision"], "deny");
    EXPECT_EQ(d["rules"], json::array());
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& e : d["errors"]) out.emplace_back(e["code"], e["path"]);
    return out;
  }
  using P = std::vector<std::pair<std::string, std::string>>;
  Catalog c;
  std::shared_ptr<const LoadedBundle> lb;
};

TEST_F(Input, ValidInputAndForms) {
  json d = decide(lb, humanInput(cloudRequest("dev", "viewer", "5400")));
  EXPECT_EQ(d["decision"], "allow");
  EXPECT_EQ(d["grants"]["max_ttl"], "1h30m");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "\"90s\"")))["grants"]["max_ttl"], "1m30s");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "\"26h\"")))["grants"]["max_ttl"], "1d2h");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "\"0s\"")))["grants"]["max_ttl"], "0s");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "\"1d2h3m4s\"")))["grants"]["max_ttl"], "1d2h3m4s");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "-90")))["grants"]["max_ttl"], "-1m30s");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "9223372036854775807")))["grants"]["max_ttl"],
            "106751991167300d15h30m7s");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest("dev", "viewer", "-9223372036854775808")))["grants"]["max_ttl"],
            "-106751991167300d15h30m8s");
  // Qualified request type; date-only timestamps; null for an optional attribute.
  EXPECT_EQ(decide(lb, humanInput(cloudRequest(), "", "acme.CloudRole"))["decision"], "allow");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest(), R"({"time":"2026-11-27","break_glass":false,"source_ip":null})"))["decision"],
            "allow");
  EXPECT_EQ(decide(lb, humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","justification":null,)"
                                  R"("tags":{"a":"1"},"scopes":["x","x"]})"))["decision"],
            "allow");
  // String escapes decode.
  EXPECT_EQ(decide(lb, humanInput(R"({"account":"\u00e9\n\"","role":"r","env":"dev","duration":"1h"})"))["decision"],
            "allow");
}

TEST_F(Input, ErrorCodesAndPaths) {
  EXPECT_EQ(problems("{"), (P{{"malformed-json", "$"}}));
  EXPECT_EQ(problems("[1]"), (P{{"wrong-type", "$"}}));
  EXPECT_EQ(problems(R"({"type":"CloudRole"} x)"), (P{{"malformed-json", "$"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest(), "", "Pizza")), (P{{"unknown-request-type", "$.type"}}));
  EXPECT_EQ(problems(humanInput(R"({"account":"1","role":"r","env":"dev"})")),
            (P{{"missing-attribute", "$.request.duration"}}));
  EXPECT_EQ(problems(humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","colour":"red"})")),
            (P{{"unknown-attribute", "$.request.colour"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest("dev", "viewer", "true"))), (P{{"wrong-type", "$.request.duration"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest("dev", "viewer", "1.5"))), (P{{"wrong-type", "$.request.duration"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest("dev", "viewer", "\"1x\""))), (P{{"invalid-value", "$.request.duration"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest("dev", "viewer", "\"30m1h\""))), (P{{"invalid-value", "$.request.duration"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest("production"))), (P{{"invalid-value", "$.request.env"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest(), R"({"time":"yesterday","break_glass":false})")),
            (P{{"invalid-value", "$.context.time"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest(), R"({"time":"2026-02-30T00:00:00Z","break_glass":false})")),
            (P{{"invalid-value", "$.context.time"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest(), R"({"break_glass":false})")), (P{{"missing-attribute", "$.context.time"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":false,"source_ip":"300.1.1.1"})")),
            (P{{"invalid-value", "$.context.source_ip"}}));
  EXPECT_EQ(problems(humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","scopes":["a",3]})")),
            (P{{"wrong-type", "$.request.scopes[1]"}}));
  EXPECT_EQ(problems(humanInput(R"({"account":"1","role":"r","env":"dev","duration":"1h","tags":{"cost-center":1}})")),
            (P{{"wrong-type", "$.request.tags[\"cost-center\"]"}}));
  // Bool values: literals only, whole words.
  EXPECT_EQ(problems(humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":"false"})")),
            (P{{"wrong-type", "$.context.break_glass"}}));
  EXPECT_EQ(problems(humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":0})")),
            (P{{"wrong-type", "$.context.break_glass"}}));
  for (const char* bad : {"fals", "falsey", "tru", "truth", "t", "f"})
    EXPECT_EQ(problems(humanInput(cloudRequest(), std::string(R"({"time":"2026-11-27T10:00:00Z","break_glass":)") + bad + "}")),
              (P{{"malformed-json", "$"}}))
        << bad;
  EXPECT_EQ(decide(lb, humanInput(cloudRequest(), R"({"time":"2026-11-27T10:00:00Z","break_glass":true})"))["decision"],
            "allow");
  std::string agent = R"({"type":"CloudRole","principal":{"type":"Agent","model":"m","operator":"o"},"request":)" +
                      cloudRequest() + R"(,"context":{"time":"2026-11-27T10:00:00Z","break_glass":false}})";
  EXPECT_EQ(problems(agent), (P{{"principal-not-allowed", "$.principal.type"}}));
  // Every problem is reported, not only the first.
  std::string many = R"({"type":"CloudRole","principal":{"type":"Human","email":1,"groups":[],"on_call":false},
    "request":{"account":"1","role":"r","env":"dev","duration":"1h","x":1},"context":{"time":"2026-11-27T10:00:00Z"},"extra":0})";
  EXPECT_EQ(problems(many), (P{{"unknown-attribute", "$.extra"},
                               {"wrong-type", "$.principal.email"},
                               {"unknown-attribute", "$.request.x"},
                               {"missing-attribute", "$.context.break_glass"}}));
}

TEST_F(Input, MalformedJsonNeverCrashes) {
  for (std::string bad : std::vector<std::string>{"", " ", "{\"type\":", "{\"a\" 1}", "[", "\"\\u12\"", "{\"a\":\"\x01\"}", "nul", "{\"a\":-}",
                          "\"\xff\"", "{\"a\":\"\\ud800\"}", std::string(200, '[')}) {
    json d = decide(lb, bad);
    EXPECT_EQ(d["decision"], "deny") << bad;
    ASSERT_FALSE(d["errors"].empty()) << bad;
  }
}

// Whitespace between tokens is skipped 16 bytes at a time where the input has 16 more bytes,
// and a byte at a time after that: runs of every length from 0 to 40, mixing the four JSON
// whitespace bytes, before every token and at the end of the input, must give the decision
// of the compact input; a form feed or vertical tab anywhere in such a run is not JSON
// whitespace and makes the input malformed.
TEST_F(Input, WhitespaceRunsOfAnyLength) {
  const std::string compact = R"({"type":"CloudRole","principal":{"type":"Human","email":"dev@acme.io","groups":["dev"],)"
                              R"("on_call":false},"request":{"account":"1","role":"r","env":"dev","duration":"1h"},)"
                              R"("context":{"time":"2026-11-27T10:00:00Z","break_glass":false}})";
  const json expected = decide(lb, compact);
  ASSERT_EQ(expected["decision"], "allow");
  // Places between tokens: after each of {}[]:, and before the first byte.
  std::vector<size_t> places = {0};
  bool in_string = false;
  for (size_t i = 0; i < compact.size(); ++i) {
    if (compact[i] == '"') in_string = !in_string;
    if (!in_string && std::strchr("{}[]:,", compact[i])) places.push_back(i + 1);
  }
  const char ws[] = {' ', '\n', '\t', '\r'};
  Decider d(lb);
  int checked = 0;
  for (size_t place : places)
    for (size_t len = 0; len <= 40; ++len) {
      std::string run;
      for (size_t k = 0; k < len; ++k) run += ws[(k * 7 + place) % 4];
      std::string input = compact;
      input.insert(place, run);
      EXPECT_EQ(json::parse(d.decideJson(input)), expected) << "run of " << len << " at " << place;
      if (len == 0) continue;
      for (char bad : {'\f', '\v'}) {
        std::string broken = input;
        broken[place + (place * 5 + len * 3) % len] = bad;  // somewhere in the run
        json b = json::parse(d.decideJson(broken));
        ASSERT_FALSE(b["errors"].empty()) << "run of " << len << " at " << place;
        EXPECT_EQ(b["errors"][0]["code"], "malformed-json") << "run of " << len << " at " << place;
      }
      ++checked;
    }
  EXPECT_EQ(checked, int(places.size()) * 40);
}

// Strings are scanned 16 bytes at a time (SSE2) while 16 more bytes of input follow, then a
// word and a byte at a time; the decision writer checks for bytes to escape the same way.
// Strings of every length from 0 to 40, plain or with an escape, a UTF-8 character, a
// control byte or an invalid byte at every position, once early in the input and once at
// its end: the decision's grant (the string as it came) is what a JSON library decodes, and
// the input is malformed exactly when that library refuses it.
TEST(StringScan, EveryLengthAndPosition) {
  Catalog c;
  uint32_t r = c.rule("acme.dev", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  c.grant(r, "ticket_queue", loadRequest(c, c.sAccount));
  auto lb = c.load();
  Decider d(lb);
  const std::string principal = R"("principal":{"type":"Human","email":"dev@acme.io","groups":["dev"],"on_call":false})";
  const std::string context = R"("context":{"time":"2026-11-27T10:00:00Z","break_glass":false})";
  auto input = [&](const std::string& quoted, bool at_end) {
    const std::string request = R"("request":{"role":"r","env":"dev","duration":"1h","account":)" + quoted + "}";
    return at_end ? R"({"type":"CloudRole",)" + principal + "," + context + "," + request + "}"
                  : R"({"type":"CloudRole",)" + principal + "," + request + "," + context + "}";
  };
  const std::vector<std::string> specials = {"",     "\\\"",   "\\\\", "\\n",    "\\u00e9", "\xc3\xa9",
                                             "\x01", "\x1f",   "\xff", "\xe2\x82", "\""};
  int decoded = 0, refused = 0;
  for (size_t len = 0; len <= 40; ++len)
    for (const std::string& special : specials)
      for (size_t at = 0; at <= (special.empty() ? 0 : len); ++at) {
        std::string body;
        for (size_t k = 0; k < len; ++k) body += char('a' + (k * 7 + len) % 26);
        body.insert(at, special);
        const std::string quoted = "\"" + body + "\"";
        json expected;
        bool valid = true;
        try {
          expected = json::parse(quoted);
        } catch (const json::exception&) {
          valid = false;
        }
        for (bool at_end : {false, true}) {
          const std::string text = input(quoted, at_end);
          json got = json::parse(d.decideJson(text));
          if (valid) {
            ASSERT_EQ(got["decision"], "allow") << text << "\n" << got;
            EXPECT_EQ(got["grants"]["ticket_queue"], expected) << text;
            ++decoded;
          } else {
            ASSERT_FALSE(got["errors"].empty()) << text;
            EXPECT_EQ(got["errors"][0]["code"], "malformed-json") << text << "\n" << got;
            ++refused;
          }
        }
      }
  // Per length: the plain string, and 10 specials at len + 1 places; the raw control
  // bytes, the invalid byte, the cut UTF-8 character and the bare quote are refused.
  EXPECT_EQ(decoded + refused, 2 * (41 + 10 * (41 * 42 / 2)));
  EXPECT_EQ(refused, 2 * 5 * (41 * 42 / 2));
}

TEST_F(Input, StillFineAfterErrors) {
  Decider d(lb);
  d.decide("{");
  d.decide(humanInput(cloudRequest("production")));
  const Decision& ok = d.decide(humanInput(cloudRequest()));
  EXPECT_EQ(ok.outcome, Outcome::Allow);
  EXPECT_TRUE(ok.errors.empty());
}

// An object of more than 64 attributes takes the general decoder (the fast one tracks the
// attributes given in a 64-bit mask): the same decisions and problems.
TEST(ManyAttributes, ObjectsOfMoreThan64Attributes) {
  Catalog c;
  auto& attrs = c.b.schema.principals[c.human].attrs;
  for (int i = 0; i < 70; ++i) attrs.push_back({c.b.intern("x" + std::to_string(i)), c.tBool, i % 2 == 0});
  c.rule("acme.dev", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  auto lb = c.load();
  auto input = [](int from, int to, const std::string& extra) {
    std::string principal = R"({"type": "Human", "email": "dev@acme.io", "groups": ["dev"], "on_call": false)";
    for (int i = from; i < to; ++i) principal += ", \"x" + std::to_string(i) + "\": true";
    return R"({"type": "CloudRole", "principal": )" + principal + extra + R"(}, "request": )" + cloudRequest() +
           R"(, "context": {"time": "2026-11-27T10:00:00Z", "break_glass": false}})";
  };
  EXPECT_EQ(decide(lb, input(0, 70, ""))["decision"], "allow");
  json dup = decide(lb, input(0, 70, R"(, "x69": false)"));
  ASSERT_EQ(dup["errors"].size(), 1u) << dup;
  EXPECT_EQ(dup["errors"][0]["code"], "invalid-value");
  EXPECT_EQ(dup["errors"][0]["path"], "$.principal.x69");
  json missing = decide(lb, input(2, 70, ""));  // x0 optional, x1 required
  ASSERT_EQ(missing["errors"].size(), 1u) << missing;
  EXPECT_EQ(missing["errors"][0]["code"], "missing-attribute");
  EXPECT_EQ(missing["errors"][0]["path"], "$.principal.x1");
}

// sortUnique (sets from JSON and from InputBuilder::makeSet) against sort-then-unique, for
// the small sets sorted in place and the larger ones.
TEST(SortUnique, MatchesSortThenUnique) {
  const std::string_view pool[] = {"", "a", "ab", "b", "ba", "c"};
  uint64_t seed = 12345;
  auto next = [&seed] { return (seed = seed * 6364136223846793005u + 1442695040888963407u) >> 33; };
  for (int round = 0; round < 2000; ++round) {
    const uint32_t n = uint32_t(next() % 14);
    const bool strings = round % 2 == 0;
    std::vector<Value> v;
    for (uint32_t i = 0; i < n; ++i)
      v.push_back(strings ? Value::string(pool[next() % 6]) : Value::integer(int64_t(next() % 7) - 3));
    std::vector<Value> want = v;
    std::sort(want.begin(), want.end(), [](const Value& x, const Value& y) { return compareValues(x, y) < 0; });
    want.erase(std::unique(want.begin(), want.end(),
                           [](const Value& x, const Value& y) { return compareValues(x, y) == 0; }),
               want.end());
    const uint32_t kept = sortUnique(v.data(), n);
    ASSERT_EQ(kept, want.size()) << "round " << round;
    for (uint32_t i = 0; i < kept; ++i) EXPECT_EQ(compareValues(v[i], want[i]), 0) << "round " << round << " at " << i;
  }
}

// IPv4 text is parsed by hand: the same acceptance and bytes as inet_pton, on fixed cases
// and random strings over digits and dots; a NUL inside the text is never accepted.
TEST(IpText, Ipv4AsInetPton) {
  auto same = [](const std::string& text) {
    IpAddr got;
    uint8_t want[4] = {};
    const bool ok = parseIp(text, got);
    const bool want_ok = inet_pton(AF_INET, text.c_str(), want) == 1;
    EXPECT_EQ(ok, want_ok) << "'" << text << "'";
    if (ok && want_ok) {
      EXPECT_EQ(got.family, 4);
      EXPECT_EQ(std::memcmp(got.bytes.data(), want, 4), 0) << text;
    }
  };
  for (const char* text : {"10.3.1.2", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4",
                           "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "", "1.2.3.004", "100.200.10.0", "1.2.3.a"})
    same(text);
  uint64_t seed = 7;
  auto next = [&seed] { return (seed = seed * 6364136223846793005u + 1442695040888963407u) >> 33; };
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t n = next() % 16;
    for (size_t i = 0; i < n; ++i) text += "0123456789...25"[next() % 15];
    same(text);
  }
  IpAddr ip;
  EXPECT_FALSE(parseIp(std::string_view("1.2.3.4\0", 8), ip));
  EXPECT_FALSE(parseIp(std::string_view("::1\0zz", 6), ip));
  EXPECT_TRUE(parseIp("::1", ip));
  EXPECT_EQ(ip.family, 6);
}

TEST(ShortNames, AmbiguousShortNameNeedsQualification) {
  Catalog c;
  c.b.schema.requests.push_back(c.b.schema.requests[c.cloudRole]);
  c.b.schema.requests.back().name = c.b.intern("other.CloudRole");
  c.rule("acme.all", Effect::Allow, {c.cloudRole}, {constBool(true)});
  auto lb = c.load();
  EXPECT_EQ(decide(lb, humanInput(cloudRequest()))["errors"][0]["code"], "unknown-request-type");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest(), "", "acme.CloudRole"))["decision"], "allow");
  EXPECT_EQ(decide(lb, humanInput(cloudRequest(), "", "other.CloudRole"))["decision"], "deny");
}

}  // namespace
}  // namespace pave::rt::test
