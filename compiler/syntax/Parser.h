// The parser: source text → AST. ANTLR stays behind this interface.
#pragma once

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

}  // namespace pave::syntax
