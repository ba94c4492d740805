// The threads that serve connections: made on demand, up to a maximum, and the one idle
// the shortest time is woken first. So a server that meets 16 clients at once runs 16
// threads, however large `--max-connections` is, and a client that reconnects is served
// by a thread whose stack and allocator arena are already in memory: the resident memory
// of a long-running server follows its peak concurrency instead of creeping up as
// connections move across a fixed pool's threads.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pave::server {

class ConnectionPool : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(size_t maxThreads) : max_(maxThreads ? maxThreads : 1) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lock(m_);
    if (stop_) return;  // not reached: the server stops accepting before shutting down
    jobs_.push_back(std::move(fn));
    if (!idle_.empty()) {
      Idle* w = idle_.back();  // the most recently idle
      idle_.pop_back();
      w->wake = true;
      w->cv.notify_one();
    } else if (threads_.size() < max_) {
      threads_.emplace_back([this] { work(); });
    }  // else a busy thread takes it when it is done
  }

  // Runs the queued jobs, then ends the threads.
  void shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(m_);
      stop_ = true;
      for (Idle* w : idle_) {
        w->wake = true;
        w->cv.notify_one();
      }
      idle_.clear();
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  struct Idle {
    std::condition_variable cv;
    bool wake = false;
  };

  void work() {
    Idle self;
    std::unique_lock lock(m_);
    for (;;) {
      if (!jobs_.empty()) {
        std::function<void()> fn = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        fn();
        lock.lock();
        continue;
      }
      if (stop_) return;
      self.wake = false;
      idle_.push_back(&self);
      self.cv.wait(lock, [&] { return self.wake; });
    }
  }

  const size_t max_;
  std::mutex m_;
  std::deque<std::function<void()>> jobs_;
  std::vector<Idle*> idle_;  // waiting threads, the most recently idle last
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

}  // namespace pave::server
