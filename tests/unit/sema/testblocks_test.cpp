// Test blocks (SPEC §9.1).
#include <gtest/gtest.h>

#include "SemaTestUtil.h"

namespace pave::testing {
namespace {

constexpr const char* kRules = R"(
allow nonprod on CloudRole when request.env != Env.prod;
approve prod on CloudRole by "sre" when request.env == Env.prod grant max_ttl = 30m;
deny no_admin on CloudRole when request.role == "admin";
exception ex lifts no_admin until 2027-01-01 owner "t";
)";

std::unique_ptr<Checked> withTest(std::string_view test) { return checkBody(std::string(kRules) + std::string(test)); }

TEST(TestBlocks, InputsAndExpectations) {
  auto c = withTest(R"(
test prod_needs_approval {
  request CloudRole { account: "1", role: "viewer", env: Env.prod, duration: 1h, tags: {"b": "2", "a": "1"} }
  principal Workload { spiffe_id: "spiffe://x", owner: "t", env: Env.prod, attested: true }
  context { time: 2026-11-27T10:00:00Z, break_glass: false, source_ip: ip("10.0.0.1") }
  expect approval by prod;
  expect grant max_ttl == 30m;
  expect grant scopes == [];
  expect exception ex;
  expect error "missing-attribute";
}
)");
  ASSERT_TRUE(c->ok()) << c->text();
  ASSERT_EQ(c->program->tests.size(), 1u);
  const sema::TestInfo& t = c->program->tests[0];
  EXPECT_EQ(t.name, "acme.prod_needs_approval");
  EXPECT_EQ(c->program->requests[t.request.value].name, "acme.CloudRole");
  EXPECT_EQ(c->program->principals[t.principal.value].name, "acme.Workload");
  ASSERT_EQ(t.requestFields.size(), 5u);
  EXPECT_EQ(c->program->formatValue(t.requestFields[4].value), "{\"a\": \"1\", \"b\": \"2\"}");
  EXPECT_EQ(c->program->formatValue(t.contextFields[2].value), "ip(\"10.0.0.1\")");
  ASSERT_EQ(t.expects.size(), 5u);
  EXPECT_EQ(t.expects[0].decision, sema::Outcome::Approval);
  EXPECT_EQ(c->program->rule(t.expects[0].rules.at(0)).name, "acme.prod");
  EXPECT_EQ(c->program->formatValue(*t.expects[1].value), "30m");
  EXPECT_EQ(c->program->typeName(t.expects[2].value->type), "Set<String>");
  EXPECT_EQ(t.expects[4].errorCode, "missing-attribute");
}

TEST(TestBlocks, MissingRequiredAttributesAreErrors) {
  // Test inputs are type-checked like any input (SPEC §9.1): the test would otherwise
  // fail at run time with `expected allow, got deny`.
  auto c = withTest("test t {\n  request CloudRole { role: \"x\" }\n  principal Human { }\n  expect deny;\n}\n");
  EXPECT_FALSE(c->ok());
  std::string text = c->text();
  EXPECT_NE(text.find("request type `acme.CloudRole` lacks the required attributes `account`, `env`, `duration` and "
                      "`tags`"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("principal type `acme.Human` lacks the required attributes `email`, `groups` and `on_call`"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("`context` lacks the required attributes `time` and `break_glass`"), std::string::npos) << text;
  EXPECT_EQ(text.find("justification"), std::string::npos) << "optional attributes may be left out: " << text;
}

TEST(TestBlocks, MissingAttributesInATestOfAnInvalidInput) {
  auto c = withTest("test t {\n  request CloudRole { role: \"x\" }\n  principal Human { }\n"
                    "  expect error \"missing-attribute\";\n}\n");
  EXPECT_TRUE(c->ok()) << c->text();
}

TEST(TestBlocks, UnknownFieldsAndWrongTypes) {
  auto c = withTest(R"(test t {
  request CloudRole { colour: "red", duration: 5, env: Mode.read }
  principal Human { email: principal.email }
  context { time: "now" }
  expect allow by nope;
  expect grant max_ttl == "1h";
  expect grant nope == 1;
  expect maybe;
  expect error "bogus";
}
)");
  EXPECT_EQ(c->count("unknown-attribute"), 2u) << c->text();  // colour, grant nope
  EXPECT_EQ(c->count("type-mismatch"), 4u) << c->text();      // duration, env, time, grant value
  EXPECT_EQ(c->count("unknown-name"), 4u) << c->text();       // principal in a test, nope, maybe, bogus
}

TEST(TestBlocks, TypesOfInputs) {
  auto c = withTest("test t {\n  request SecretAccess { path: \"p\" }\n  principal Nope { }\n}\n"
                    "test t2 {\n  request Human { }\n}\n");
  EXPECT_EQ(c->count("unknown-name"), 2u) << c->text();
}

}  // namespace
}  // namespace pave::testing
