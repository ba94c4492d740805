// Rule annotations (SPEC §3.2): `@controls`, `@severity`, `@allow_lint`.
#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {
constexpr std::string_view kControlsNamespace = "std.controls.";
}  // namespace

void Checker::checkControls(const ast::Annotation& a, RuleInfo& r) {
  for (ast::ExprId arg : a.args) {
    const ast::ExprNode& n = ast_.expr(arg);
    if (n.kind != ast::ExprKind::Name) {
      report(msg::ControlsTakesNames, n.range);
      continue;
    }
    Resolved res = resolve(n.name, false);
    if (res.kind == Resolved::Kind::Error) continue;
    bool isControl = res.kind == Resolved::Kind::EnumMember && res.consumed == ast_.name(n.name).numSegments &&
                     res.path.compare(0, kControlsNamespace.size(), kControlsNamespace) == 0;
    if (!isControl) {
      report(msg::NotAControl, n.range, ast_.nameText(n.name))
          .note("controls are members of the enums in `std.controls`: `OwaspNhi`, `NistCsf` and `ZeroTrust`");
      continue;
    }
    r.controls.push_back(res.path);
  }
}

void Checker::checkSeverity(const ast::Annotation& a, RuleInfo& r) {
  static const std::pair<std::string_view, SeverityLevel> kLevels[] = {
      {"low", SeverityLevel::Low}, {"medium", SeverityLevel::Medium},
      {"high", SeverityLevel::High}, {"critical", SeverityLevel::Critical}};
  if (a.args.size() != 1) {
    report(msg::SeverityTakesOneLevel, a.range);
    return;
  }
  const ast::ExprNode& n = ast_.expr(a.args[0]);
  std::string level = n.kind == ast::ExprKind::Name ? ast_.nameText(n.name) : std::string(sources_.slice(n.range));
  for (const auto& [name, value] : kLevels)
    if (name == level) {
      r.severity = value;
      return;
    }
  DiagBuilder d = report(msg::UnknownSeverity, n.range, level);
  d.note("use `low`, `medium`, `high` or `critical`");
  suggest(d, level, {"low", "medium", "high", "critical"}, n.range);
}

void Checker::checkAllowLint(const ast::Annotation& a, RuleInfo& r) {
  for (ast::ExprId arg : a.args) {
    const ast::ExprNode& n = ast_.expr(arg);
    if (n.kind != ast::ExprKind::StringLit) {
      report(msg::AllowLintTakesStrings, n.range);
      continue;
    }
    r.allowLints.emplace_back(ast_.str(n.symbol));
  }
}

void Checker::checkAnnotations(const DeclEntry& d, const ast::RuleDecl& rule, RuleInfo& r) {
  for (const ast::Annotation& a : rule.annotations) {
    std::string_view name = ast_.str(a.name);
    if (name == "controls") {
      checkControls(a, r);
    } else if (name == "severity") {
      checkSeverity(a, r);
    } else if (name == "allow_lint") {
      checkAllowLint(a, r);
    } else {
      DiagBuilder b = report(msg::UnknownAnnotationName, a.range, name);
      b.note("known annotations are `@controls`, `@severity` and `@allow_lint`");
      suggest(b, name, {"controls", "severity", "allow_lint"}, {});
    }
  }
}

}  // namespace pave::sema::internal
