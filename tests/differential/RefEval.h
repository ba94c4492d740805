// A reference evaluator over the checked program, used only in tests: it implements the
// expression semantics of SPEC §4 and the decision procedure of §5 directly on checked
// expressions, independently of the code generator and the VM, so the two can be
// compared on many inputs.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "sema/Program.h"

namespace pave::reference {

/// One schema-valid decision input. Absent optional attributes are simply not in the maps.
struct Input {
  sema::RequestId request;
  sema::PrincipalId principal;
  std::map<std::string, sema::ConstValue> principalAttrs;
  std::map<std::string, sema::ConstValue> requestAttrs;
  std::map<std::string, sema::ConstValue> contextAttrs;
};

/// The input JSON of SPEC §7.2.
nlohmann::json inputJson(const sema::CheckedProgram& p, const Input& in);

/// The decision as SPEC §7.4 describes it (the fields a reference can know: decision,
/// requestType, rules, denyRules, exceptions, approvals, grants, reasons, errors with
/// code and rule).
nlohmann::json decide(const sema::CheckedProgram& p, const Input& in);

}  // namespace pave::reference
