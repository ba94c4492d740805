#include "pave/decision_log.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "gzip.h"
#include "http_client.h"

namespace pave::server {

// ---- ids and times ---------------------------------------------------------------------

namespace {

// A per-thread xoshiro256** generator seeded from OpenSSL's CSPRNG: ids need to be unique
// and unpredictable enough not to be guessed, not secret, and a RAND_bytes call per
// decision would cost more than the decision.
struct IdRandom {
  uint64_t s[4];
  IdRandom() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(s), sizeof s) != 1 || (s[0] | s[1] | s[2] | s[3]) == 0) {
      uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
      for (int i = 0; i < 4; ++i) s[i] = (t += 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
};

// Milliseconds << 12 | a counter: the last id's, so that ids increase within the process
// (RFC 9562 §6.2, method 1: the 12-bit rand_a field counts within a millisecond and
// carries into the timestamp).
std::atomic<uint64_t> g_last_stamp{0};

}  // namespace

std::string uuidv7() {
  thread_local IdRandom rng;
  const uint64_t now = uint64_t(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  uint64_t old = g_last_stamp.load(std::memory_order_relaxed), stamp;
  do {
    stamp = std::max(now << 12, old + 1);
  } while (!g_last_stamp.compare_exchange_weak(old, stamp, std::memory_order_relaxed));
  const uint64_t ms = stamp >> 12, counter = stamp & 0xfff, r = rng.next();
  uint8_t b[16];
  for (int i = 0; i < 6; ++i) b[i] = uint8_t(ms >> (40 - 8 * i));
  b[6] = uint8_t(0x70 | (counter >> 8));
  b[7] = uint8_t(counter);
  for (int i = 0; i < 8; ++i) b[8 + i] = uint8_t(r >> (8 * i));
  b[8] = uint8_t(0x80 | (b[8] & 0x3f));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(36, '-');
  for (int i = 0, o = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;
    s[size_t(o++)] = kHex[b[i] >> 4];
    s[size_t(o++)] = kHex[b[i] & 15];
  }
  return s;
}

std::string wallClockMillis() {
  auto now = std::chrono::system_clock::now();
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}

// ---- records ---------------------------------------------------------------------------

bool Redaction::add(std::string_view path, std::string* error) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) {
      if (error) *error = "redaction path `" + std::string(path) + "` has an empty part (expected e.g. `request.token`)";
      return false;
    }
    parts.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  paths_.push_back(std::move(parts));
  return true;
}

namespace {

using json = nlohmann::json;

}  // namespace

std::string sha256Hex(std::string_view text) {
  unsigned char md[32];
  unsigned len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += kHex[md[i] >> 4];
    s += kHex[md[i] & 15];
  }
  return s;
}

