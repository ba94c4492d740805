// Test helpers: the CloudRole catalog of the conformance cases, built by hand with the
// builder API, plus small helpers to add rules and run decisions.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pave/builder.h"
#include "pave/bundle.h"
#include "pave/runtime.h"

namespace pave::rt::test {

using Body = std::function<Reg(FunctionBuilder&)>;

struct Catalog {
  Bundle b;
  // Types.
  TypeId tBool, tInt, tString, tDuration, tTimestamp, tIp, tCidr, tEnv, tMode, tSetString, tMapString, tSetInt;
  uint32_t envEnum = 0, modeEnum = 1;
  // Principal types and their slots.
  uint32_t human = 0, workload = 1, agent = 2;
  uint32_t hEmail = 0, hGroups = 1, hOnCall = 2;
  uint32_t wSpiffe = 0, wOwner = 1, wEnv = 2, wAttested = 3;
  uint32_t aModel = 0, aOperator = 1, aDelegatedBy = 2;
  // Request types and request slots.
  uint32_t cloudRole = 0, secretAccess = 1;
  uint32_t sAccount, sRole, sEnv, sDuration, sJustification, sTags, sPath, sMode, sPersistent, sTtl, sScopes,
      sCount;
  // Context slots.
  uint32_t cTime = 0, cSourceIp = 1, cBreakGlass = 2;

  Catalog();

  // Adds a function built by `body` (which returns the register to return).
  uint32_t fn(const Body& body);
  // Adds a rule; returns its index.
  uint32_t rule(const std::string& name, Effect effect, std::vector<uint32_t> targets, std::vector<Body> conjuncts);
  uint32_t exception(const std::string& name, uint32_t lifts, int64_t until, std::vector<Body> conjuncts,
                     const std::string& owner = "team", const std::string& ticket = "");
  void grant(uint32_t rule, const std::string& grant, const Body& value);

  std::vector<uint8_t> bytes(const WriteOptions& opts = {}) const;
  std::shared_ptr<const LoadedBundle> load() const;
};

// Common condition pieces (each returns a Bool register).
Body requestEnvIs(Catalog& c, uint32_t member);
Body requestRoleIs(Catalog& c, const std::string& role);
Body principalIs(Catalog& c, uint32_t ptype);
Body durationAtMost(Catalog& c, int64_t seconds);
Body constBool(bool v);
Body constString(const std::string& s);
Body loadRequest(Catalog& c, uint32_t slot);
Body overflowingBool();  // a Bool condition that is an error value (INT64_MAX + INT64_MAX)

// Standard inputs.
std::string humanInput(const std::string& request_json, const std::string& context_json = "",
                       const std::string& type = "CloudRole");
std::string cloudRequest(const std::string& env = "dev", const std::string& role = "viewer",
                         const std::string& duration = "\"1h\"");
nlohmann::json decide(const std::shared_ptr<const LoadedBundle>& b, const std::string& input, bool explain = false);

std::array<uint8_t, 32> sha256Of(const std::vector<uint8_t>& bytes);
// A fresh Ed25519 key pair in PEM form.
void makeKeyPair(std::string& privatePem, std::string& publicPem);

}  // namespace pave::rt::test
