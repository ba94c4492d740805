// `pave diff`: the semantic change impact between two versions of a policy (SPEC §9.2).
// Both versions are encoded over the same symbolic input; for each request type the
// solver looks for inputs whose decision (allow/approval/deny) or merged grants differ,
// and each such input is confirmed by running both compiled bundles.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/Encoder.h"
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

/// A table whose data differs between the versions (same name in both).
struct TableChange {
  std::string table;
  size_t rows = 0;             // keys whose rows differ (changed, added or removed)
  bool recordChanged = false;  // the record type differs (rows not compared)
};

struct DiffResult {
  std::vector<TableChange> tables;  // informative: decisions are what `changes` lists
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

/// How `pave diff` encodes the tables of the two versions: small tables exactly with
/// their own data; a large table present in both with the same record type as one shared
/// abstract content for the keys whose rows are equal in both, and exactly (each version
/// its own row, or absent) for the keys whose rows differ, up to `kExactTableRows` of them;
/// any other table as any content of its own.
void diffTableModels(const sema::CheckedProgram& before, const sema::CheckedProgram& after, TableModels& beforeModels,
                     TableModels& afterModels, std::vector<TableChange>* changes = nullptr);

bool diffPrograms(const sema::CheckedProgram& before, const SourceManager& beforeSources,
                  const sema::CheckedProgram& after, const SourceManager& afterSources, const DiffOptions& options,
                  DiffResult& out, std::string& error);

/// Markdown, stable, for a pull-request comment.
std::string diffText(const DiffResult& r);
nlohmann::json diffJson(const DiffResult& r);

}  // namespace pave::analysis
