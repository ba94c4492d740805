// Semantic analysis: name resolution, type checking, flow typing, def inlining and const
// evaluation. Turns the AST of one compilation unit into a `CheckedProgram`.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

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
  /// When set, only the rules and tests of these files (FileId values) have their bodies
  /// checked (conditions, approvers, grants, annotations, test inputs and expectations);
  /// every declaration, the schema, consts and defs are checked in every file. The
  /// diagnostics and side tables of the other files' rules and tests are then incomplete:
  /// the language server uses this to re-check an edited file whose declarations did not
  /// change, keeping the other files' diagnostics of its last full check.
  std::optional<std::set<uint32_t>> bodyFiles;
  bool checksBodiesOf(FileId f) const { return !bodyFiles || bodyFiles->count(f.value) != 0; }
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
