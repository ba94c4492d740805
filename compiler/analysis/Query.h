// One solver query: encode, solve within the budget, decode and confirm the witness
// through the VM, with results cached by content hash. A Worker owns one Z3 context and
// one VM decider and runs on one thread.
#pragma once

#include <atomic>
#include <chrono>
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

/// Past these sizes a query is not given to the solver but answered `Unknown` (it becomes
/// `analysis-inconclusive`): Z3's string theory takes super-linear time in a constant's
/// length (about 0.15 s at 4 KB, 1.6 s at 20 KB) partly in steps that ignore its time
/// limit, and recurses deeply enough on a 30 KB constant to overflow a thread's stack.
constexpr size_t kMaxStringConstant = 2048;     // bytes of one literal, pattern piece or key
constexpr size_t kMaxStringConstants = 64 * 1024;  // bytes of all of them in one query

struct WorkerStats {
  size_t queries = 0, cached = 0, unconfirmed = 0, timeouts = 0;
  size_t oversized = 0;  // given up before solving: string constants over the limits above
  std::vector<double> millis;  // per solved query
};

class Worker {
 public:
  Worker(const sema::CheckedProgram& p, const Fingerprints& fp, std::shared_ptr<const Bundle> bundle,
         QueryCache* cache, unsigned timeoutMs, const std::atomic<bool>* cancel = nullptr);
  QueryResult run(const QuerySpec& q);
  /// The VM's decision (with trace) on an input (the last one is remembered: a witness is
  /// usually decided once to confirm it and once more by the finding that asked for it).
  nlohmann::json decide(const nlohmann::json& input);
  /// The worker's solver context, for `z3::context::interrupt` from another thread.
  z3::context& context() { return ctx_; }
  /// True once the analysis was cancelled: every further query answers `Unknown` at once.
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
  WorkerStats stats;
  /// When set, the cache key of every query run is appended (see the job cache in Analyzer.cpp).
  std::vector<std::string>* keyLog = nullptr;

 private:
  QueryResult solve(const QuerySpec& q);
  /// One attempt with the tables encoded as `tables`; `unconfirmedAbstract` is set when
  /// the answer is unknown because a witness found with an abstract table was not confirmed.
  QueryResult solveWith(const QuerySpec& q, const TableModels& tables, std::chrono::steady_clock::time_point deadline,
                        bool* unconfirmedAbstract);
  /// Milliseconds left until `deadline` (0: none).
  static unsigned left(std::chrono::steady_clock::time_point deadline);
  /// A solver over `f` and the encoder's domain constraints.
  z3::solver newSolver(const z3::expr& f, const Encoder& enc, unsigned timeoutMs, bool z3str3);
  const sema::CheckedProgram& p_;
  const Fingerprints& fp_;
  QueryCache* cache_;
  unsigned timeoutMs_;
  const std::atomic<bool>* cancel_;
  TableModels tables_;                   // exact or abstract (defaultTableModels)
  std::optional<TableModels> samples_;   // made on first need (sampleTableModels)
  bool hasSamples_ = false;
  std::string lastInput_;
  nlohmann::json lastDecision_;
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
