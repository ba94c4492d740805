// Cheap facts about rules, so that the solver only sees pairs of rules that can overlap:
// what each rule's top-level conjuncts force on the principal type, enum, string, number
// and Bool attributes. Facts are sound: every input a rule matches satisfies them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "sema/Program.h"

namespace pave::analysis {

struct Domain {
  std::optional<uint64_t> enumMask;            // enum members allowed (enums of up to 64 members)
  std::optional<std::set<std::string>> among;  // strings allowed
  std::set<std::string> excluded;              // strings excluded
  int64_t lo = INT64_MIN, hi = INT64_MAX;      // Int, Duration, Timestamp
  std::optional<bool> boolean;
};

struct Facts {
  uint64_t principals = ~uint64_t(0);  // bit per principal type index (only the first 64 are tracked)
  std::map<std::string, Domain> attrs;  // by variable base name (see Encoder.h)
  std::map<std::string, uint32_t> owner;  // principal attributes: their principal type
  bool empty = false;                   // the facts alone already contradict each other
};

/// Facts of a rule for one target. With `errorsMatch` (how denies match), only atoms that
/// cannot fail are used, since a failing conjunct still lets a deny match.
Facts factsOf(const sema::CheckedProgram& p, const sema::RuleInfo& rule, sema::RequestId target, bool errorsMatch);

/// Both sets of facts at once.
Facts intersect(const Facts& a, const Facts& b);

/// True when no input can satisfy both.
bool disjoint(const Facts& a, const Facts& b);

}  // namespace pave::analysis
