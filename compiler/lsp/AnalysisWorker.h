// Deep analysis for the language server: debounced, cancelled by newer edits, run on its
// own thread so that it never delays front-end diagnostics.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "analysis/Analyzer.h"
#include "diag/Diagnostic.h"
#include "lsp/Workspace.h"

namespace pave::lsp {

/// What one analysis of a snapshot gave.
struct AnalysisRun {
  bool completed = false;  // false: cancelled, or the program could not be analyzed
  /// The findings of the edited file's rules only, published before the analysis of the
  /// others completes (a completed run follows).
  bool early = false;
  /// The analyzed content (rules, schema, severities, `@allow_lint`, the day) equals that of
  /// the last completed run: nothing was run and the published findings stand.
  bool unchanged = false;
  std::string key;  // the content key
  std::vector<Diagnostic> findings;
  analysis::AnalysisStats stats;
};

/// The content key of `snap`'s analysis: equal keys give equal findings (by rule name).
std::string analysisKey(const Snapshot& snap);

/// Runs the analyzer over `snap` unless its key is `lastKey`, with what `session` kept from
/// the unit's previous analyses; `early` receives the findings of the edited file's rules
/// first. Must poll `cancelled` and give up early when it turns true. Defined in
/// AnalyzerHook.cpp.
AnalysisRun runAnalyzer(const Snapshot& snap, const std::atomic<bool>& cancelled, const std::string& lastKey,
                        analysis::Session& session, const std::function<void(std::vector<Diagnostic>)>& early);
/// A session for the unit at `root` (its query cache, unless PAVE_NO_CACHE is set).
std::unique_ptr<analysis::Session> newSession(const std::string& root);

class AnalysisWorker {
 public:
  using Done = std::function<void(std::shared_ptr<const Snapshot> snap, AnalysisRun run)>;

  AnalysisWorker(std::chrono::milliseconds quietPeriod, Done done);
  ~AnalysisWorker();

  /// Analyzes `snap` once no newer snapshot of its unit has arrived for the quiet period.
  void schedule(std::shared_ptr<const Snapshot> snap);
  /// Drops pending and running work for `root` (a newer edit makes it worthless).
  void cancel(const std::string& root);
  /// Drops all work.
  void cancelAll();
  /// Stops the thread: no `Done` call starts after this returns. Returns true when the
  /// thread ended within `wait`; false when it is still unwinding an analysis (it is then
  /// detached, and the worker must be kept alive until the process exits).
  bool stop(std::chrono::milliseconds wait);

 private:
  void loop();

  struct Job {
    std::shared_ptr<const Snapshot> snap;
    std::chrono::steady_clock::time_point due;
  };

  std::chrono::milliseconds quiet_;
  Done done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Job> pending_;  // by root
  std::map<std::string, std::string> lastKey_;  // by root: the last completed run's key
  /// By root: what the unit's analyses keep from one to the next (used by this thread only).
  std::map<std::string, std::unique_ptr<analysis::Session>> sessions_;
  std::string runningRoot_;
  std::atomic<bool> cancelRunning_{false};
  bool stop_ = false;
  bool ended_ = false;
  std::condition_variable endedCv_;
  std::mutex doneMutex_;  // held while `done_` runs
  bool stopped_ = false;  // under doneMutex_: no more `done_` calls
  std::thread thread_;
};

}  // namespace pave::lsp