namespace {

void redact(json& node, const std::vector<std::string>& path, size_t at) {
  if (!node.is_object()) return;
  auto it = node.find(path[at]);
  if (it == node.end()) return;
  if (at + 1 < path.size()) return redact(*it, path, at + 1);
  // The canonical JSON of the value: keys sorted, no spaces (nlohmann's objects are sorted).
  *it = json{{"redacted", "sha256:" + sha256Hex(it->dump(-1, ' ', false, json::error_handler_t::replace))}};
}

void appendJsonString(std::string& out, std::string_view s) {
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

void appendRecord(std::string& out, const RecordFields& f, const Redaction& redaction) {
  out += "{\"log_version\":1,\"id\":\"";
  out += f.id;
  out += "\",\"time\":\"";
  out += f.time;
  out += "\",\"source\":\"";
  out += f.source;
  out += "\",\"client\":";
  if (f.client) appendJsonString(out, *f.client);
  else out += "null";
  out += ",\"input\":";
  // One line as it is: JSON (the runtime's strict decoder said so) without line breaks. A
  // NUL byte never is; checked again so that no caller's mistake can break the log's lines.
  bool verbatim = f.inputIsJson && redaction.empty() &&
                  f.input.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
  if (verbatim) {
    size_t b = f.input.find_first_not_of(" \t"), e = f.input.find_last_not_of(" \t");
    out += f.input.substr(b, e - b + 1);
  } else {
    std::optional<json> parsed;
    if (f.inputIsJson) {
      try {
        parsed = json::parse(f.input);
      } catch (const json::exception&) {
      }
    }
    if (parsed) {
      for (const auto& path : redaction.paths()) redact(*parsed, path, 0);
      out += parsed->dump(-1, ' ', false, json::error_handler_t::replace);
    } else {
      constexpr size_t kMaxRaw = 4096;
      size_t n = std::min(f.input.size(), kMaxRaw);
      while (n < f.input.size() && n > 0 && (uint8_t(f.input[n]) & 0xc0) == 0x80) --n;  // whole code points
      out += "{\"raw\":";
      appendJsonString(out, f.input.substr(0, n));
      out += '}';
    }
  }
  out += ",\"decision\":";
  out += f.decision;
  out += ",\"eval_ns\":";
  out += std::to_string(f.evalNs);
  out += '}';
}

// ---- sinks -----------------------------------------------------------------------------

namespace {

class StdoutSink final : public Sink {
 public:
  bool write(std::string_view lines, std::string* error) override {
    if (std::fwrite(lines.data(), 1, lines.size(), stdout) != lines.size() || std::fflush(stdout) != 0) {
      if (error) *error = "cannot write to stdout";
      return false;
    }
    return true;
  }
  std::string describe() const override { return "stdout"; }
};

// Appends to PATH; when a batch would take it past `rotateBytes`, PATH becomes PATH.1
// (PATH.1 becomes PATH.2, …; PATH.keep is deleted) and a new PATH is started.
class FileSink final : public Sink {
 public:
  FileSink(std::string path, const SinkOptions& o) : path_(std::move(path)), rotate_(o.rotateBytes), keep_(o.keep) {}
  ~FileSink() override {
    if (f_) std::fclose(f_);
  }
  bool open(std::string* error) {
    f_ = std::fopen(path_.c_str(), "ab");
    if (!f_) {
      if (error) *error = "cannot open the decision log " + path_ + ": " + std::strerror(errno);
      return false;
    }
    std::fseek(f_, 0, SEEK_END);
    size_ = uint64_t(std::ftell(f_));
    return true;
  }
  bool write(std::string_view lines, std::string* error) override {
    if (rotate_ && size_ > 0 && size_ + lines.size() > rotate_ && !rotate(error)) return false;
    if (!f_ && !open(error)) return false;
    if (std::fwrite(lines.data(), 1, lines.size(), f_) != lines.size() || std::fflush(f_) != 0) {
      if (error) *error = "cannot write the decision log " + path_ + ": " + std::strerror(errno);
      return false;
    }
    size_ += lines.size();
    return true;
  }
  std::string describe() const override { return "file:" + path_; }

 private:
  bool rotate(std::string* error) {
    std::fclose(f_);
    f_ = nullptr;
    std::error_code ec;
    namespace fs = std::filesystem;
    if (keep_ <= 0) {
      fs::remove(path_, ec);
    } else {
      fs::remove(path_ + "." + std::to_string(keep_), ec);
      for (int i = keep_ - 1; i >= 1; --i)
        if (fs::exists(path_ + "." + std::to_string(i), ec))
          fs::rename(path_ + "." + std::to_string(i), path_ + "." + std::to_string(i + 1), ec);
      fs::rename(path_, path_ + ".1", ec);
      if (ec) {
        if (error) *error = "cannot rotate the decision log " + path_ + ": " + ec.message();
        return open(nullptr) && false;
      }
    }
    return open(error);
  }

  std::string path_;
  uint64_t rotate_;
  int keep_;
  std::FILE* f_ = nullptr;
  uint64_t size_ = 0;
};

// POSTs each batch, gzipped, as `application/x-ndjson` with `Content-Encoding: gzip`.
class HttpSink final : public Sink {
 public:
  HttpSink(std::string url, const SinkOptions& o) : url_(std::move(url)), headers_(o.headers) {}
  bool write(std::string_view lines, std::string* error) override {
    std::string body;
    if (!gzipCompress(lines, body)) {
      if (error) *error = "cannot compress the decision log batch";
      return false;
    }
    std::vector<std::string> headers = headers_;
    headers.push_back("Content-Encoding: gzip");
    HttpResponse r = httpPost(url_, headers, body, "application/x-ndjson", 10);
    if (!r.ok || r.status < 200 || r.status >= 300) {
      if (error) *error = "decision log collector " + url_ + ": " + (r.ok ? "HTTP " + std::to_string(r.status) : r.error);
      return false;
    }
    return true;
  }
  bool retries() const override { return true; }
  std::string describe() const override { return url_; }

 private:
  std::string url_;
  std::vector<std::string> headers_;
};

}  // namespace

std::unique_ptr<Sink> openSink(const std::string& dest, const SinkOptions& opts, std::string* error) {
  if (dest == "-") return std::make_unique<StdoutSink>();
  if (dest.rfind("http://", 0) == 0 || dest.rfind("https://", 0) == 0) {
    std::string why;
    if (!validHttpUrl(dest, &why)) {
      if (error) *error = why;
      return nullptr;
    }
    return std::make_unique<HttpSink>(dest, opts);
  }
  std::string path = dest.rfind("file:", 0) == 0 ? dest.substr(5) : dest;
  if (path.empty()) {
    if (error) *error = "the decision log destination is empty (use -, file:PATH or http(s)://…)";
    return nullptr;
  }
  auto sink = std::make_unique<FileSink>(path, opts);
  if (!sink->open(error)) return nullptr;
  return sink;
}

// ---- the buffer and its writer ----------------------------------------------------------

namespace {
// What a buffer may keep between batches: a few milliseconds of records at full speed.
constexpr size_t kKeptBufferBytes = size_t(256) << 10;
}  // namespace

DecisionLog::DecisionLog(std::unique_ptr<Sink> sink, size_t maxBufferBytes)
    : sink_(std::move(sink)), maxBytes_(maxBufferBytes) {
  pending_.reserve(kKeptBufferBytes);
  writer_ = std::thread([this] { run(); });
}

DecisionLog::~DecisionLog() {
  flush(10000);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

bool DecisionLog::submit(std::string_view record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || pending_.size() + record.size() + 1 > maxBytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    pending_ += record;
    pending_ += '\n';
    ++pendingLines_;
    ++submitted_;
  }
  wake_.notify_one();
  return true;
}

bool DecisionLog::flush(int timeoutMs) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_;
  return drained_.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return done_ >= target; });
}

