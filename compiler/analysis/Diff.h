// `pave diff`: the semantic change impact between two versions of a policy (SPEC §9.2).
// Both versions are encoded over the same symbolic input; for each request type the
// solver looks for inputs whose decision (allow/approval/deny) or merged grants differ,
// and each such input is confirmed by running both compiled bundles.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sema/Program.h"
#include "source/Source.h"

namespace pave::analysis {

struct DiffChange {
  std::string requestType;
  std::string what;  // "decision" or "grant"
  std::string from, to;  // decision: allow|approval|deny; grant: the values before and after (JSON)
  std::string grant;     // what == "grant"
  nlohmann::json witness;
  nlohmann::json before, after;  // the two decisions on the witness
};

struct DiffResult {
  std::vector<std::string> added, removed;  // request types only in one version
  std::vector<std::string> schemaChanged;   // request types whose inputs differ (not compared)
  std::vector<std::string> unchanged;       // request types with no change
  std::vector<DiffChange> changes;
  std::vector<std::string> inconclusive;    // what the solver could not decide
  bool changed() const { return !added.empty() || !removed.empty() || !schemaChanged.empty() || !changes.empty(); }
};

struct DiffOptions {
  unsigned timeoutMs = 5000;
};

bool diffPrograms(const sema::CheckedProgram& before, const SourceManager& beforeSources,
                  const sema::CheckedProgram& after, const SourceManager& afterSources, const DiffOptions& options,
                  DiffResult& out, std::string& error);

/// Markdown, stable, for a pull-request comment.
std::string diffText(const DiffResult& r);
nlohmann::json diffJson(const DiffResult& r);

}  // namespace pave::analysis
