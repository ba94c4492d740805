// Diagnostics and quick fixes in LSP form.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "lsp/Features.h"
#include "stdlib/Stdlib.h"

namespace fs = std::filesystem;

namespace pave::lsp {

using json = nlohmann::json;

namespace {

/// The standard library lives in the binary; definitions inside it are shown from a copy
/// written once to the user's cache folder.
std::string stdlibCopy(const std::string& path) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg) : home && *home ? fs::path(home) / ".cache" : fs::temp_directory_path();
  fs::path target = base / "pave" / ("stdlib-" PAVE_VERSION) / path.substr(kStdlibPrefix.size());
  std::error_code ec;
  if (fs::exists(target, ec)) return target.string();
  for (const EmbeddedFile& f : stdlibFiles()) {
    if (f.path != path) continue;
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary);
    out.write(f.text.data(), static_cast<std::streamsize>(f.text.size()));
    if (!out) return {};
    return target.string();
  }
  return {};
}

int severityCode(Severity s) {
  switch (s) {
    case Severity::Error: return 1;
    case Severity::Warning: return 2;
    default: return 3;
  }
}

json fixJson(const Snapshot& snap, const FixIt& fix) {
  json loc = locationJson(snap, fix.range);
  return {{"title", fix.title}, {"uri", loc["uri"]}, {"range", loc["range"]}, {"newText", fix.replacement}};
}

}  // namespace

json locationJson(const Snapshot& snap, SourceRange r) {
  if (!r.valid() || r.file.value >= snap.sources.size()) return nullptr;
  // Path → URI, remembered: a grouped finding has a location per related rule.
  static std::mutex mutex;
  static std::map<std::string, std::string> uris;
  const std::string& path = snap.sources.path(r.file);
  std::string uri;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = uris.find(path);
    if (it != uris.end()) uri = it->second;
  }
  if (uri.empty()) {
    std::string file = isStdlibPath(path) ? stdlibCopy(path) : path;
    if (file.empty()) return nullptr;
    uri = pathToUri(fs::absolute(file).lexically_normal().string());
    std::lock_guard<std::mutex> lock(mutex);
    uris.emplace(path, uri);
  }
  return {{"uri", uri}, {"range", snap.lineIndex(r.file).range(r.begin, r.end)}};
}

json diagnosticJson(const Snapshot& snap, const Diagnostic& d) {
  std::string message = d.message;
  for (const std::string& note : d.notes) message += "\nnote: " + note;
  json out = {{"range", snap.lineIndex(d.range.file).range(d.range.begin, d.range.end)},
              {"severity", severityCode(d.severity)},
              {"code", std::string(d.code())},
              {"source", "pave"},
              {"message", message}};
  json related = json::array();
  for (const RelatedInfo& r : d.related) {
    json loc = locationJson(snap, r.range);
    if (loc.is_null()) continue;
    std::string text = !r.message.empty() ? r.message : !r.rule.empty() ? "rule `" + r.rule + "`" : "related";
    related.push_back({{"location", loc}, {"message", text}});
  }
  if (!related.empty()) out["relatedInformation"] = related;
  json data = json::object();
  if (!d.rule.empty()) data["rule"] = d.rule;
  if (d.witnessJson) {
    json witness = json::parse(*d.witnessJson, nullptr, /*allow_exceptions=*/false);
    data["witness"] = witness.is_discarded() ? json(*d.witnessJson) : witness;
  }
  if (!d.fixes.empty()) {
    data["fixes"] = json::array();
    for (const FixIt& f : d.fixes) data["fixes"].push_back(fixJson(snap, f));
  }
  if (!data.empty()) out["data"] = data;
  return out;
}

namespace {

std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void appendRange(std::string& out, const LineIndex& lines, uint32_t begin, uint32_t end) {
  Position b = lines.position(begin), e = lines.position(std::max(begin, end));
  out += R"({"end":{"character":)" + std::to_string(e.character) + R"(,"line":)" + std::to_string(e.line) +
         R"(},"start":{"character":)" + std::to_string(b.character) + R"(,"line":)" + std::to_string(b.line) + "}}";
}

}  // namespace

