#include "lsp/AnalysisWorker.h"

namespace pave::lsp {

AnalysisWorker::AnalysisWorker(std::chrono::milliseconds quietPeriod, Done done)
    : quiet_(quietPeriod), done_(std::move(done)), thread_([this] { loop(); }) {}

AnalysisWorker::~AnalysisWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    cancelRunning_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AnalysisWorker::schedule(std::shared_ptr<const Snapshot> snap) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string root = snap->root;
    if (runningRoot_ == root) cancelRunning_ = true;
    pending_[root] = Job{std::move(snap), std::chrono::steady_clock::now() + quiet_};
  }
  wake_.notify_all();
}

void AnalysisWorker::cancel(const std::string& root) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.erase(root);
  if (runningRoot_ == root) cancelRunning_ = true;
}

void AnalysisWorker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = pending_.begin();
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
      if (it->second.due < first->second.due) first = it;
    // Copy the deadline: cancel() may erase the entry while this thread waits.
    const auto due = first->second.due;
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;  // a newer snapshot may have pushed the deadline back
    }
    Job job = std::move(first->second);
    pending_.erase(first);
    runningRoot_ = job.snap->root;
    cancelRunning_ = false;
    lock.unlock();
    std::vector<Diagnostic> findings = runAnalyzer(*job.snap, cancelRunning_);
    bool cancelled = cancelRunning_;
    if (!cancelled) done_(job.snap->root, job.snap->generation, std::move(findings));
    lock.lock();
    runningRoot_.clear();
  }
}

}  // namespace pave::lsp
