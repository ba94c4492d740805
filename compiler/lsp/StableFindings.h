// The analyzer's findings as the editor shows them (issue 29): the last completed analysis
// stays published until a newer one completes, its positions carried through later edits;
// conflicts grouped per allow/approve rule and capped per file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "diag/Diagnostic.h"
#include "lsp/Workspace.h"

namespace pave::lsp {

/// The findings of one completed analysis, by the path of their file, with the texts they
/// were computed on (ranges are byte offsets into those texts; FileIds are not kept).
struct StableFindings {
  uint64_t generation = 0;  // of the analyzed snapshot
  std::map<std::string, std::string> texts;  // path → the text analyzed
  struct Entry {
    Diagnostic d;
    std::vector<std::string> relatedPaths;  // per d.related
  };
  /// Shared between successive findings: an early publication keeps the other files' lists.
  std::map<std::string, std::shared_ptr<const std::vector<Entry>>> byPath;
  /// Per path: a digest of its findings and of the text they were computed on, and the
  /// files its related information points into.
  std::map<std::string, std::string> digest;
  std::map<std::string, std::set<std::string>> relatedFiles;
  bool early = false;  // made by withEdited
  size_t count = 0;
  /// Findings that the previous analysis did not have (by code, rule and message): shown
  /// first when a file has more than the cap.
  std::unordered_set<std::string> fresh;
  static std::string keyOf(const Diagnostic& d) { return std::string(d.code()) + "\n" + d.rule + "\n" + d.message; }

  /// Keeps `findings` of `snap` (whose analysis they are); `previous` marks the fresh ones.
  static std::shared_ptr<StableFindings> capture(const Snapshot& snap, std::vector<Diagnostic> findings,
                                                 const StableFindings* previous);

  /// The findings of `snap`'s edited file (`early`: those of its rules, from an analysis that
  /// is still running) with the rest of `previous` mapped onto `snap`.
  static std::shared_ptr<StableFindings> withEdited(const Snapshot& snap, std::vector<Diagnostic> early,
                                                    const StableFindings& previous);

  /// The findings of `path`, mapped onto `to` (a later snapshot): ranges before or after
  /// the edited span move with the text; a finding on a rule inside it follows the rule by
  /// name, and is dropped when the rule (or a related rule) is gone.
  std::vector<Diagnostic> mapped(const std::string& path, const Snapshot& to) const;

  /// The digest of `path`'s findings (empty when it has none).
  std::string digestOf(const std::string& path) const;

 private:
  /// Appends `findings` (located in `snap`) to byPath (into `lists`), and the texts they need.
  static void add(StableFindings& out, std::map<std::string, std::vector<Entry>>& lists, const Snapshot& snap,
                  std::vector<Diagnostic> findings);
  /// Moves `lists` into byPath; counts, digests and fresh findings.
  void finish(std::map<std::string, std::vector<Entry>> lists, const StableFindings* previous);
};

/// Editor presentation: the `conflict`s of one allow/approve rule become one diagnostic
/// listing the deny rules as related information (the witness of the first kept), then at
/// most `cap` findings per file, with a final note counting the rest.
struct EditorFindings {
  std::vector<Diagnostic> shown;
  size_t more = 0;  // findings left out past the cap
};
EditorFindings groupForEditor(std::vector<Diagnostic> findings, size_t cap,
                              const std::unordered_set<std::string>* fresh = nullptr);

/// Findings per file beyond which the editor shows "N more findings".
constexpr size_t kFindingsPerFile = 100;
/// Related rules listed with one finding (a note counts the rest).
constexpr size_t kRelatedPerFinding = 20;

}  // namespace pave::lsp