DiagnosticText diagnosticText(const Snapshot& snap, const Diagnostic& d) {
  // The keys in the order `json` (a sorted map) dumps them.
  json full = diagnosticJson(snap, d);
  DiagnosticText out;
  std::string head = "{";
  for (const char* key : {"code", "data", "message"})
    if (full.contains(key)) head += dumped(json(key)) + ":" + dumped(full[key]) + ",";
  out.pieces.push_back(head + R"("range":)");
  std::string tail;
  if (full.contains("relatedInformation")) {
    tail = R"(,"relatedInformation":[)";
    size_t item = 0;
    for (size_t i = 0; i < d.related.size(); ++i) {
      json loc = locationJson(snap, d.related[i].range);
      if (loc.is_null()) continue;
      const json& info = full["relatedInformation"][item];
      tail += std::string(item++ ? "," : "") + R"({"location":{"range":)";
      out.pieces.push_back(std::move(tail));
      out.slots.push_back(i);
      tail = R"(,"uri":)" + dumped(loc["uri"]) + R"(},"message":)" + dumped(info["message"]) + "}";
    }
    tail += "]";
  }
  tail += R"(,"severity":)" + dumped(full["severity"]) + R"(,"source":"pave"})";
  out.pieces.push_back(std::move(tail));
  return out;
}

void appendDiagnostic(std::string& out, const DiagnosticText& text, const Snapshot& snap, const Diagnostic& d) {
  out += text.pieces[0];
  appendRange(out, snap.lineIndex(d.range.file), d.range.begin, d.range.end);
  for (size_t k = 0; k < text.slots.size(); ++k) {
    out += text.pieces[k + 1];
    SourceRange r = d.related[text.slots[k]].range;
    appendRange(out, snap.lineIndex(r.file), r.begin, r.end);
  }
  out += text.pieces.back();
}

std::string diagnosticTextKey(const Snapshot& snap, const Diagnostic& d) {
  std::string key = std::string(d.code()) + "\n" + std::to_string(int(d.severity)) + "\n" + d.rule + "\n" + d.message;
  for (const std::string& n : d.notes) key += "\nnote " + n;
  for (const RelatedInfo& r : d.related)
    key += "\nrelated " +
           (r.range.valid() && r.range.file.value < snap.sources.size() ? snap.sources.path(r.range.file) : "-") + " " +
           r.rule + " " + r.message;
  if (d.witnessJson) key += "\nwitness " + *d.witnessJson;
  for (const FixIt& f : d.fixes) key += "\nfix " + f.title;  // (findings carry none)
  return key;
}

json publishParams(const Snapshot& snap, const std::string& path, const std::vector<const Diagnostic*>& diags) {
  json list = json::array();
  for (const Diagnostic* d : diags) list.push_back(diagnosticJson(snap, *d));
  std::string absolute = fs::absolute(path).lexically_normal().string();
  return {{"uri", pathToUri(absolute)}, {"diagnostics", std::move(list)}};
}

json codeActions(const DocView& doc, const json& params) {
  const LineIndex& lines = doc.lines();
  uint32_t begin = lines.offset(positionFrom(params.at("range").at("start")));
  uint32_t end = lines.offset(positionFrom(params.at("range").at("end")));
  json actions = json::array();
  for (const Diagnostic& d : doc.snap.diagnostics) {
    if (d.range.file != doc.file || d.fixes.empty()) continue;
    if (d.range.end < begin || d.range.begin > end) continue;
    for (const FixIt& fix : d.fixes) {
      json loc = locationJson(doc.snap, fix.range);
      if (loc.is_null()) continue;
      json edit = {{"changes", {{loc["uri"].get<std::string>(), json::array({{{"range", loc["range"]}, {"newText", fix.replacement}}})}}}};
      actions.push_back({{"title", fix.title},
                         {"kind", "quickfix"},
                         {"diagnostics", json::array({diagnosticJson(doc.snap, d)})},
                         {"isPreferred", d.fixes.size() == 1},
                         {"edit", edit}});
    }
  }
  return actions;
}

}  // namespace pave::lsp
