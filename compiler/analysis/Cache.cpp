#include "analysis/Cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace pave::analysis {

namespace {
// The first line of a cache file. Cached answers and findings are only as good as the
// analyzer that made them: the generation changes whenever the analyzer's queries or
// findings do (a new lint, a new encoding), and with the compiler's version, so that a
// newer `pave` never reuses what an older one found (a cache from before the
// `unbounded-duration` lint hid its findings).
constexpr int kAnalyzerGeneration = 3;
const std::string kMagic = "pave-analysis-cache 2 gen " + std::to_string(kAnalyzerGeneration) + " pave " PAVE_VERSION;

uint64_t fnv1a(std::string_view text, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}
}  // namespace

std::string contentHash(std::string_view text) {
  char buf[33];
  snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(fnv1a(text, 0xcbf29ce484222325ull)),
           static_cast<unsigned long long>(fnv1a(text, 0x84222325cbf29ce4ull) ^ (text.size() * 0x9e3779b97f4a7c15ull)));
  return buf;
}

std::string QueryCache::defaultDirectory() {
  if (const char* dir = std::getenv("PAVE_CACHE_DIR")) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/pave";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/pave";
  return {};
}

QueryCache::QueryCache(const std::string& directory, const std::string& repository) {
  if (directory.empty()) return;
  std::error_code ec;
  std::string root = fs::weakly_canonical(fs::path(repository), ec).string();
  path_ = (fs::path(directory) / ("analysis-" + contentHash(root) + ".cache")).string();
  std::ifstream in(path_, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line) || line != kMagic) return;
  // One entry per line: key, answer (s/u/?), witness JSON (without newlines).
  while (std::getline(in, line)) {
    if (line.size() < 35 || line[32] != ' ' || line[34] != ' ') continue;
    CachedResult r;
    r.answer = line[33] == 's' ? Answer::Sat : line[33] == 'u' ? Answer::Unsat : Answer::Unknown;
    r.witness = line.substr(35);
    old_.emplace(line.substr(0, 32), std::move(r));
  }
}

std::optional<CachedResult> QueryCache::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = used_.find(key);
  if (it == used_.end()) {
    auto o = old_.find(key);
    if (o == old_.end()) return std::nullopt;
    it = used_.emplace(key, o->second).first;
  }
  ++hits_;
  return it->second;
}

void QueryCache::store(const std::string& key, const CachedResult& result) {
  if (result.answer == Answer::Unknown) return;  // a budget may suffice next time
  std::lock_guard<std::mutex> lock(mu_);
  used_[key] = result;
}

void QueryCache::touch(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_.count(key)) return;
  if (auto o = old_.find(key); o != old_.end()) used_.emplace(key, o->second);
}

void QueryCache::save() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  std::string tmp = path_ + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out << kMagic << "\n";
    for (const auto& [key, r] : used_)
      out << key << ' ' << (r.answer == Answer::Sat ? 's' : r.answer == Answer::Unsat ? 'u' : '?') << ' ' << r.witness
          << "\n";
    if (!out) return;
  }
  fs::rename(tmp, path_, ec);
  if (ec) fs::remove(tmp, ec);
}

}  // namespace pave::analysis
