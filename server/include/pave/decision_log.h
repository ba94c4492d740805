// The decision log (SPEC §10.1): one JSON Lines record per decision, written by `pave serve`
// and by `pave eval --log FILE`, and the sinks that take the records: stdout, a file
// (rotated by size) and an HTTP collector (batched, gzipped, retried with backoff). Records
// go through a bounded buffer drained by a background thread, so that a slow sink never
// blocks a decision for long: when the buffer is full, the record is refused and the
// caller applies `--log-full drop|deny`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pave::server {

// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits; ids made later sort
// later (within one process, also within one millisecond). Thread-safe.
std::string uuidv7();
// The wall clock as `YYYY-MM-DDThh:mm:ss.mmmZ`.
std::string wallClockMillis();
// SHA-256 of `text`, lowercase hex (redacted values, hashed tokens).
std::string sha256Hex(std::string_view text);

// Values replaced by `{"redacted": "sha256:<hex of the value's canonical JSON>"}`: paths
// such as `request.token` or `principal.email` (dot-separated object keys from the input's
// root).
class Redaction {
 public:
  // False with `error` for an empty path or an empty segment.
  bool add(std::string_view path, std::string* error);
  bool empty() const { return paths_.empty(); }
  const std::vector<std::vector<std::string>>& paths() const { return paths_; }

 private:
  std::vector<std::vector<std::string>> paths_;
};

struct RecordFields {
  std::string_view id;
  std::string_view time;
  std::string_view source;          // "serve", "eval"
  const std::string* client = nullptr;  // the authenticated client, or null
  std::string_view input;           // the input text as received
  bool inputIsJson = true;          // false when the decision says `malformed-json`
  std::string_view decision;        // the decision JSON (SPEC §7.4) without "trace"
  int64_t evalNs = 0;
};

// Appends one record (SPEC §10.1, members in order, no newline) to `out`. An input that is
// not JSON is kept as `{"raw": …}` (at most 4 KiB of it); redacted values are hashed.
void appendRecord(std::string& out, const RecordFields& f, const Redaction& redaction);

// Where records go. `write` takes whole lines (each ending in '\n'); false when the batch
// could not be written (the log retries or drops it).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual bool write(std::string_view lines, std::string* error) = 0;
  virtual bool retries() const { return false; }  // an HTTP sink retries a failed batch
  virtual std::string describe() const = 0;
};

struct SinkOptions {
  uint64_t rotateBytes = 100ull << 20;   // file: rotate when the file would grow past this
  int keep = 10;                         // file: rotated files kept (PATH.1 … PATH.N)
  std::vector<std::string> headers;      // http: extra `Name: value` headers
};

// `-` (stdout), `file:PATH` or a plain path, `http://…` / `https://…`. Null with `error`
// when the destination is malformed or the file cannot be opened.
std::unique_ptr<Sink> openSink(const std::string& dest, const SinkOptions& opts, std::string* error);

// The bounded buffer and its writer thread.
class DecisionLog {
 public:
  DecisionLog(std::unique_ptr<Sink> sink, size_t maxBufferBytes);
  ~DecisionLog();  // flushes (bounded wait) and stops the writer
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Hands a record (without newline) to the log; false when the buffer is full.
  bool submit(std::string_view record);
  // Waits until every submitted record is written or `timeoutMs` passes; false on timeout.
  bool flush(int timeoutMs);

  uint64_t records() const { return records_.load(std::memory_order_relaxed); }     // written
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }     // refused or lost
  uint64_t writeFailures() const { return failures_.load(std::memory_order_relaxed); }
  void countDropped(uint64_t n = 1) { dropped_.fetch_add(n, std::memory_order_relaxed); }
  std::string describe() const { return sink_->describe(); }

 private:
  void run();

  std::unique_ptr<Sink> sink_;
  const size_t maxBytes_;
  std::mutex mu_;
  std::condition_variable wake_, drained_;
  std::string pending_;     // lines not yet taken by the writer
  size_t pendingLines_ = 0;
  uint64_t submitted_ = 0, done_ = 0;  // lines handed in / written or given up
  bool stop_ = false;
  std::atomic<uint64_t> records_{0}, dropped_{0}, failures_{0};
  std::thread writer_;
};

}  // namespace pave::server
