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
  std::string edited;  // the path of the unit's last edited document (empty: none yet)
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
  /// Only the edited file was re-checked (incremental front end): its declarations are the
  /// same as at the last full check, so the files below `baseFiles` (every file but the
  /// edited one) keep that check's diagnostics, and `program` lacks their rules' bodies
  /// (rule conditions, grants, the side tables of their expressions). Never analyzed; a full
  /// build replaces it when the editor is idle or a request needs another file.
  bool partial = false;
  uint32_t baseFiles = 0;  // partial: FileIds below it are files other than the edited one

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

  /// The document at `path` was edited: it becomes the unit's edited file, converted after
  /// all the others (whose AST is kept from build to build) and, while its declarations
  /// stay the same, re-checked alone.
  void edited(const std::string& path);

  /// Compiles the unit's front end over the disk and the open documents. With
  /// `allowPartial`, the result may be a partial snapshot (see Snapshot::partial).
  std::shared_ptr<const Snapshot> build(const DocumentStore& docs, uint64_t generation, bool allowPartial = true);
  std::shared_ptr<const Snapshot> latest() const { return latest_; }

  bool dirty = true;
  bool needsFull = false;  // latest() is partial: a full build is due when the editor is idle

  /// PAVE_LSP_FULL_CHECK=1: every build converts and checks the whole unit (the baseline of
  /// the incremental front end's benchmark, and a fallback).
  static bool incrementalDisabled();

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

  // The incremental front end. The base is every file of the unit but the edited one
  // (`hot_`), converted into an AST that each build copies before converting the edited
  // file after it; it is rebuilt when another file is edited, or a file other than the
  // edited one changes, appears or goes.
  struct Base {
    uint64_t id = 0;
    std::string hot;
    uint64_t epoch = 0;
    std::vector<std::pair<std::string, std::string>> files;  // path, text: what it was built from
    SourceManager sources;
    ast::Ast ast;
    std::map<std::string, FileId> shown;
    std::set<uint32_t> current;
    std::vector<Diagnostic> diags;  // the files' syntax diagnostics
    std::vector<LineIndex> lines;   // by FileId
  };
  std::optional<Base> base_;
  uint64_t baseIds_ = 0;
  uint64_t epoch_ = 0;  // bumped by invalidate(): pave.toml or a data file may have changed
  std::string hot_;
  /// The last full check with an edited file: while the edited file's declarations keep
  /// `signature` (over the same base), the other files' diagnostics are `baseDiags`.
  struct FullCheck {
    uint64_t baseId = 0;
    std::string signature;
    std::vector<Diagnostic> baseDiags;
    bool usable = false;  // no diagnostic of another file refers to the edited one
  };
  std::optional<FullCheck> full_;
  /// The base over `others` (every file but the edited one, in order), rebuilt if stale.
  const Base& base(const std::vector<std::pair<std::string, const std::string*>>& others);
};

}  // namespace pave::lsp
