// The parser: source text → AST. ANTLR stays behind this interface.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "source/Source.h"

namespace pave::syntax {

/// Limits that keep hostile input from exhausting the stack or memory.
struct ParseLimits {
  size_t maxFileBytes = 8u << 20;  // 8 MiB
  uint32_t maxNesting = 256;       // brackets, prefix operators, `if`/quantifier nesting
};

/// Parses one file into `ast` (appending a SourceFile). Reports `syntax` and
/// `invalid-literal` diagnostics; at most one `syntax` diagnostic per file, so that
/// one mistake never cascades. Returns false when the file has a syntax error (its
/// declarations are then not added).
bool parseFile(ast::Ast& ast, const SourceManager& sources, FileId file, DiagnosticEngine& diags,
               bool fromStdlib = false, const ParseLimits& limits = {});

struct FileToParse {
  FileId id;
  bool fromStdlib = false;
};

/// parseFile for each file in order, with the same results, using a second thread: one
/// thread parses the next file while the other converts the previous one into the AST.
/// Returns false when any file has a syntax error.
bool parseFiles(ast::Ast& ast, const SourceManager& sources, std::span<const FileToParse> files,
                DiagnosticEngine& diags, const ParseLimits& limits = {});

/// The two halves of parseFile, for callers that keep parsed files around: parseText
/// lexes and parses (the text must outlive the result); convertParsed adds the file to
/// the AST and reports its diagnostics.
struct ParsedFile;
struct ParsedFileDeleter {
  void operator()(ParsedFile* p) const;
};
using ParsedFilePtr = std::unique_ptr<ParsedFile, ParsedFileDeleter>;
ParsedFilePtr parseText(std::string_view text, const ParseLimits& limits = {});
bool convertParsed(const ParsedFile& parsed, ast::Ast& ast, FileId file, DiagnosticEngine& diags,
                   bool fromStdlib = false, const ParseLimits& limits = {});

}  // namespace pave::syntax
