// Diagnostics: the registry of kinds, one reported diagnostic, and the engine that
// collects them. Emitters (text, json, sarif, github) live in diag/Emit.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "source/Source.h"

namespace pave {

enum class Severity : uint8_t { Off, Info, Warning, Error };
std::string_view severityName(Severity s);
std::optional<Severity> parseSeverity(std::string_view s);  // off|info|warning|error

enum class DiagKind : uint8_t {
#define PAVE_DIAG(Id, Code, Sev, Conf, Summary) Id,
#include "diag/kinds.def"
};

struct DiagInfo {
  DiagKind kind;
  std::string_view code;
  Severity defaultSeverity;
  bool lint;  // pave.toml may change its severity; `@allow_lint` may suppress it
  std::string_view summary;
};
/// Every registered kind, in registry order.
const std::vector<DiagInfo>& allDiagKinds();
const DiagInfo& diagInfo(DiagKind kind);
std::optional<DiagKind> diagKindFromCode(std::string_view code);

/// A textual replacement that fixes a diagnostic.
struct FixIt {
  std::string title;
  SourceRange range;
  std::string replacement;
};

struct RelatedInfo {
  std::string rule;  // qualified rule name, may be empty
  SourceRange range;
  std::string message;
};

struct Diagnostic {
  DiagKind kind;
  Severity severity;
  std::string message;
  SourceRange range;
  std::string rule;  // the rule the diagnostic is about (qualified), may be empty
  std::vector<RelatedInfo> related;
  std::vector<std::string> notes;
  std::vector<FixIt> fixes;
  std::optional<std::string> witnessJson;  // a complete input (SPEC §7.2), serialized

  std::string_view code() const { return diagInfo(kind).code; }
};

namespace msg {
template <typename... Args>
struct Message;  // diag/Messages.h
}

/// Builder returned by DiagnosticEngine::report, for chaining optional parts.
class DiagBuilder {
 public:
  explicit DiagBuilder(Diagnostic& d) : d_(d) {}
  DiagBuilder& rule(std::string name) { d_.rule = std::move(name); return *this; }
  DiagBuilder& related(std::string rule, SourceRange r, std::string message = {}) {
    d_.related.push_back({std::move(rule), r, std::move(message)});
    return *this;
  }
  DiagBuilder& note(std::string text) { d_.notes.push_back(std::move(text)); return *this; }
  DiagBuilder& fix(std::string title, SourceRange r, std::string replacement) {
    d_.fixes.push_back({std::move(title), r, std::move(replacement)});
    return *this;
  }
  DiagBuilder& witness(std::string json) { d_.witnessJson = std::move(json); return *this; }

 private:
  Diagnostic& d_;
};

class DiagnosticEngine {
 public:
  /// Reports a diagnostic with the kind's default severity and a message rendered earlier
  /// from the registry (an analyzer finding, a syntax error found while parsing); report
  /// sites use the typed overload below.
  DiagBuilder report(DiagKind kind, SourceRange range, std::string message);

  /// Reports a registered message (diag/messages.def, diag/Messages.h): its kind, its
  /// format filled with `args`, whose number and types are checked at compile time.
  template <typename... Args>
  DiagBuilder report(const msg::Message<Args...>& m, SourceRange range, std::type_identity_t<Args>... args) {
    return report(m.kind, range, m.render(args...));
  }

  /// Severities from pave.toml, applied as diagnostics are reported (lints only).
  void setSeverity(DiagKind kind, Severity severity);

  const std::vector<Diagnostic>& all() const { return diags_; }
  std::vector<Diagnostic>& all() { return diags_; }
  bool hasErrors() const;
  size_t errorCount() const;

 private:
  std::vector<Diagnostic> diags_;
  std::vector<std::optional<Severity>> overrides_;
};

}  // namespace pave
