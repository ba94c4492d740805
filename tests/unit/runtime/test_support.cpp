#include "test_support.h"

#include <limits>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace pave::rt::test {

Catalog::Catalog() {
  tBool = b.typeId(TypeKind::Bool);
  tInt = b.typeId(TypeKind::Int);
  tString = b.typeId(TypeKind::String);
  tDuration = b.typeId(TypeKind::Duration);
  tTimestamp = b.typeId(TypeKind::Timestamp);
  tIp = b.typeId(TypeKind::Ip);
  tCidr = b.typeId(TypeKind::Cidr);
  b.schema.enums.push_back({b.intern("acme.Env"), {b.intern("dev"), b.intern("staging"), b.intern("prod")}});
  b.schema.enums.push_back({b.intern("acme.Mode"), {b.intern("read"), b.intern("write")}});
  tEnv = b.typeId(TypeDesc{TypeKind::Enum, envEnum, kNone});
  tMode = b.typeId(TypeDesc{TypeKind::Enum, modeEnum, kNone});
  tSetString = b.typeId(TypeDesc{TypeKind::Set, kNone, tString});
  tMapString = b.typeId(TypeDesc{TypeKind::Map, kNone, tString});
  tSetInt = b.typeId(TypeDesc{TypeKind::Set, kNone, tInt});

  auto attr = [&](const char* n, TypeId t, bool opt = false) { return Attribute{b.intern(n), t, opt}; };
  b.schema.principals.push_back(
      {b.intern("acme.Human"), {attr("email", tString), attr("groups", tSetString), attr("on_call", tBool)}});
  b.schema.principals.push_back({b.intern("acme.Workload"),
                                 {attr("spiffe_id", tString), attr("owner", tString), attr("env", tEnv),
                                  attr("attested", tBool)}});
  b.schema.principals.push_back({b.intern("acme.Agent"),
                                 {attr("model", tString), attr("operator", tString), attr("delegated_by", tString, true)}});

  auto slot = [&](const char* n, TypeId t) {
    b.schema.requestSlots.push_back({b.intern(n), t});
    return uint32_t(b.schema.requestSlots.size() - 1);
  };
  sAccount = slot("account", tString);
  sRole = slot("role", tString);
  sEnv = slot("env", tEnv);
  sDuration = slot("duration", tDuration);
  sJustification = slot("justification", tString);
  sTags = slot("tags", tMapString);
  sPath = slot("path", tString);
  sMode = slot("mode", tMode);
  sPersistent = slot("persistent", tBool);
  sTtl = slot("ttl", tDuration);
  sScopes = slot("scopes", tSetString);
  sCount = slot("count", tInt);

  auto grant = [&](const char* n, TypeId t, Const def, MergeOp m) {
    def.type = t;
    return GrantDecl{b.intern(n), t, def, m};
  };
  Const hour;
  hour.i = 3600;
  Const quarter;
  quarter.i = 900;
  Const empty;
  Const falseConst;
  RequestType cr{b.intern("acme.CloudRole"),
                 {human, workload},
                 {{sAccount}, {sRole}, {sEnv}, {sDuration}, {sJustification, true}, {sTags, true}, {sScopes, true},
                  {sCount, true}},
                 {grant("max_ttl", tDuration, hour, MergeOp::Min), grant("scopes", tSetString, empty, MergeOp::Union),
                  grant("ticket_queue", tString, [&] { Const s; s.str = b.intern("default"); return s; }(),
                        MergeOp::Unique),
                  grant("audited", tBool, falseConst, MergeOp::Or),
                  grant("common", tSetString, empty, MergeOp::Intersect)}};
  b.schema.requests.push_back(cr);
  RequestType sa{b.intern("acme.SecretAccess"),
                 {workload, agent},
                 {{sPath}, {sMode}, {sPersistent}, {sTtl}},
                 {grant("token_ttl", tDuration, quarter, MergeOp::Min)}};
  b.schema.requests.push_back(sa);
  b.schema.context = {attr("time", tTimestamp), attr("source_ip", tIp, true), attr("break_glass", tBool)};
  b.meta.name = b.intern("acme");
  b.meta.revision = b.intern("r1");
  b.meta.compilerVersion = b.intern("pave test");
}

uint32_t Catalog::fn(const Body& body) {
  FunctionBuilder fb(b);
  Reg r = body(fb);
  fb.ret(r);
  return fb.finish();
}

uint32_t Catalog::rule(const std::string& name, Effect effect, std::vector<uint32_t> targets,
                       std::vector<Body> conjuncts) {
  Rule r;
  r.name = b.intern(name);
  r.effect = effect;
  r.targets = std::move(targets);
  r.allTargets = r.targets.empty();
  for (const Body& c : conjuncts) r.conjuncts.push_back(fn(c));
  b.rules.push_back(r);
  return uint32_t(b.rules.size() - 1);
}

