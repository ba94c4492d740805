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

#include "diag/Diagnostic.h"
#include "lsp/Workspace.h"

namespace pave::lsp {

/// Runs the analyzer over `snap` and returns its findings. Must poll `cancelled` and give
/// up early when it turns true. Defined in AnalyzerHook.cpp.
std::vector<Diagnostic> runAnalyzer(const Snapshot& snap, const std::atomic<bool>& cancelled);

class AnalysisWorker {
 public:
  using Done = std::function<void(const std::string& root, uint64_t generation, std::vector<Diagnostic>)>;

  AnalysisWorker(std::chrono::milliseconds quietPeriod, Done done);
  ~AnalysisWorker();

  /// Analyzes `snap` once no newer snapshot of its unit has arrived for the quiet period.
  void schedule(std::shared_ptr<const Snapshot> snap);
  /// Drops pending and running work for `root` (a newer edit makes it worthless).
  void cancel(const std::string& root);

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
  std::string runningRoot_;
  std::atomic<bool> cancelRunning_{false};
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pave::lsp
