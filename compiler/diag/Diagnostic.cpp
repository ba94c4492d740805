#include "diag/Diagnostic.h"

#include <algorithm>

namespace pave {

std::string_view severityName(Severity s) {
  switch (s) {
    case Severity::Off: return "off";
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
  }
  return "error";
}

std::optional<Severity> parseSeverity(std::string_view s) {
  if (s == "off") return Severity::Off;
  if (s == "info") return Severity::Info;
  if (s == "warning") return Severity::Warning;
  if (s == "error") return Severity::Error;
  return std::nullopt;
}

constexpr bool kConfLint = true;
constexpr bool kConfFixed = false;

const std::vector<DiagInfo>& allDiagKinds() {
  static const std::vector<DiagInfo> kinds = {
#define PAVE_DIAG(Id, Code, Sev, Conf, Summary) {DiagKind::Id, Code, Severity::Sev, kConf##Conf, Summary},
#include "diag/kinds.def"
  };
  return kinds;
}

const DiagInfo& diagInfo(DiagKind kind) { return allDiagKinds()[static_cast<size_t>(kind)]; }

std::optional<DiagKind> diagKindFromCode(std::string_view code) {
  for (const DiagInfo& info : allDiagKinds())
    if (info.code == code) return info.kind;
  return std::nullopt;
}

void DiagnosticEngine::setSeverity(DiagKind kind, Severity severity) {
  overrides_.resize(allDiagKinds().size());
  overrides_[static_cast<size_t>(kind)] = severity;
}

DiagBuilder DiagnosticEngine::report(DiagKind kind, SourceRange range, std::string message) {
  Severity severity = diagInfo(kind).defaultSeverity;
  size_t index = static_cast<size_t>(kind);
  if (index < overrides_.size() && overrides_[index]) severity = *overrides_[index];
  diags_.push_back(Diagnostic{kind, severity, std::move(message), range, {}, {}, {}, {}, {}});
  return DiagBuilder(diags_.back());
}

bool DiagnosticEngine::hasErrors() const { return errorCount() > 0; }

size_t DiagnosticEngine::errorCount() const {
  return static_cast<size_t>(std::count_if(diags_.begin(), diags_.end(),
                                           [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

}  // namespace pave
