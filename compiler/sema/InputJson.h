// Compile-time values in the input JSON form of SPEC §7.2 (used by `pave test`, the
// analyzer's witnesses and the differential tests).
#pragma once

#include <nlohmann/json.hpp>

#include "sema/Program.h"

namespace pave::sema {

/// `true`, `42`, `"x"`, `"1h30m"`, `"2026-11-27T10:00:00Z"`, `"10.0.0.1"`, `"prod"`, arrays
/// for sets and objects for maps.
nlohmann::json valueToJson(const CheckedProgram& p, const ConstValue& v);

/// An object of attribute values.
nlohmann::json fieldsToJson(const CheckedProgram& p, const std::vector<TestFieldValue>& fields);

}  // namespace pave::sema
