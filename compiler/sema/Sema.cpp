// Entry points and the order of sema's phases.
#include "sema/Sema.h"

#include <algorithm>
#include <cctype>

#include "sema/internal/Checker.h"

namespace pave::sema {

using internal::Checker;

CheckedProgram checkForTools(const ast::Ast& ast, const SourceManager& sources, DiagnosticEngine& diags,
                             const CheckOptions& options, bool& ok) {
  size_t errorsBefore = diags.errorCount();
  CheckedProgram program;
  Checker checker(ast, sources, diags, options, program);
  checker.run();
  ok = diags.errorCount() == errorsBefore;
  return program;
}

std::optional<CheckedProgram> check(const ast::Ast& ast, const SourceManager& sources, DiagnosticEngine& diags,
                                    const CheckOptions& options) {
  bool ok = false;
  CheckedProgram program = checkForTools(ast, sources, diags, options, ok);
  if (!ok) return std::nullopt;
  return program;
}

namespace internal {

Checker::Checker(const ast::Ast& ast, const SourceManager& sources, DiagnosticEngine& diags,
                 const CheckOptions& options, CheckedProgram& program)
    : ast_(ast), sources_(sources), diags_(diags), options_(options), p_(program) {}

void Checker::run() {
  p_.astExprTypes.assign(ast_.exprs.size(), TypeId{});
  collectDecls();   // qualified names, duplicates, namespaces
  checkUses();      // `use` targets
  checkSchema();    // enums, principals, requests (and grants), context
  checkConstsAndDefs();
  checkRules();
  checkTests();
}

DiagBuilder Checker::reportRendered(DiagKind kind, SourceRange range, std::string message) {
  DiagBuilder d = diags_.report(kind, range, std::move(message));
  if (!unit_.scope.ruleName.empty()) d.rule(unit_.scope.ruleName);
  return d;
}

std::string Checker::text(SourceRange r) const {
  if (!r.valid()) return {};
  std::string s(sources_.slice(r));
  // Collapse whitespace runs so that multi-line expressions read well in one message.
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > 60) out = out.substr(0, 57) + "...";
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1])) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void Checker::suggest(DiagBuilder& d, std::string_view name, const std::vector<std::string>& candidates,
                      SourceRange r) {
  const std::string* best = nullptr;
  // Allow one edit for short names, about a third of the letters for longer ones.
  size_t bestDist = (name.size() <= 3 ? 1 : std::max<size_t>(2, name.size() / 3)) + 1;
  for (const std::string& c : candidates) {
    if (c == name) continue;
    size_t dist = editDistance(name, c);
    if (dist >= name.size()) continue;  // not a typo of `name`, just another name
    if (dist < bestDist || (dist == bestDist && best && c < *best)) {
      if (dist < bestDist) bestDist = dist;
      best = &c;
    }
  }
  if (!best) return;
  d.note("did you mean " + bt(*best) + "?");
  if (r.valid()) d.fix("change to " + bt(*best), r, *best);
}

}  // namespace internal
}  // namespace pave::sema
