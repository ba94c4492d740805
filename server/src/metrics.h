// Prometheus metrics of `pave serve` (SPEC §10.2; text exposition format 0.0.4). Counters
// are keyed by their label values and live for the process, across bundle swaps; what a
// decision touches is resolved once per bundle (see Generation in bundle_store.h), so that
// counting a decision is a few relaxed atomic increments and takes no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pave::server {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A family of counters: `name{label="…",…}`. `get` returns a counter whose address is
// stable for the life of the family.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}
  Counter* get(const std::vector<std::string>& values);
  void render(std::string& out) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Counter*> index_;
  std::deque<Counter> counters_;  // stable addresses
};

// Seconds, with the default Prometheus client buckets scaled down to decision times.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5,
                                                     1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2, 1e-1};
  void observe(uint64_t ns);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // the last: +Inf
  std::atomic<uint64_t> count_{0}, sumNs_{0};
};

// Appends `value` escaped for a label (backslash, quote, newline).
void appendLabelValue(std::string& out, const std::string& value);

struct Metrics {
  CounterFamily decisions{"pave_decisions_total", "Decisions made, by request type and decision.",
                          {"request_type", "decision"}};
  CounterFamily inputErrors{"pave_input_errors_total", "Inputs refused, by error code (SPEC 7.2).", {"code"}};
  CounterFamily ruleMatches{
      "pave_rule_matches_total", "Allow, approve and deny rules that matched, by rule.", {"rule"}};
  CounterFamily exceptionUses{"pave_exception_uses_total",
                              "Exceptions that lifted a deny in a decision: each use is a control failure to watch.",
                              {"exception", "lifts"}};
  CounterFamily reloadFailures{"pave_bundle_reload_failures_total",
                               "Bundles that failed to load or verify; the last good bundle kept serving.",
                               {"reason"}};
  CounterFamily httpRequests{
      "pave_http_requests_total", "HTTP requests, by endpoint and status code.", {"endpoint", "code"}};
  Histogram duration;
};

}  // namespace pave::server