uint32_t Catalog::exception(const std::string& name, uint32_t lifts, int64_t until, std::vector<Body> conjuncts,
                            const std::string& owner, const std::string& ticket) {
  uint32_t r = rule(name, Effect::Exception, {}, std::move(conjuncts));
  Rule& x = b.rules[r];
  x.allTargets = false;
  x.lifts = lifts;
  x.until = until;
  x.owner = b.intern(owner);
  if (!ticket.empty()) x.ticket = b.intern(ticket);
  return r;
}

void Catalog::grant(uint32_t rule, const std::string& grant, const Body& value) {
  uint32_t f = fn(value);
  b.rules[rule].grants.push_back({b.intern(grant), f});
}

std::vector<uint8_t> Catalog::bytes(const WriteOptions& opts) const {
  std::vector<uint8_t> out;
  std::string error;
  EXPECT_TRUE(writeBundle(b, opts, out, &error)) << error;
  return out;
}

std::shared_ptr<const LoadedBundle> Catalog::load() const {
  std::string error;
  auto lb = LoadedBundle::load(bytes(), {}, &error);
  EXPECT_TRUE(lb) << error;
  return lb;
}

Body requestEnvIs(Catalog& c, uint32_t member) {
  return [&c, member](FunctionBuilder& fb) {
    Reg env = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, env, c.sEnv);
    Reg k = fb.load(fb.enumConst(c.envEnum, member));
    fb.emit(Op::EQ, out, env, k);
    return out;
  };
}

Body requestRoleIs(Catalog& c, const std::string& role) {
  return [&c, role](FunctionBuilder& fb) {
    Reg r = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, r, c.sRole);
    fb.emit(Op::EQ, out, r, fb.load(fb.stringConst(role)));
    return out;
  };
}

Body principalIs(Catalog&, uint32_t ptype) {
  return [ptype](FunctionBuilder& fb) {
    Reg out = fb.reg();
    fb.emit(Op::IS_PRIN, out, ptype);
    return out;
  };
}

Body durationAtMost(Catalog& c, int64_t seconds) {
  return [&c, seconds](FunctionBuilder& fb) {
    Reg d = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_REQ, d, c.sDuration);
    fb.emit(Op::LE, out, d, fb.load(fb.durationConst(seconds)));
    return out;
  };
}

Body constBool(bool v) {
  return [v](FunctionBuilder& fb) {
    Reg r = fb.reg();
    fb.emit(Op::LOADB, r, v ? 1 : 0);
    return r;
  };
}

Body constString(const std::string& s) {
  return [s](FunctionBuilder& fb) { return fb.load(fb.stringConst(s)); };
}

Body loadRequest(Catalog& c, uint32_t slot) {
  return [slot](FunctionBuilder& fb) {
    Reg r = fb.reg();
    fb.emit(Op::LOAD_REQ, r, slot);
    return r;
  };
}

std::string humanInput(const std::string& request_json, const std::string& context_json, const std::string& type) {
  std::string ctx = context_json.empty() ? R"({"time": "2026-11-27T10:00:00Z", "break_glass": false})" : context_json;
  return R"({"type": ")" + type +
         R"(", "principal": {"type": "Human", "email": "dev@acme.io", "groups": ["dev"], "on_call": false},
            "request": )" + request_json + R"(, "context": )" + ctx + "}";
}

std::string cloudRequest(const std::string& env, const std::string& role, const std::string& duration) {
  return R"({"account": "123456789012", "role": ")" + role + R"(", "env": ")" + env + R"(", "duration": )" +
         duration + "}";
}

nlohmann::json decide(const std::shared_ptr<const LoadedBundle>& b, const std::string& input, bool explain) {
  Decider d(b);
  std::string out = d.decideJson(input, explain);
  return nlohmann::json::parse(out);
}

std::array<uint8_t, 32> sha256Of(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> md{};
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr);
  return md;
}

void makeKeyPair(std::string& privatePem, std::string& publicPem) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  privatePem.assign(data, size_t(n));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  n = BIO_get_mem_data(bio, &data);
  publicPem.assign(data, size_t(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
}

Body overflowingBool() {
  return [](FunctionBuilder& fb) {
    Reg a = fb.load(fb.intConst(std::numeric_limits<int64_t>::max())), s = fb.reg(), out = fb.reg();
    fb.emit(Op::ADD, s, a, a);
    fb.emit(Op::EQ, out, s, a);
    return out;
  };
}

}  // namespace pave::rt::test
