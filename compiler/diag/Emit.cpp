#include "diag/Emit.h"

#include "diag/Group.h"
#include "support/Escape.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace pave {

namespace {

using ojson = nlohmann::ordered_json;

bool isContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t countCodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !isContinuationByte(c); }));
}

/// A range resolved to 1-based lines and code-point columns; `end` is just past the last
/// character.
struct Span {
  LineCol begin;
  LineCol end;
};

Span spanOf(const SourceManager& sources, SourceRange r) {
  uint32_t end = std::max(r.begin, r.end);
  return {sources.lineCol(r.file, r.begin), sources.lineCol(r.file, end)};
}

/// Re-serializes the witness compactly when it is JSON, else returns it unchanged.
std::string compactWitness(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return text;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ojson witnessValue(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ojson(text);
  return j;
}

std::string relatedText(const RelatedInfo& rel) {
  if (!rel.message.empty()) return rel.message;
  if (!rel.rule.empty()) return fmt::format("related rule `{}`", rel.rule);
  return "related location";
}

std::string dumpJson(const ojson& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- text ---------------------------------------------------------------------------------

struct Palette {
  bool on;
  std::string_view bold() const { return on ? "\x1b[1m" : ""; }
  std::string_view reset() const { return on ? "\x1b[0m" : ""; }
  std::string_view caret() const { return on ? "\x1b[1;32m" : ""; }
  std::string_view note() const { return on ? "\x1b[1;36m" : ""; }
  std::string_view severity(Severity s) const {
    if (!on) return "";
    switch (s) {
      case Severity::Error: return "\x1b[1;31m";
      case Severity::Warning: return "\x1b[1;35m";
      default: return "\x1b[1;36m";
    }
  }
};

std::string locationPrefix(const SourceManager& sources, SourceRange r) {
  if (!r.valid()) return "pave";
  LineCol lc = sources.lineCol(r.file, r.begin);
  return fmt::format("{}:{}:{}", sources.path(r.file), lc.line, lc.column);
}

/// Escapes characters that would break the one-line `fix:` rendering.
std::string escapeInline(std::string_view s) {
  return escapeChars(s, {{'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}});
}

/// The source line of the range's start and a caret/tilde underline (clipped to that line).
void emitSnippet(std::ostream& out, const SourceManager& sources, SourceRange r, const Palette& p) {
  std::string_view fileText = sources.text(r.file);
  uint32_t size = static_cast<uint32_t>(fileText.size());
  uint32_t begin = std::min(r.begin, size);
  uint32_t end = std::clamp(r.end, begin, size);
  LineCol lc = sources.lineCol(r.file, begin);
  std::string_view line = sources.lineText(r.file, lc.line);
  uint32_t lineStart = begin, lineEnd = begin;
  if (line.data() != nullptr && line.data() >= fileText.data() && line.data() <= fileText.data() + size) {
    lineStart = static_cast<uint32_t>(line.data() - fileText.data());
    lineEnd = lineStart + static_cast<uint32_t>(line.size());
  }

  uint32_t caretBegin = std::clamp(begin, lineStart, lineEnd);
  uint32_t caretEnd = std::clamp(end, caretBegin, lineEnd);

  std::string padding;
  for (uint32_t i = lineStart; i < caretBegin; ++i) {
    char c = fileText[i];
    if (isContinuationByte(c)) continue;
    padding += c == '\t' ? '\t' : ' ';
  }
  size_t width = countCodePoints(fileText.substr(caretBegin, caretEnd - caretBegin));
  std::string underline = "^";
  if (width > 1) underline.append(width - 1, '~');

  out << line << "\n" << padding << p.caret() << underline << p.reset() << "\n";
}

void emitText(std::ostream& out, const std::vector<Diagnostic>& diags, const SourceManager& sources,
              const EmitOptions& options) {
  Palette p{options.color};
  // People read the conflicts of one rule as one finding (the summary still counts pairs,
  // as JSON and SARIF list them).
  const std::vector<Diagnostic> shown = groupConflicts(diags, SIZE_MAX);
  for (const Diagnostic& d : shown) {
    out << p.bold() << locationPrefix(sources, d.range) << ":" << p.reset() << " " << p.severity(d.severity)
        << severityName(d.severity) << "[" << d.code() << "]:" << p.reset() << " " << p.bold() << d.message
        << p.reset() << "\n";
    if (d.range.valid()) emitSnippet(out, sources, d.range, p);
    for (const std::string& n : d.notes) out << "  " << p.note() << "note:" << p.reset() << " " << n << "\n";
    for (const RelatedInfo& rel : d.related)
      out << p.bold() << locationPrefix(sources, rel.range) << ":" << p.reset() << " " << p.note() << "note:"
          << p.reset() << " " << relatedText(rel) << "\n";
    for (const FixIt& f : d.fixes)
      out << "  " << p.note() << "fix:" << p.reset() << " " << f.title << ": replace with `"
          << escapeInline(f.replacement) << "`\n";
    if (d.witnessJson) out << "  " << p.note() << "witness:" << p.reset() << " " << compactWitness(*d.witnessJson) << "\n";
  }
  out << p.bold() << summaryLine(summarize(diags)) << p.reset() << "\n";
}

// ---- json (SPEC §7.5) ---------------------------------------------------------------------

void putRange(ojson& obj, const SourceManager& sources, SourceRange r, bool withEnd) {
  if (!r.valid()) return;
  Span s = spanOf(sources, r);
  obj["file"] = sources.path(r.file);
  obj["line"] = s.begin.line;
  obj["column"] = s.begin.column;
  if (withEnd) {
    obj["end_line"] = s.end.line;
    obj["end_column"] = s.end.column;
  }
}

ojson summaryJson(const DiagSummary& s) { return ojson{{"errors", s.errors}, {"warnings", s.warnings}, {"infos", s.infos}}; }

void emitJson(std::ostream& out, const std::vector<Diagnostic>& diags, const SourceManager& sources) {
  ojson list = ojson::array();
  for (const Diagnostic& d : diags) {
    ojson o = ojson::object();
    o["code"] = d.code();
    o["severity"] = severityName(d.severity);
    o["message"] = d.message;
    putRange(o, sources, d.range, /*withEnd=*/true);
    if (!d.rule.empty()) o["rule"] = d.rule;
    if (!d.related.empty()) {
      ojson related = ojson::array();
      for (const RelatedInfo& rel : d.related) {
        ojson r = ojson::object();
        if (!rel.rule.empty()) r["rule"] = rel.rule;
        putRange(r, sources, rel.range, /*withEnd=*/false);
        if (!rel.message.empty()) r["message"] = rel.message;
        related.push_back(std::move(r));
      }
      o["related"] = std::move(related);
    }
    if (!d.notes.empty()) o["notes"] = d.notes;
    if (!d.fixes.empty()) {
      ojson fixes = ojson::array();
      for (const FixIt& f : d.fixes) {
        ojson fx = ojson::object();
        fx["title"] = f.title;
        putRange(fx, sources, f.range, /*withEnd=*/true);
        fx["replacement"] = f.replacement;
        fixes.push_back(std::move(fx));
      }
      o["fixes"] = std::move(fixes);
    }
    if (d.witnessJson) o["witness"] = witnessValue(*d.witnessJson);
    list.push_back(std::move(o));
  }
  ojson root = ojson::object();
  root["diagnostics"] = std::move(list);
  root["summary"] = summaryJson(summarize(diags));
  out << dumpJson(root) << "\n";
}

// ---- sarif 2.1.0 --------------------------------------------------------------------------

std::string_view sarifLevel(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Info: return "note";
    case Severity::Off: return "none";
  }
  return "none";
}

/// A relative URI reference for a path: forward slashes, and percent-escapes for the few
/// characters that would change how a URI parses. Non-ASCII text is kept (an IRI).
std::string artifactUri(std::string_view path) {
  std::string p(path);
  std::replace(p.begin(), p.end(), '\\', '/');
  std::string out;
  // A Windows drive path (C:/x) would read as a URI scheme.
  if (p.size() >= 2 && p[1] == ':' && std::isalpha(static_cast<unsigned char>(p[0]))) out = "file:///";
  for (char c : p) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '%' || c == '#' || c == '?' || c == '[' || c == ']' || c == '"' ||
        c == '<' || c == '>' || c == '`' || c == '{' || c == '}' || c == '|' || c == '^')
      out += fmt::format("%{:02X}", u);
    else
      out += c;
  }
  return out;
}

ojson sarifRegion(const SourceManager& sources, SourceRange r) {
  Span s = spanOf(sources, r);
  return ojson{{"startLine", s.begin.line},
               {"startColumn", s.begin.column},
               {"endLine", s.end.line},
               {"endColumn", s.end.column}};
}

ojson sarifPhysical(const SourceManager& sources, SourceRange r) {
  return ojson{{"artifactLocation", {{"uri", artifactUri(sources.path(r.file))}}},
               {"region", sarifRegion(sources, r)}};
}

ojson sarifRule(const DiagInfo& info) {
  ojson rule = ojson::object();
  rule["id"] = info.code;
  rule["name"] = info.code;
  rule["shortDescription"] = {{"text", info.summary}};
  rule["defaultConfiguration"] = {{"level", sarifLevel(info.defaultSeverity)}};
  return rule;
}

void emitSarif(std::ostream& out, const std::vector<Diagnostic>& diags, const SourceManager& sources,
               const EmitOptions& options) {
  ojson driver = ojson::object();
  driver["name"] = "pave";
  if (!options.toolVersion.empty()) driver["version"] = options.toolVersion;
  ojson rules = ojson::array();
  for (const DiagInfo& info : allDiagKinds()) rules.push_back(sarifRule(info));
  driver["rules"] = std::move(rules);

  ojson results = ojson::array();
  for (const Diagnostic& d : diags) {
    ojson res = ojson::object();
    res["ruleId"] = d.code();
    res["ruleIndex"] = static_cast<size_t>(d.kind);
    res["level"] = sarifLevel(d.severity);
    res["message"] = {{"text", d.message}};
    if (d.range.valid()) {
      ojson loc = ojson::object();
      loc["physicalLocation"] = sarifPhysical(sources, d.range);
      if (!d.rule.empty()) loc["logicalLocations"] = ojson::array({{{"fullyQualifiedName", d.rule}}});
      res["locations"] = ojson::array({std::move(loc)});
    }
    if (!d.related.empty()) {
      ojson related = ojson::array();
      int id = 0;
      for (const RelatedInfo& rel : d.related) {
        ojson loc = ojson::object();
        loc["id"] = id++;
        if (rel.range.valid()) loc["physicalLocation"] = sarifPhysical(sources, rel.range);
        if (!rel.rule.empty()) loc["logicalLocations"] = ojson::array({{{"fullyQualifiedName", rel.rule}}});
        loc["message"] = {{"text", relatedText(rel)}};
        related.push_back(std::move(loc));
      }
      res["relatedLocations"] = std::move(related);
    }
    ojson fixes = ojson::array();
    for (const FixIt& f : d.fixes) {
      if (!f.range.valid()) continue;
      ojson replacement = {{"deletedRegion", sarifRegion(sources, f.range)},
                           {"insertedContent", {{"text", f.replacement}}}};
      ojson change = {{"artifactLocation", {{"uri", artifactUri(sources.path(f.range.file))}}},
                      {"replacements", ojson::array({std::move(replacement)})}};
      fixes.push_back({{"description", {{"text", f.title}}}, {"artifactChanges", ojson::array({std::move(change)})}});
    }
    if (!fixes.empty()) res["fixes"] = std::move(fixes);
    ojson props = ojson::object();
    if (!d.rule.empty()) props["rule"] = d.rule;
    if (!d.notes.empty()) props["notes"] = d.notes;
    if (d.witnessJson) props["witness"] = witnessValue(*d.witnessJson);
    if (!props.empty()) res["properties"] = std::move(props);
    results.push_back(std::move(res));
  }

  ojson run = ojson::object();
  run["tool"] = {{"driver", std::move(driver)}};
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = std::move(results);

  ojson root = ojson::object();
  root["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  root["version"] = "2.1.0";
  root["runs"] = ojson::array({std::move(run)});
  out << dumpJson(root) << "\n";
}

// ---- github workflow commands -------------------------------------------------------------

std::string escapeGithubData(std::string_view s) {
  return escapeChars(s, {{'%', "%25"}, {'\r', "%0D"}, {'\n', "%0A"}});
}

std::string escapeGithubProperty(std::string_view s) {
  return escapeChars(s, {{'%', "%25"}, {'\r', "%0D"}, {'\n', "%0A"}, {':', "%3A"}, {',', "%2C"}});
}

std::string_view githubCommand(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    default: return "notice";
  }
}

void emitGithub(std::ostream& out, const std::vector<Diagnostic>& diags, const SourceManager& sources) {
  for (const Diagnostic& d : diags) {
    std::string props;
    if (d.range.valid()) {
      Span s = spanOf(sources, d.range);
      std::string path = sources.path(d.range.file);
      std::replace(path.begin(), path.end(), '\\', '/');
      props = fmt::format("file={},line={},", escapeGithubProperty(path), s.begin.line);
      // GitHub accepts columns only for annotations on a single line.
      if (s.begin.line == s.end.line)
        props += fmt::format("col={},endLine={},endColumn={},", s.begin.column, s.end.line, s.end.column);
      else
        props += fmt::format("endLine={},", s.end.line);
    }
    props += "title=" + escapeGithubProperty(fmt::format("pave[{}]", d.code()));

    std::string message = d.message;
    for (const std::string& n : d.notes) message += "\nnote: " + n;
    for (const RelatedInfo& rel : d.related) message += fmt::format("\n{}: note: {}", locationPrefix(sources, rel.range), relatedText(rel));
    for (const FixIt& f : d.fixes) message += fmt::format("\nfix: {}: replace with `{}`", f.title, escapeInline(f.replacement));
    if (d.witnessJson) message += "\nwitness: " + compactWitness(*d.witnessJson);

    out << "::" << githubCommand(d.severity) << " " << props << "::" << escapeGithubData(message) << "\n";
  }
}

}  // namespace

std::optional<DiagFormat> parseDiagFormat(std::string_view name) {
  if (name == "text") return DiagFormat::Text;
  if (name == "json") return DiagFormat::Json;
  if (name == "sarif") return DiagFormat::Sarif;
  if (name == "github") return DiagFormat::Github;
  return std::nullopt;
}

DiagSummary summarize(const std::vector<Diagnostic>& diags) {
  DiagSummary s;
  for (const Diagnostic& d : diags) {
    switch (d.severity) {
      case Severity::Error: ++s.errors; break;
      case Severity::Warning: ++s.warnings; break;
      case Severity::Info: ++s.infos; break;
      case Severity::Off: break;
    }
  }
  return s;
}

std::string summaryLine(const DiagSummary& s) {
  std::vector<std::string> parts;
  auto add = [&](size_t n, std::string_view one, std::string_view many) {
    if (n > 0) parts.push_back(fmt::format("{} {}", n, n == 1 ? one : many));
  };
  add(s.errors, "error", "errors");
  add(s.warnings, "warning", "warnings");
  add(s.infos, "info", "infos");
  if (parts.empty()) return "no problems found";
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) out += ", " + parts[i];
  return out;
}

void emitDiagnostics(std::ostream& out, const std::vector<Diagnostic>& diags, const SourceManager& sources,
                     DiagFormat format, const EmitOptions& options) {
  switch (format) {
    case DiagFormat::Text: emitText(out, diags, sources, options); break;
    case DiagFormat::Json: emitJson(out, diags, sources); break;
    case DiagFormat::Sarif: emitSarif(out, diags, sources, options); break;
    case DiagFormat::Github: emitGithub(out, diags, sources); break;
  }
}

}  // namespace pave
