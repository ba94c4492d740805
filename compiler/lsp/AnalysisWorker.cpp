#include "lsp/AnalysisWorker.h"

namespace pave::lsp {

AnalysisWorker::AnalysisWorker(std::chrono::milliseconds quietPeriod, Done done)
    : quiet_(quietPeriod), done_(std::move(done)), thread_([this] { loop(); }) {}

AnalysisWorker::~AnalysisWorker() {
  if (thread_.joinable()) stop(std::chrono::milliseconds::max());
}

bool AnalysisWorker::stop(std::chrono::milliseconds wait) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    cancelRunning_ = true;
  }
  wake_.notify_all();
  {
    std::lock_guard<std::mutex> lock(doneMutex_);
    stopped_ = true;
  }
  bool ended;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (wait == std::chrono::milliseconds::max()) {
      endedCv_.wait(lock, [this] { return ended_; });
      ended = true;
    } else {
      ended = endedCv_.wait_for(lock, wait, [this] { return ended_; });
    }
  }
  if (ended) {
    thread_.join();
  } else {
    thread_.detach();
  }
  return ended;
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

void AnalysisWorker::cancelAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.clear();
  if (!runningRoot_.empty()) cancelRunning_ = true;
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
    std::string lastKey = lastKey_[runningRoot_];
    std::unique_ptr<analysis::Session>& session = sessions_[runningRoot_];
    lock.unlock();
    if (!session) session = newSession(job.snap->root);
    auto early = [&](std::vector<Diagnostic> findings) {
      std::lock_guard<std::mutex> done(doneMutex_);
      if (cancelRunning_ || stopped_) return;
      AnalysisRun first;
      first.completed = first.early = true;
      first.findings = std::move(findings);
      done_(job.snap, std::move(first));
    };
    AnalysisRun run = runAnalyzer(*job.snap, cancelRunning_, lastKey, *session, early);
    bool published = false;
    {
      std::lock_guard<std::mutex> done(doneMutex_);
      if (run.completed && !cancelRunning_ && !stopped_) {
        {
          std::lock_guard<std::mutex> relock(mutex_);
          lastKey_[job.snap->root] = run.key;
        }
        done_(job.snap, std::move(run));
        published = true;
      }
    }
    // The query cache is written after the findings are out (and not when a newer edit or
    // `exit` is waiting).
    if (published && !cancelRunning_) session->save();
    lock.lock();
    runningRoot_.clear();
  }
  ended_ = true;
  endedCv_.notify_all();
}

}  // namespace pave::lsp
