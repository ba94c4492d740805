// Where `pave serve` gets its bundle, and the bundle it decides with: a file (re-read when
// it changes and on SIGHUP) or an http(s) URL (polled with If-None-Match/ETag and jitter).
// A new bundle replaces the current one only after the full load and verification of SPEC
// §7.6; otherwise the last good one keeps serving and the failure is logged and counted.
// Requests hold a shared_ptr to the Generation they started with, so a swap never changes
// the bundle under a request in flight.
#pragma once

#include <pave/runtime.h>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "metrics.h"

namespace pave::server {

// A decider and the scratch of one request: decision texts, a batch's lines and answers.
struct Worker {
  explicit Worker(std::shared_ptr<const rt::LoadedBundle> bundle) : decider(std::move(bundle)) {}
  rt::Decider decider;
  std::string decision, full;  // the decision without trace (logged), and with it (answered)
  std::vector<std::string_view> lines;
  std::vector<uint32_t> order;
  std::vector<std::pair<size_t, size_t>> answers;
};

// The workers of one generation, lent to one request at a time and reused last-returned
// first: there are as many as requests have run at once, not one per server thread, so
// memory does not grow as a long-running server's connections move between its threads;
// they go with their generation.
class WorkerPool {
 public:
  // A worker for `bundle` (the generation's), taken from `pool` or made, and given back
  // when the lease ends.
  class Lease {
   public:
    Lease(WorkerPool& pool, const std::shared_ptr<const rt::LoadedBundle>& bundle) : pool_(pool) {
      {
        std::lock_guard lock(pool.m_);
        if (!pool.free_.empty()) {
          w_ = std::move(pool.free_.back());
          pool.free_.pop_back();
        }
      }
      if (!w_) w_ = std::make_unique<Worker>(bundle);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.giveBack(std::move(w_)); }
    Worker& operator*() const { return *w_; }

   private:
    WorkerPool& pool_;
    std::unique_ptr<Worker> w_;
  };

 private:
  void giveBack(std::unique_ptr<Worker> w) {
    std::lock_guard lock(m_);
    free_.push_back(std::move(w));
  }
  std::mutex m_;
  std::vector<std::unique_ptr<Worker>> free_;
};

// One loaded bundle and what serving it needs, resolved once.
struct Generation {
  std::shared_ptr<const rt::LoadedBundle> bundle;
  uint64_t serial = 0;          // 1, 2, … in load order
  std::string source;           // the path or URL it came from
  int64_t loadedAtMs = 0;       // wall clock
  std::string infoJson;         // the body of GET /v1/bundle
  // Counters a decision touches, by request type × outcome, by rule, by exception.
  std::vector<std::array<Counter*, 3>> decisions;
  std::vector<Counter*> ruleMatches;      // allow/approve/deny rules; null for exceptions
  std::vector<Counter*> exceptionUses;    // exceptions; null for the others
  mutable WorkerPool workers;             // deciders for `bundle`
};

struct StoreOptions {
  std::string source;                        // path or http(s):// URL
  std::vector<std::string> publicKeysPem;    // empty: signatures not checked (--allow-unsigned)
  int64_t pollMs = 30000;                    // URL: poll period (±10% jitter); file: change checks
  size_t maxBundleBytes = 256u << 20;
};

class BundleStore {
 public:
  BundleStore(StoreOptions opts, Metrics& metrics);
  ~BundleStore();

  // The current generation, or null before the first good load.
  std::shared_ptr<const Generation> current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // Loads now (the start, SIGHUP); false when the source gave no new good bundle.
  bool reload(bool forced);
  // Starts the background watcher (file changes, URL polls).
  void start();
  void stop();
  uint64_t reloadFailures() const { return failures_.load(); }

 private:
  bool install(const std::string& bytes, const std::string& origin);
  void fail(const std::string& reason, const std::string& message);
  void watch();

  StoreOptions opts_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const Generation> current_;
  uint64_t serial_ = 0;
  // What the source looked like at the last read: file identity, or the URL's ETag.
  std::mutex loadMu_;
  std::string fileStamp_, etag_;
  std::atomic<uint64_t> failures_{0};
  std::mutex watchMu_;
  std::condition_variable watchCv_;
  bool stopping_ = false;
  std::thread watcher_;
};

// The `"bundle"`-less info of a generation (GET /v1/bundle), built at install.
std::string bundleInfoJson(const rt::LoadedBundle& b, const std::string& source, int64_t loadedAtMs);

}  // namespace pave::server
