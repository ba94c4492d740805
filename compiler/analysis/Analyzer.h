// The policy analyzer (SPEC §6.2): proves facts about a checked program with an SMT
// solver and reports them as diagnostics. Findings that claim an input exists carry a
// witness that has been run through the VM.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "diag/Diagnostic.h"
#include "sema/Program.h"
#include "source/Source.h"

namespace pave::analysis {

class Session;

struct AnalysisOptions {
  int64_t now = 0;             // the check time (`long-exception`, `expiring-exception`)
  int64_t expiringWindow = 14 * 86400;  // `expiring-exception`: seconds before `until`
  unsigned threads = 0;        // 0: one per core
  unsigned timeoutMs = 2000;   // budget per query: encoding, solving and witness checks
  std::string cacheDirectory;  // empty: no cache
  std::string repository;      // names the cache file
  /// When set and turned true (by another thread), the analysis stops: no further query
  /// starts, running solver calls are interrupted, and `analyze` returns false.
  const std::atomic<bool>* cancel = nullptr;
  /// State kept from one analysis of the repository to the next (the language server).
  /// When set, `cacheDirectory` and `repository` are unused: the session's cache is read
  /// once and written by `Session::save`, not by `analyze`.
  Session* session = nullptr;
  /// Jobs of the rules for which `first` holds run before the others; once they are done
  /// (before the other jobs' findings are known), `firstDone` receives their findings.
  /// The language server publishes the edited file's findings so.
  std::function<bool(const sema::RuleInfo&)> first;
  std::function<void(std::vector<Diagnostic>)> firstDone;
};

struct AnalysisStats {
  size_t queries = 0;      // asked, including cache hits
  size_t cacheHits = 0;
  size_t cachedJobs = 0;   // rules, exceptions and request types whose findings came from the cache
  size_t jobs = 0;         // rules, exceptions and request types analysed (cached or run)
  /// The request types of the jobs that were run (not answered by the cache), by name: a
  /// rule job counts for each type it targets.
  std::vector<std::string> typesRun;
  size_t unconfirmed = 0;  // witnesses the VM did not confirm (dropped)
  size_t timeouts = 0;     // queries out of budget (including `oversized`)
  size_t oversized = 0;    // queries not solved: a string constant over the encodable size
  size_t inconclusive = 0;
  size_t pairsExamined = 0;  // rule pairs the prefilter looked at (see Plan::candidates)
  std::vector<double> queryMillis;  // per solved query
  double totalMillis = 0;
};

/// What one analysis leaves for the next one of the same repository (in the language
/// server): the query cache, read from disk once, and the findings of every job of the
/// last analysis by job key, so that after an edit only the jobs whose key changed (those
/// of the request types whose schema or rules changed) run, and the others cost a lookup.
class Session {
 public:
  Session(std::string cacheDirectory, std::string repository);
  ~Session();
  /// Writes the query cache when an analysis added to it (best effort; the language server
  /// calls it after publishing, so that writing never delays findings).
  void save();

  struct State;  // defined in Analyzer.cpp
  State& state() { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

/// Analyzes an error-free program and reports findings into `diags` (pave.toml severities
/// apply as they are reported; `@allow_lint` on the rule a finding is about suppresses it).
/// Returns false with `error` when the program cannot be compiled for witness checks, or
/// when `options.cancel` turned true (nothing is reported then).
bool analyze(const sema::CheckedProgram& program, const SourceManager& sources, DiagnosticEngine& diags,
             const AnalysisOptions& options, AnalysisStats* stats, std::string& error);

/// A summary line for `--verbose`: queries, cache hits, median and p99 query time, dropped witnesses.
std::string formatStats(const AnalysisStats& stats);

}  // namespace pave::analysis
