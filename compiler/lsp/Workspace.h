// Compilation units of the language server. A workspace folder is one unit, like
// `pave check` on its root: every `.pave` file on disk under the root, with the text of
// open documents in place of what is on disk. A document outside every folder is a unit
// of its own. Each build of a unit yields an immutable `Snapshot`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "pipeline/Config.h"
#include "lsp/Documents.h"
#include "lsp/Positions.h"
#include "sema/Program.h"
#include "source/Source.h"
#include "syntax/Parser.h"

namespace pave::lsp {

struct Snapshot {
  uint64_t generation = 0;
  std::string root;
  int64_t now = 0;  // the check time, for `expired-exception`
  SourceManager sources;
  ast::Ast ast;
  /// Front-end diagnostics, sorted; those about the stale text of a broken file are left out.
  std::vector<Diagnostic> diagnostics;
  std::shared_ptr<const sema::CheckedProgram> program;  // partial when !programOk
  bool programOk = false;
  std::map<std::string, FileId> shown;  // path → the text the user sees
  std::set<uint32_t> current;           // files whose AST in `ast` is of the text the user sees
  std::vector<LineIndex> lines;         // by FileId
  std::string configError;              // a broken pave.toml
  std::map<std::string, Severity> severities;  // pave.toml [lint], for the analyzer's findings
  /// Data files of tables with an `invalid-data` diagnostic: path → the text shown.
  std::map<std::string, FileId> dataFiles;
  /// What the tables' data was read from (each file's path, time and size), for the
  /// analyzer's cache key: a data change is a rebuild.
  std::string dataKey;

  std::optional<FileId> fileOf(const std::string& path) const;
  bool isCurrent(FileId f) const { return current.count(f.value) != 0; }
  const LineIndex& lineIndex(FileId f) const { return lines[f.value]; }
  /// The AST file record of `f`, when `f` was parsed.
  const ast::SourceFile* astFile(FileId f) const;
};

class Unit {
 public:
  /// `root` is a folder, or a single file for a document outside every folder.
  Unit(std::string root, bool singleFile) : root_(std::move(root)), singleFile_(singleFile) {}

  const std::string& root() const { return root_; }
  bool singleFile() const { return singleFile_; }
  bool contains(const std::string& path) const;
  /// Forgets the cached disk text of `path` (it changed on disk) or pave.toml.
  void invalidate(const std::string& path);

  /// Compiles the unit's front end over the disk and the open documents.
  std::shared_ptr<const Snapshot> build(const DocumentStore& docs, uint64_t generation);
  std::shared_ptr<const Snapshot> latest() const { return latest_; }

  bool dirty = true;

 private:
  std::vector<std::string> sourceFiles(const DocumentStore& docs) const;
  const std::string* diskText(const std::string& path);
  void addFile(Snapshot& s, DiagnosticEngine& diags, const std::string& path, const std::string& text);
  /// Parses `file` of `s` (whose text is `text`), reusing the last parse of the same text.
  bool parseCached(Snapshot& s, FileId file, const std::string& key, const std::string& text,
                   DiagnosticEngine& diags, bool fromStdlib = false);

  std::string root_;
  bool singleFile_ = false;
  std::map<std::string, std::string> disk_;      // cached disk texts
  std::map<std::string, std::string> lastGood_;  // last text of each file that parsed
  std::optional<Config> config_;
  std::string configError_;
  std::shared_ptr<const Snapshot> latest_;

  /// Each file's recent parses (the current text and the last text that parsed), so that
  /// an edit re-parses only the edited file; every other file is only converted into the
  /// new snapshot's AST. The text is kept because a parse refers to it.
  struct CachedParse {
    std::string text;
    syntax::ParsedFilePtr parsed;
    uint64_t lastUse = 0;
  };
  std::map<std::string, std::vector<std::unique_ptr<CachedParse>>> parses_;
  uint64_t buildCount_ = 0;

  /// Reads the tables' data files (data::loadTables), each only when the file (path, time,
  /// size) or the table's record type changed since the last build.
  void loadTables(Snapshot& s, sema::CheckedProgram& program, const std::string& root, DiagnosticEngine& diags);
  struct CachedTable {
    std::shared_ptr<const sema::TableData> data;  // null when the file could not be used
    std::vector<Diagnostic> diags;                // its `invalid-data` diagnostics
    std::vector<bool> inDataFile;                 // per diagnostic: located in the data file
    std::string file;                             // the data file's path, when diagnostics are in it
    std::string text;                             //   and its text
    uint64_t lastUse = 0;
  };
  std::map<std::string, CachedTable> tables_;  // by data file, its time and size and the record type
};

}  // namespace pave::lsp