void DecisionLog::run() {
  std::string batch;
  batch.reserve(kKeptBufferBytes);
  int backoffMs = 100;
  for (;;) {
    size_t lines = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty() && stop_) return;
      batch.swap(pending_);
      pending_.clear();
      lines = pendingLines_;
      pendingLines_ = 0;
    }
    // A sink that retries (HTTP) keeps the batch until it is taken, backing off between
    // tries; its buffer meanwhile fills, and the caller's --log-full policy applies. On
    // stop, a batch that still fails after a few tries is given up and counted as dropped.
    std::string error;
    int tries = 0;
    bool ok;
    while (!(ok = sink_->write(batch, &error))) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "pave: decision log: %s\n", error.c_str());
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stop_;
      }
      if (!sink_->retries() || (stopping && ++tries >= 3)) break;
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(backoffMs), [&] { return stop_ && !stopping; });
      backoffMs = std::min(backoffMs * 2, 5000);
    }
    if (ok) {
      backoffMs = 100;
      records_.fetch_add(lines, std::memory_order_relaxed);
    } else {
      dropped_.fetch_add(lines, std::memory_order_relaxed);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ += lines;
    }
    drained_.notify_all();
    // Both buffers (this one and pending_, swapped) keep kKeptBufferBytes, so that
    // appending a record seldom reallocates: the many small reallocations the request
    // threads made as pending_ grew, each in its own allocator arena, crept the resident
    // memory up. A burst's larger buffer is given back rather than kept.
    if (batch.capacity() > kKeptBufferBytes) {
      std::string fresh;
      fresh.reserve(kKeptBufferBytes);
      batch.swap(fresh);
    } else {
      batch.clear();
    }
  }
}

}  // namespace pave::server
