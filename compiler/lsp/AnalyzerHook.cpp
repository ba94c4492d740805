// Where the language server runs the analyzer (SPEC §6.2) over an error-free snapshot.
// Debouncing, cancellation by newer edits and merging the findings with the front-end
// diagnostics are the business of AnalysisWorker and Server::onAnalysis.
#include <algorithm>
#include <cstdlib>

#include "analysis/Analyzer.h"
#include "analysis/Cache.h"
#include "analysis/Query.h"
#include "lsp/AnalysisWorker.h"

namespace pave::lsp {

namespace {
const unsigned kTimeoutMs = analysis::AnalysisOptions{}.timeoutMs;
}

std::string analysisKey(const Snapshot& snap) {
  if (!snap.program) return {};
  const sema::CheckedProgram& p = *snap.program;
  analysis::Fingerprints fp = analysis::fingerprint(p, kTimeoutMs);
  std::string text = fp.options;
  // Findings name rules, not positions: a comment or a blank line changes none of this.
  for (size_t i = 0; i < fp.rules.size(); ++i) {
    text += "\nrule " + fp.rules[i];
    for (const std::string& lint : p.rules[i].allowLints) text += " allow_lint " + lint;
  }
  for (const std::string& t : fp.types) text += "\ntype " + t;
  text += "\ndata " + snap.dataKey;  // a table's data file changed
  for (const auto& [code, severity] : snap.severities) text += "\nlint " + code + "=" + std::string(severityName(severity));
  // `long-exception` and `expiring-exception` move with the clock, by the day at most.
  text += "\nday " + std::to_string(snap.now / 86400);
  return analysis::contentHash(text);
}

std::unique_ptr<analysis::Session> newSession(const std::string& root) {
  std::string directory = std::getenv("PAVE_NO_CACHE") ? std::string() : analysis::QueryCache::defaultDirectory();
  return std::make_unique<analysis::Session>(directory, root);
}

AnalysisRun runAnalyzer(const Snapshot& snap, const std::atomic<bool>& cancelled, const std::string& lastKey,
                        analysis::Session& session, const std::function<void(std::vector<Diagnostic>)>& early) {
  AnalysisRun run;
  if (!snap.programOk || !snap.program || cancelled) return run;
  run.key = analysisKey(snap);
  if (!lastKey.empty() && run.key == lastKey) {
    run.completed = run.unchanged = true;
    return run;
  }
  DiagnosticEngine diags;
  for (const auto& [code, severity] : snap.severities)
    if (auto kind = diagKindFromCode(code)) diags.setSeverity(*kind, severity);
  analysis::AnalysisOptions options;
  options.now = snap.now;
  options.timeoutMs = kTimeoutMs;
  options.threads = 1;  // leave the other cores to the editor and the front end
  options.session = &session;
  if (std::optional<FileId> edited = snap.edited.empty() ? std::nullopt : snap.fileOf(snap.edited)) {
    FileId file = *edited;
    options.first = [file](const sema::RuleInfo& r) { return r.range.file == file; };
    options.firstDone = early;
  }
  options.cancel = &cancelled;  // a newer edit or `exit` stops the run between and within queries
  std::string error;
  if (!analysis::analyze(*snap.program, snap.sources, diags, options, &run.stats, error)) return run;
  run.completed = true;
  run.findings = std::move(diags.all());
  return run;
}

}  // namespace pave::lsp
