// The AST builder: a file's clean parse tree into Pave's AST (declarations, rules, tests,
// expressions), reporting `invalid-literal` and string-escape diagnostics. Internal to syntax/.
#pragma once

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "syntax/Parser.h"

namespace pave::syntax {

/// Adds the declarations of `parsed` (which parsed without error) to `ast` as file `file`.
/// Returns false when an expression nests too deeply to convert (reported).
bool buildAst(const ParsedFile& parsed, ast::Ast& ast, FileId file, DiagnosticEngine& diags, bool fromStdlib,
              const ParseLimits& limits);

}  // namespace pave::syntax
