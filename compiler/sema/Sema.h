// Semantic analysis: name resolution, type checking, flow typing, def inlining and const
// evaluation. Turns the AST of one compilation unit into a `CheckedProgram`.
#pragma once

#include <cstdint>
#include <optional>

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "sema/Program.h"
#include "source/Source.h"

namespace pave::sema {

struct CheckOptions {
  int64_t now = 0;  // the check time (seconds since the epoch), for `expired-exception`
  /// Upper bound on the checked-expression nodes of one rule, def, const or test after
  /// inlining defs; beyond it the unit is rejected instead of exhausting memory.
  uint32_t maxInlinedNodes = 200000;
};

/// Checks `ast`, reporting every front-end diagnostic of SPEC §6.1 except `syntax`.
/// Returns the program only when no error-severity diagnostic was reported by this call
/// (warnings are fine). Error diagnostics already in `diags` before the call do not count.
std::optional<CheckedProgram> check(const ast::Ast& ast, const SourceManager& sources, DiagnosticEngine& diags,
                                    const CheckOptions& options);

/// Like `check`, but always returns the (possibly partial) program, for the language
/// server: side tables and schema are filled as far as checking got. `ok` tells whether
/// the program is valid.
CheckedProgram checkForTools(const ast::Ast& ast, const SourceManager& sources, DiagnosticEngine& diags,
                             const CheckOptions& options, bool& ok);

}  // namespace pave::sema
