// One solver query: encode, solve within the budget, decode and confirm the witness
// through the VM, with results cached by content hash. A Worker owns one Z3 context and
// one VM decider and runs on one thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/Cache.h"
#include "analysis/Decision.h"
#include "analysis/Witness.h"

namespace pave::analysis {

struct QuerySpec {
  std::string kind;  // what is asked (part of the cache key)
  sema::RequestId type;
  std::vector<sema::RuleId> rules;  // every rule the formula mentions, in a fixed order
  std::function<z3::expr(DecisionEncoder&)> formula;
  /// The claim a model must show when run through the VM (decision JSON with trace).
  std::function<bool(const nlohmann::json&)> confirm;
};

struct QueryResult {
  Answer answer = Answer::Unknown;
  std::optional<nlohmann::json> witness;  // Sat: a confirmed input
};

/// Content fingerprints shared by all workers.
struct Fingerprints {
  std::vector<std::string> rules;  // per rule: effect, name, checked expressions
  std::vector<std::string> types;  // per request type: the schema an input of it sees
  std::string options;             // solver budget and encoding version
};
Fingerprints fingerprint(const sema::CheckedProgram& p, unsigned timeoutMs);

struct WorkerStats {
  size_t queries = 0, cached = 0, unconfirmed = 0, timeouts = 0;
  std::vector<double> millis;  // per solved query
};

class Worker {
 public:
  Worker(const sema::CheckedProgram& p, const Fingerprints& fp, std::shared_ptr<const Bundle> bundle,
         QueryCache* cache, unsigned timeoutMs);
  QueryResult run(const QuerySpec& q);
  /// The VM's decision (with trace) on an input.
  nlohmann::json decide(const nlohmann::json& input) { return confirmer_.decide(input); }
  WorkerStats stats;
  /// When set, the cache key of every query run is appended (see the job cache in Analyzer.cpp).
  std::vector<std::string>* keyLog = nullptr;

 private:
  QueryResult solve(const QuerySpec& q);
  /// A solver over `f` and the encoder's domain constraints.
  z3::solver newSolver(const z3::expr& f, const Encoder& enc, unsigned timeoutMs, bool z3str3);
  const sema::CheckedProgram& p_;
  const Fingerprints& fp_;
  QueryCache* cache_;
  unsigned timeoutMs_;
  bool fastStrings_ = true;  // try z3str3 first for `sat` (PAVE_ANALYSIS_STRINGS=seq: off)
  // Diagnostics for developers, read once: PAVE_ANALYSIS_DEBUG, _TRACE and _DUMP.
  bool debug_ = false, trace_ = false;
  std::string dump_;
  z3::context ctx_;
  Confirmer confirmer_;
};

/// Z3 settings that must precede every context (strings are byte sequences).
void initSolver();

}  // namespace pave::analysis
