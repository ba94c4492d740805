// The decision procedure of SPEC §5 over symbolic inputs: rule matching, lifting by
// active exceptions, deny → approval → allow → default deny, approver and grant errors,
// `unique` grant conflicts and merged grant values.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "analysis/Encoder.h"

namespace pave::analysis {

/// Symbolic outcome over a set of rules of one request type.
struct SymOutcome {
  z3::expr deny, approval, allow;
};

class DecisionEncoder {
 public:
  explicit DecisionEncoder(Encoder& enc) : enc_(enc) {}

  /// The rule's condition is true without error (the VM's `matched: true`).
  z3::expr matchesTrue(sema::RuleId r);
  /// Matching as the decision uses it: denies also match on an error (SPEC §4.5).
  z3::expr matches(sema::RuleId r);
  /// An exception is active while `context.time < until`.
  z3::expr active(sema::RuleId exception);
  /// Some exception among `rules` that lifts `deny` matches and is active.
  z3::expr lifted(sema::RuleId deny, const std::vector<sema::RuleId>& rules);
  /// Some deny among `rules` matches and is not lifted.
  z3::expr denied(const std::vector<sema::RuleId>& rules);
  /// Some allow/approve rule among `rules` matches, of the given effect.
  z3::expr anyMatch(const std::vector<sema::RuleId>& rules, ast::Effect effect);
  /// The decision over exactly `rules` (every rule of the request type that can matter).
  SymOutcome outcome(const std::vector<sema::RuleId>& rules);

  /// A merged grant value on an allow/approval decision. Scalars give `value`; sets give
  /// `contains`, membership of a symbolic element.
  struct MergedGrant {
    std::optional<SymVal> value;
    std::function<z3::expr(const SymVal&)> contains;
  };
  MergedGrant mergedGrant(const std::vector<sema::RuleId>& rules, const sema::GrantInfo& grant);

  /// A grant's value as a rule assigns it.
  Sym grantValue(sema::RuleId r, const std::string& grant);

  Encoder& encoder() { return enc_; }

 private:
  z3::expr evaluationFailure(const std::vector<sema::RuleId>& rules, bool approval);
  z3::expr uniqueConflicts(const std::vector<sema::RuleId>& rules);

  Encoder& enc_;
  std::map<uint32_t, Sym> conditions_;
  std::map<std::pair<uint32_t, std::string>, Sym> grants_;
};

}  // namespace pave::analysis
