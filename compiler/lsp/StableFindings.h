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

/// The findings of one completed analysis, by the path of their file, each file's with the
/// texts they were computed on (ranges are byte offsets into those texts; FileIds are not
/// kept). A file's findings are shared with the findings they were taken from until they
/// are mapped anew: an early publication maps the edited file's alone.
struct StableFindings {
  uint64_t generation = 0;  // of the analyzed snapshot
  struct Entry {
    Diagnostic d;
    std::vector<std::string> relatedPaths;  // per d.related
  };
  using Text = std::shared_ptr<const std::string>;
  struct File {
    std::vector<Entry> list;
    /// Path → the text its ranges are in: the file's own and those its related
    /// information points into (shared between the files of one analysis).
    std::map<std::string, Text> texts;
    /// Of the findings and of the text they were computed on (not the texts of the files
    /// related information points into: see Server::publishLocked).
    std::string digest;
    std::set<std::string> relatedFiles;  // the other files its related information points into
  };
  std::map<std::string, std::shared_ptr<const File>> byPath;
  bool early = false;  // made by withEdited
  size_t count = 0;
  /// Findings that the last completed analysis did not have (by code, rule and message):
  /// shown first when a file has more than the cap.
  std::unordered_set<std::string> fresh;
  /// The keys of the last completed analysis's findings.
  std::shared_ptr<const std::unordered_set<std::string>> completedKeys;
  /// Findings mapped onto the snapshot to make these (withEdited, withoutRemoved): a
  /// statistic for tests (`pave/editedFileFindings`).
  size_t remapped = 0;
  /// Files whose digest was computed to make these (the others kept theirs): a statistic
  /// for tests (`pave/analysis`).
  size_t digested = 0;
  static std::string keyOf(const Diagnostic& d) { return std::string(d.code()) + "\n" + d.rule + "\n" + d.message; }

  /// Keeps `findings` of `snap` (whose analysis they are); `previous` marks the fresh ones,
  /// and a file whose text and findings are those it had in `previous` keeps its digest
  /// (it is not digested again, nor re-published).
  static std::shared_ptr<StableFindings> capture(const Snapshot& snap, std::vector<Diagnostic> findings,
                                                 const StableFindings* previous);

  /// `previous` with the findings of `snap`'s edited file replaced by `early` (those of its
  /// rules, from an analysis that is still running) and its other findings mapped onto
  /// `snap`. The other files keep theirs unmapped (shared with `previous`): the cost is that
  /// of the edited file. Their findings that point into the edited file are mapped when
  /// they are next published, or replaced when the analysis completes; see withoutRemoved.
  static std::shared_ptr<StableFindings> withEdited(const Snapshot& snap, std::vector<Diagnostic> early,
                                                    const StableFindings& previous);

  /// After withEdited (once the edited file's findings are out): these findings with the
  /// files whose related information names a rule that the edit removed from the edited
  /// file mapped onto `snap` (those findings dropped); nullptr when there is no such file.
  std::shared_ptr<StableFindings> withoutRemoved(const Snapshot& snap) const;

  /// The findings of `path`, mapped onto `to` (a later snapshot): ranges before or after
  /// the edited span move with the text; a finding on a rule inside it follows the rule by
  /// name, and is dropped when the rule (or a related rule) is gone.
  std::vector<Diagnostic> mapped(const std::string& path, const Snapshot& to) const;

  /// The digest of `path`'s findings (empty when it has none).
  std::string digestOf(const std::string& path) const;

 private:
  /// The files of `findings` (located in `snap`), into `files`.
  static void add(std::map<std::string, File>& files, const Snapshot& snap, std::vector<Diagnostic> findings);
  /// Moves `files` into byPath with their digests; counts.
  void finish(std::map<std::string, File> files);
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
