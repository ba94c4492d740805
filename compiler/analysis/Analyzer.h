// The policy analyzer (SPEC §6.2): proves facts about a checked program with an SMT
// solver and reports them as diagnostics. Findings that claim an input exists carry a
// witness that has been run through the VM.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "diag/Diagnostic.h"
#include "sema/Program.h"
#include "source/Source.h"

namespace pave::analysis {

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
};

struct AnalysisStats {
  size_t queries = 0;      // asked, including cache hits
  size_t cacheHits = 0;
  size_t cachedJobs = 0;   // rules, exceptions and request types whose findings came from the cache
  size_t unconfirmed = 0;  // witnesses the VM did not confirm (dropped)
  size_t timeouts = 0;     // queries out of budget (including `oversized`)
  size_t oversized = 0;    // queries not solved: a string constant over the encodable size
  size_t inconclusive = 0;
  size_t pairsExamined = 0;  // rule pairs the prefilter looked at (see Plan::candidates)
  std::vector<double> queryMillis;  // per solved query
  double totalMillis = 0;
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
