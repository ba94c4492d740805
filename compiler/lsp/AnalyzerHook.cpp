// HOOK(analysis): where the language server runs the analyzer (SPEC §6.2).
//
// compiler/analysis is being written in parallel. When its entry point
//   bool analysis::analyze(const sema::CheckedProgram&, const SourceManager&, DiagnosticEngine&,
//                          const AnalysisOptions&, AnalysisStats*, std::string& error)
// is linked into pave_compiler, replace the body below with:
//
//   if (!snap.programOk || cancelled) return {};
//   DiagnosticEngine diags;
//   // pave.toml severities: the same loop as in driver/Compile.cpp.
//   analysis::AnalysisOptions options;
//   options.now = snap.now;
//   std::string error;
//   if (!analysis::analyze(*snap.program, snap.sources, diags, options, nullptr, error)) return {};
//   return std::move(diags.all());
//
// and, if the analyzer learns to take a cancellation flag, pass `cancelled` through.
// Everything else (debouncing, cancellation by newer edits, merging the findings with the
// front-end diagnostics and publishing them) is in place: see AnalysisWorker and
// Server::onAnalysis.
#include "lsp/AnalysisWorker.h"

namespace pave::lsp {

std::vector<Diagnostic> runAnalyzer(const Snapshot& snap, const std::atomic<bool>& cancelled) {
  (void)snap;
  (void)cancelled;
  return {};
}

}  // namespace pave::lsp
