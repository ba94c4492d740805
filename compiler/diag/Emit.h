// Diagnostic emitters (SPEC §6.3, §7.5): human text, JSON, SARIF 2.1.0 and GitHub
// workflow-command annotations. Callers filter (configured severities) and sort first.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "diag/Diagnostic.h"
#include "source/Source.h"

namespace pave {

enum class DiagFormat { Text, Json, Sarif, Github };
/// "text" | "json" | "sarif" | "github"; anything else is nullopt.
std::optional<DiagFormat> parseDiagFormat(std::string_view name);

struct EmitOptions {
  bool color = false;       // ANSI colors in the text format
  std::string toolVersion;  // tool.driver.version in SARIF (omitted when empty)
};

/// Writes all diagnostics (already filtered/sorted by the caller) in the given format.
void emitDiagnostics(std::ostream& out, const std::vector<Diagnostic>& diags, const SourceManager& sources,
                     DiagFormat format, const EmitOptions& options);

/// The summary counts {errors, warnings, infos}; diagnostics turned `off` are not counted.
struct DiagSummary {
  size_t errors = 0, warnings = 0, infos = 0;
};
DiagSummary summarize(const std::vector<Diagnostic>& diags);

/// The text-format summary line: "2 errors, 1 warning", or "no problems found".
std::string summaryLine(const DiagSummary& summary);

}  // namespace pave
