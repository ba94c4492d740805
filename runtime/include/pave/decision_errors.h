// Decision error codes (SPEC §7.4 `errors`). The list lives in decision_errors.def; this
// header turns it into an enum and a table shared by the runtime, the decision service,
// the compiler's test checker and the analyzer.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

namespace pave::rt {

enum class DecisionErrorCode : uint8_t {
#define PAVE_DECISION_ERROR(name, code, origin, meaning, spec) name,
#include "pave/decision_errors.def"
#undef PAVE_DECISION_ERROR
};

// Where a decision error comes from (see decision_errors.def).
enum class DecisionErrorOrigin : uint8_t { Input, Evaluation, Service };

struct DecisionErrorInfo {
  std::string_view code;
  DecisionErrorOrigin origin;
  std::string_view meaning;
  std::string_view spec;  // the SPEC section, e.g. "7.2"
};

inline constexpr DecisionErrorInfo kDecisionErrors[] = {
#define PAVE_DECISION_ERROR(name, code, origin, meaning, spec) {code, DecisionErrorOrigin::origin, meaning, spec},
#include "pave/decision_errors.def"
#undef PAVE_DECISION_ERROR
};

inline constexpr const DecisionErrorInfo& decisionErrorInfo(DecisionErrorCode c) {
  return kDecisionErrors[static_cast<uint8_t>(c)];
}
// The code as written in a decision, e.g. "missing-attribute".
inline constexpr std::string_view errorCode(DecisionErrorCode c) { return decisionErrorInfo(c).code; }

// The code named by `text`, if it is one.
inline constexpr std::optional<DecisionErrorCode> findDecisionError(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kDecisionErrors); ++i)
    if (kDecisionErrors[i].code == text) return static_cast<DecisionErrorCode>(i);
  return std::nullopt;
}

}  // namespace pave::rt
