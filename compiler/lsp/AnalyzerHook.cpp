// Where the language server runs the analyzer (SPEC §6.2) over an error-free snapshot.
// Debouncing, cancellation by newer edits and merging the findings with the front-end
// diagnostics are the business of AnalysisWorker and Server::onAnalysis.
#include <cstdlib>

#include "analysis/Analyzer.h"
#include "analysis/Cache.h"
#include "lsp/AnalysisWorker.h"

namespace pave::lsp {

std::vector<Diagnostic> runAnalyzer(const Snapshot& snap, const std::atomic<bool>& cancelled) {
  if (!snap.programOk || !snap.program || cancelled) return {};
  DiagnosticEngine diags;
  for (const auto& [code, severity] : snap.severities)
    if (auto kind = diagKindFromCode(code)) diags.setSeverity(*kind, severity);
  analysis::AnalysisOptions options;
  options.now = snap.now;
  options.threads = 1;  // leave the other cores to the editor and the front end
  if (!std::getenv("PAVE_NO_CACHE")) options.cacheDirectory = analysis::QueryCache::defaultDirectory();
  options.repository = snap.root;
  options.cancel = &cancelled;  // a newer edit or `exit` stops the run between and within queries
  std::string error;
  if (!analysis::analyze(*snap.program, snap.sources, diags, options, nullptr, error)) return {};
  return std::move(diags.all());
}

}  // namespace pave::lsp
