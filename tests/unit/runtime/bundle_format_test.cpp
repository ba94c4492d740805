// The bundle file (SPEC §7.1): round trip, determinism, digest, signature, distrust.
#include <gtest/gtest.h>

#include <random>

#include "test_support.h"

namespace pave::rt::test {
namespace {

Catalog sample() {
  Catalog c;
  uint32_t r = c.rule("acme.nonprod", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0), durationAtMost(c, 4 * 3600)});
  c.grant(r, "max_ttl", loadRequest(c, c.sDuration));
  uint32_t d = c.rule("acme.no_admin", Effect::Deny, {c.cloudRole}, {requestRoleIs(c, "admin")});
  c.b.rules[d].because = c.b.intern("admin roles are not self-service");
  c.b.rules[d].severity = Severity::High;
  c.b.rules[d].controls = {c.b.intern("std.controls.NistCsf.PR_AA_05")};
  c.b.rules[d].doc = c.b.intern("Admin roles are never self-service.");
  c.exception("acme.migrator", d, 1798761599, {principalIs(c, c.human)}, "team-data", "SEC-1234");
  uint32_t a = c.rule("acme.prod", Effect::Approve, {c.cloudRole}, {requestEnvIs(c, 2)});
  c.b.rules[a].approvers = {c.fn(constString("sre-leads"))};
  c.b.hasSourceMap = true;
  c.b.rules[r].source = {{3, c.b.intern("request.env == Env.dev")}, {4, c.b.intern("request.duration <= 4h")}};
  return c;
}

TEST(BundleFormat, RoundTripIsLossless) {
  Catalog c = sample();
  std::vector<uint8_t> bytes = c.bytes();
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "PAVB");
  std::string error;
  auto lb = LoadedBundle::load(bytes, {}, &error);
  ASSERT_TRUE(lb) << error;
  const Bundle& m = lb->model();
  EXPECT_EQ(m.strings, c.b.strings);
  EXPECT_EQ(m.functions, c.b.functions);
  EXPECT_EQ(m.schema.types, c.b.schema.types);
  ASSERT_EQ(m.rules.size(), c.b.rules.size());
  EXPECT_EQ(m.rules[1].severity, Severity::High);
  EXPECT_EQ(m.str(m.rules[1].doc), "Admin roles are never self-service.");
  EXPECT_EQ(m.rules[0].source.size(), 2u);
  EXPECT_EQ(m.rules[0].source[1].line, 4u);
  EXPECT_EQ(m.rules[2].until, 1798761599);
  EXPECT_EQ(m.str(m.meta.name), "acme");
  // Writing the loaded model gives the same bytes.
  std::vector<uint8_t> again;
  ASSERT_TRUE(writeBundle(m, {}, again, &error)) << error;
  EXPECT_EQ(again, bytes);
}

TEST(BundleFormat, DeterministicAndStrippable) {
  EXPECT_EQ(sample().bytes(), sample().bytes());
  Catalog c = sample();
  std::vector<uint8_t> stripped = c.bytes({.signKeyPem = "", .strip = true});
  EXPECT_LT(stripped.size(), c.bytes().size());
  std::string error;
  auto lb = LoadedBundle::load(stripped, {}, &error);
  ASSERT_TRUE(lb) << error;
  EXPECT_FALSE(lb->model().hasSourceMap);
  EXPECT_TRUE(lb->model().rules[0].source.empty());
}

TEST(BundleFormat, SignedBundleVerifies) {
  std::string priv, pub, priv2, pub2;
  makeKeyPair(priv, pub);
  makeKeyPair(priv2, pub2);
  Catalog c = sample();
  std::vector<uint8_t> signedBytes = c.bytes({.signKeyPem = priv, .strip = false});
  std::string error;
  auto lb = LoadedBundle::load(signedBytes, {.publicKeysPem = {pub}}, &error);
  ASSERT_TRUE(lb) << error;
  EXPECT_TRUE(lb->isSigned());
  EXPECT_FALSE(LoadedBundle::load(signedBytes, {.publicKeysPem = {pub2}}, &error));
  EXPECT_NE(error.find("signature"), std::string::npos) << error;
  // An unsigned bundle is refused when a key is configured, accepted otherwise.
  std::vector<uint8_t> unsigned_bytes = c.bytes();
  EXPECT_FALSE(LoadedBundle::load(unsigned_bytes, {.publicKeysPem = {pub}}, &error));
  EXPECT_TRUE(LoadedBundle::load(unsigned_bytes, {}, &error));
  // Signing with a non-key fails cleanly.
  std::vector<uint8_t> out;
  EXPECT_FALSE(writeBundle(c.b, {.signKeyPem = "not a key", .strip = false}, out, &error));
}

