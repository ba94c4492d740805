// The language features, each a function from a snapshot (and a position) to an LSP result.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/Diagnostic.h"
#include "lsp/Positions.h"
#include "lsp/Workspace.h"

namespace pave::lsp {

/// One open document within its unit's snapshot.
struct DocView {
  const Snapshot& snap;
  FileId file;  // the text the user sees
  std::string_view text() const { return snap.sources.text(file); }
  const LineIndex& lines() const { return snap.lineIndex(file); }
  /// Whether the AST and the checked program describe this text (false while it has a
  /// syntax error).
  bool current() const { return snap.isCurrent(file); }
};

/// An LSP `Diagnostic` (code, severity, related information; the witness in `data`).
nlohmann::json diagnosticJson(const Snapshot& snap, const Diagnostic& d);

/// A diagnostic's JSON text (as `diagnosticJson(…).dump()`, invalid UTF-8 replaced) with its
/// ranges left out, so that a finding whose positions moved is not serialized again:
/// pieces[0], range 0, pieces[1], …, range n-1, pieces[n]; range 0 is the diagnostic's,
/// the others those of its related locations (`slots`, indices into `d.related`).
struct DiagnosticText {
  std::vector<std::string> pieces;
  std::vector<size_t> slots;
};
DiagnosticText diagnosticText(const Snapshot& snap, const Diagnostic& d);
/// `text` with the ranges of `d` (located in `snap`), appended to `out`.
void appendDiagnostic(std::string& out, const DiagnosticText& text, const Snapshot& snap, const Diagnostic& d);
/// What `diagnosticText` depends on besides positions.
std::string diagnosticTextKey(const Snapshot& snap, const Diagnostic& d);
/// The `textDocument/publishDiagnostics` params for `path` from `diags`.
nlohmann::json publishParams(const Snapshot& snap, const std::string& path, const std::vector<const Diagnostic*>& diags);
/// A location (uri and range) for a source range; null for ranges without a file.
nlohmann::json locationJson(const Snapshot& snap, SourceRange r);

nlohmann::json hover(const DocView& doc, Position pos);
nlohmann::json definition(const DocView& doc, Position pos);
nlohmann::json completion(const DocView& doc, Position pos);
nlohmann::json documentSymbols(const DocView& doc);
nlohmann::json formatting(const DocView& doc);
nlohmann::json codeActions(const DocView& doc, const nlohmann::json& params);

}  // namespace pave::lsp
