// Query results cached by content hash, so that re-checking an unchanged repository does
// not run the solver again. Keys hash everything a query depends on (the rules' checked
// expressions, the schema, the query kind, the solver budget); values are the answer and
// the confirmed witness. One file per repository under `$XDG_CACHE_HOME/pave` (or
// `~/.cache/pave`, or `$PAVE_CACHE_DIR`), rewritten after each run with the entries it used.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pave::analysis {

/// A 128-bit content hash as 32 hex digits.
std::string contentHash(std::string_view text);

enum class Answer : uint8_t { Sat, Unsat, Unknown };

struct CachedResult {
  Answer answer = Answer::Unknown;
  std::string witness;  // serialized input JSON, may be empty
};

class QueryCache {
 public:
  /// `repository` names the cache file; an empty directory disables the cache.
  QueryCache(const std::string& directory, const std::string& repository);
  static std::string defaultDirectory();

  std::optional<CachedResult> find(const std::string& key);
  void store(const std::string& key, const CachedResult& result);
  /// Keeps an entry of the previous run in the saved file without counting a hit (the
  /// queries behind a job whose findings came from the cache stay cached for later edits).
  void touch(const std::string& key);
  /// Writes the entries found or stored in this run (atomically, best effort).
  void save();

  size_t hits() const { return hits_; }

 private:
  std::string path_;
  std::mutex mu_;
  std::unordered_map<std::string, CachedResult> old_, used_;
  size_t hits_ = 0;
};

}  // namespace pave::analysis
