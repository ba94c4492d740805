// The findings of SPEC §6.2, one job per rule, exception or request type; jobs are
// independent so that the scheduler can run them on any thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "analysis/Prefilter.h"
#include "analysis/Query.h"
#include "diag/Diagnostic.h"
#include "diag/Messages.h"

namespace pave::analysis {

/// A finding: its kind and message (`msg::X(args…)`, diag/messages.def), then where.
struct Finding : msg::Rendered {
  std::optional<sema::RuleId> rule;       // the rule it is about
  std::optional<sema::RequestId> type;    // findings about a request type
  std::vector<sema::RuleId> related;
  std::vector<std::string> notes;
  std::optional<nlohmann::json> witness;
};

/// Everything the jobs share, computed once before they run.
struct Plan {
  const sema::CheckedProgram& p;
  int64_t now = 0;
  int64_t expiringWindow = 14 * 86400;  // `expiring-exception`
  std::vector<std::vector<sema::RuleId>> rulesOf;  // per request type, in source order
  std::vector<std::vector<sema::RequestId>> targets;  // per rule (exceptions: those of their deny)
  std::vector<std::vector<sema::RuleId>> exceptionsOf;  // per deny
  std::map<std::pair<uint32_t, uint32_t>, Facts> factsTrue, factsMatch;  // (rule, type)
  std::vector<std::string> shapes;  // per rule: its grants and approvers (`redundant-rule` needs equal ones)
  /// Per request type and fact kind (truth, match): the rules that pin an attribute to one
  /// value, by attribute and value, and those that do not pin it (see `candidates`).
  struct PinIndex {
    std::map<std::string, std::map<std::string, std::vector<sema::RuleId>>> pinned;
    std::map<std::string, std::vector<sema::RuleId>> unpinned;
  };
  std::vector<PinIndex> pinsTrue, pinsMatch;
  /// Per request type: some witness was allowed or approved (set by rule jobs, read by type jobs).
  std::unique_ptr<std::atomic<bool>[]> granted;

  explicit Plan(const sema::CheckedProgram& program, int64_t now);
  const Facts& truthFacts(sema::RuleId r, sema::RequestId t) const { return factsTrue.at({r.value, t.value}); }
  /// How the decision sees the rule match: for denies also on an error.
  const Facts& matchFacts(sema::RuleId r, sema::RequestId t) const { return factsMatch.at({r.value, t.value}); }
  const std::vector<sema::RequestId>& typesOf(sema::RuleId r) const { return targets[r.value]; }
  /// The rules of type `t`, in source order, whose facts (match facts with `match`, else
  /// truth facts) may overlap `region`: a superset of those `disjoint` does not rule out,
  /// found without looking at every rule when the region pins an attribute to one value.
  /// Rules on distinct constants (`request.x == 1`, `request.x == 2`) never meet here, so
  /// that checking a repository of such rules grows linearly with its size.
  std::vector<sema::RuleId> candidates(sema::RequestId t, const Facts& region, bool match) const;
  /// Pairs of rules looked at by the prefilter (`candidates` and their callers), for tests.
  mutable std::atomic<size_t> pairsExamined{0};
};

std::vector<Finding> analyzeRule(Worker& w, const Plan& plan, sema::RuleId rule);
/// The solver's findings about an exception (without `long-exception` and `expiring-exception`, see exceptionAge).
std::vector<Finding> analyzeException(Worker& w, const Plan& plan, sema::RuleId exception);
/// `long-exception` and `expiring-exception`: depend on the check time only, so they are never cached.
std::vector<Finding> exceptionAge(const Plan& plan, sema::RuleId exception);
std::vector<Finding> analyzeRequestType(Worker& w, const Plan& plan, sema::RequestId type);

}  // namespace pave::analysis
