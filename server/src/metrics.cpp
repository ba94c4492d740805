#include "metrics.h"

#include <cstdio>

namespace pave::server {

void appendLabelValue(std::string& out, const std::string& value) {
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

Counter* CounterFamily::get(const std::vector<std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(values);
  if (it != index_.end()) return it->second;
  Counter* c = &counters_.emplace_back();
  index_.emplace(values, c);
  return c;
}

void CounterFamily::render(std::string& out) const {
  out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " counter\n";
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, counter] : index_) {
    out += name_;
    if (!labels_.empty()) {
      out += '{';
      for (size_t i = 0; i < labels_.size(); ++i) {
        if (i) out += ',';
        out += labels_[i] + "=\"";
        appendLabelValue(out, values[i]);
        out += '"';
      }
      out += '}';
    }
    out += ' ' + std::to_string(counter->get()) + '\n';
  }
}

void Histogram::observe(uint64_t ns) {
  const double s = double(ns) * 1e-9;
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sumNs_.fetch_add(ns, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < kBounds.size()) std::snprintf(le, sizeof le, "%g", kBounds[i]);
    out += name + "_bucket{le=\"" + (i < kBounds.size() ? std::string(le) : "+Inf") + "\"} " +
           std::to_string(cumulative) + '\n';
  }
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.9f", double(sumNs_.load(std::memory_order_relaxed)) * 1e-9);
  out += name + "_sum " + sum + '\n';
  out += name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)) + '\n';
}

}  // namespace pave::server
