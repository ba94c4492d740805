// `pave fmt`: one canonical layout for Pave sources (SPEC §9.2).
//
// The formatter reads the token stream (comments included) for what is written and the AST
// for structure, then rewrites only whitespace — and trailing commas, which the grammar
// makes optional. It checks its own output against the input token by token, so a bug can
// never change what a policy means.
#pragma once

#include <cstdint>
#include <string>

#include "diag/Diagnostic.h"
#include "source/Source.h"

namespace pave::format {

struct FormatOptions {
  uint32_t width = 100;     // the line width that decides one-line versus broken layouts
  uint32_t fillWidth = 80;  // where filled lines (test inputs) wrap
};

struct FormatResult {
  bool ok = false;            // false: a syntax error (reported) or an internal failure
  std::string text;           // the formatted text when ok
  std::string internalError;  // set when the output failed the self-check (a formatter bug)
};

/// Formats one file of `sources`. Syntax errors are reported to `diags` and leave
/// `ok` false; other diagnostics of the parser (invalid literals) are not reported:
/// formatting does not judge meaning.
FormatResult formatFile(const SourceManager& sources, FileId file, DiagnosticEngine& diags,
                        const FormatOptions& options = {});

/// Convenience for callers that hold text only (the language server).
FormatResult formatText(std::string path, std::string text, const FormatOptions& options = {});

}  // namespace pave::format
