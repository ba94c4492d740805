// Helpers for sema unit tests: parse sources (with the embedded std library) and check them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "sema/Program.h"
#include "sema/Sema.h"
#include "source/Source.h"

namespace pave::testing {

/// 2026-11-27T00:00:00Z, the check time of the conformance cases.
inline constexpr int64_t kNow = 1795737600;

/// The schema the conformance cases share (namespace `acme`). Rules written after it
/// start on line `kPreludeLines + 1`.
extern const char* const kPrelude;
extern const uint32_t kPreludeLines;

struct Checked {
  SourceManager sources;
  ast::Ast ast;
  DiagnosticEngine diags;
  std::optional<sema::CheckedProgram> program;
  bool parsed = true;

  bool ok() const { return program.has_value(); }
  /// Every diagnostic as `path:line: code: message`, one per line.
  std::string text() const;
  size_t count(std::string_view code) const;
  /// The first diagnostic with `code`, or null.
  const Diagnostic* find(std::string_view code) const;
  /// 1-based line of the first diagnostic with `code` (0 when absent).
  uint32_t line(std::string_view code) const;
  /// Line relative to the end of the prelude.
  uint32_t bodyLine(std::string_view code) const { return line(code) ? line(code) - kPreludeLines : 0; }
  std::string message(std::string_view code) const;

  const sema::RuleInfo& rule(std::string_view name) const;
  /// The rule's conjuncts, dumped and joined with " && ".
  std::string cond(std::string_view name) const;
};

/// Checks the given files (path, text) together with the std library.
std::unique_ptr<Checked> checkFiles(const std::vector<std::pair<std::string, std::string>>& files,
                                    int64_t now = kNow);
/// Checks `kPrelude + body` as `policy.pave`.
std::unique_ptr<Checked> checkBody(std::string_view body, int64_t now = kNow);

}  // namespace pave::testing