TEST(BundleFormat, EverySingleByteChangeOfASignedBundleIsRefused) {
  std::string priv, pub;
  makeKeyPair(priv, pub);
  std::vector<uint8_t> bytes = sample().bytes({.signKeyPem = priv, .strip = false});
  std::string error;
  ASSERT_TRUE(LoadedBundle::load(bytes, {.publicKeysPem = {pub}}, &error)) << error;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t delta : {uint8_t(1), uint8_t(0x80)}) {
      std::vector<uint8_t> copy = bytes;
      copy[i] ^= delta;
      EXPECT_FALSE(LoadedBundle::load(copy, {.publicKeysPem = {pub}}, &error)) << "byte " << i;
    }
  }
}

TEST(BundleFormat, TruncatedBundlesAreRefused) {
  std::vector<uint8_t> bytes = sample().bytes();
  std::string error;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    EXPECT_FALSE(LoadedBundle::load(prefix, {}, &error)) << n;
    EXPECT_FALSE(error.empty());
  }
  bytes.push_back(0);
  EXPECT_FALSE(LoadedBundle::load(bytes, {}, &error));
}

TEST(BundleFormat, RandomGarbageIsRefused) {
  std::mt19937 rng(42);
  std::string error;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> junk(rng() % 300);
    for (auto& b : junk) b = uint8_t(rng());
    if (i % 2 && junk.size() >= 8) {  // plausible header
      junk[0] = 'P', junk[1] = 'A', junk[2] = 'V', junk[3] = 'B', junk[4] = 1, junk[5] = 0, junk[6] = 0, junk[7] = 0;
    }
    EXPECT_FALSE(LoadedBundle::load(junk, {}, &error));
  }
}

// Flipping bytes inside sections and then fixing the digest must still never crash: the
// decoder and verifier see arbitrary section contents.
TEST(BundleFormat, CorruptSectionsWithValidDigestNeverCrash) {
  std::vector<uint8_t> bytes = sample().bytes();
  size_t content = bytes.size() - 32;
  std::mt19937 rng(7);
  std::string error;
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + long(content));
    size_t at = 16 + rng() % (content - 16);
    copy[at] = uint8_t(rng());
    std::vector<uint8_t> patched = copy;
    auto d = sha256Of(copy);
    patched.insert(patched.end(), d.begin(), d.end());
    if (LoadedBundle::load(patched, {}, &error)) ++accepted;
  }
  // Some flips are harmless (e.g. inside a string); most must be caught.
  EXPECT_LT(accepted, 3000);
}

TEST(BundleFormat, DisassemblerAndInspect) {
  Catalog c;
  c.rule("acme.short", Effect::Allow, {c.cloudRole}, {durationAtMost(c, 4 * 3600)});
  std::string text = disassemble(c.b);
  EXPECT_NE(text.find("  0000  LOAD_REQ     r0, s3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  0001  LOADK        r2, k0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  0002  LE           r1, r0, r2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  0003  RET          r1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("k0 = 4h"), std::string::npos) << text;
  auto lb = sample().load();
  std::string info = inspect(*lb);
  EXPECT_NE(info.find("format:    PAVB 1.1"), std::string::npos) << info;
  EXPECT_NE(info.find("deny acme.no_admin on acme.CloudRole"), std::string::npos) << info;
  EXPECT_NE(info.find("exception acme.migrator lifts acme.no_admin until 2026-12-31T23:59:59Z owner team-data"),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("source map:"), std::string::npos) << info;
}

}  // namespace
}  // namespace pave::rt::test

namespace pave::rt::test {
namespace {

// Format 1.1 added each rule's file to the source map; 1.0 bundles (minor 0) still load.
TEST(BundleFormat, Minor0BundlesStillLoad) {
  std::vector<uint8_t> bytes = sample().bytes({.signKeyPem = "", .strip = true});
  ASSERT_EQ(bytes[6] | bytes[7] << 8, 1);  // no tables: written as 1.1
  bytes[6] = 0;
  bytes[7] = 0;
  std::vector<uint8_t> content(bytes.begin(), bytes.end() - 32);
  std::array<uint8_t, 32> digest = sha256Of(content);
  std::copy(digest.begin(), digest.end(), bytes.end() - 32);
  std::string error;
  auto lb = LoadedBundle::load(bytes, {}, &error);
  ASSERT_TRUE(lb) << error;
  // A minor newer than the runtime's is refused.
  bytes[6] = uint8_t(kFormatMinor + 1);
  EXPECT_FALSE(LoadedBundle::load(bytes, {}, &error));
}

}  // namespace
}  // namespace pave::rt::test
