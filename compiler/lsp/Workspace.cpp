#include "lsp/Workspace.h"

#include <algorithm>
#include <filesystem>

#include "data/Tables.h"
#include "pipeline/Compile.h"
#include "pipeline/Files.h"
#include "sema/Sema.h"
#include "stdlib/Stdlib.h"
#include "syntax/Parser.h"

namespace fs = std::filesystem;

namespace pave::lsp {

std::optional<FileId> Snapshot::fileOf(const std::string& path) const {
  auto it = shown.find(path);
  if (it == shown.end()) return std::nullopt;
  return it->second;
}

const ast::SourceFile* Snapshot::astFile(FileId f) const {
  for (const ast::SourceFile& file : ast.files)
    if (file.file == f) return &file;
  return nullptr;
}

namespace {

/// A type with its ids and enum members: rows read for one program are valid for another
/// only when these are equal (the rows' values carry type ids).
std::string typeSignature(const sema::CheckedProgram& p, sema::TypeId t, int depth = 0) {
  if (!t.valid() || t.value >= p.types.size() || depth > 8) return "?";
  const sema::Type& ty = p.types.get(t);
  std::string s = std::to_string(t.value) + ":" + std::to_string(int(ty.kind)) + ":" + std::to_string(ty.index);
  if (ty.kind == sema::TypeKind::Enum && ty.index < p.enums.size())
    for (const std::string& m : p.enums[ty.index].members) s += "," + m;
  if (ty.elem.valid()) s += "<" + typeSignature(p, ty.elem, depth + 1) + ">";
  return s;
}

std::string recordSignature(const sema::CheckedProgram& p, const sema::TableInfo& table) {
  const sema::RecordInfo& rec = p.records[table.record.value];
  std::string s = typeSignature(p, table.type) + " " + rec.name;
  for (const sema::AttrInfo& a : rec.attrs) s += " " + a.name + (a.optional ? "?" : "") + "=" + typeSignature(p, a.type);
  return s;
}

/// The file's modification time and size, or "-" when it cannot be read.
std::string fileStamp(const std::string& file) {
  std::error_code ec;
  auto time = fs::last_write_time(file, ec);
  if (ec) return "-";
  auto size = fs::file_size(file, ec);
  if (ec) return "-";
  return std::to_string(time.time_since_epoch().count()) + "/" + std::to_string(size);
}

}  // namespace

void Unit::loadTables(Snapshot& s, sema::CheckedProgram& program, const std::string& root, DiagnosticEngine& diags) {
  for (sema::TableInfo& table : program.tables) {
    if (program.types.isError(table.type) || table.path.empty() || !table.record.valid() ||
        table.record.value >= program.records.size())
      continue;
    std::string file = (fs::path(root.empty() ? "." : root) / table.path).lexically_normal().string();
    std::string key = file + "\n" + fileStamp(file) + "\n" + recordSignature(program, table);
    s.dataKey += key + "\n";
    auto it = tables_.find(key);
    std::optional<FileId> shown;
    if (it == tables_.end()) {
      // Read this table alone: the program's other tables are in the cache or read next.
      CachedTable entry;
      DiagnosticEngine local;
      size_t before = s.sources.size();
      std::vector<sema::TableInfo> one;
      one.push_back(std::move(table));
      std::swap(program.tables, one);
      data::loadTables(program, root, s.sources, local);
      std::swap(program.tables, one);
      table = std::move(one.front());
      entry.data = table.data;
      if (s.sources.size() > before) {
        shown = FileId{static_cast<uint32_t>(before)};
        entry.file = s.sources.path(*shown);
        entry.text = std::string(s.sources.text(*shown));
      }
      for (Diagnostic& d : local.all()) {
        entry.inDataFile.push_back(shown && d.range.file == *shown);
        entry.diags.push_back(std::move(d));
      }
      it = tables_.emplace(key, std::move(entry)).first;
    } else {
      table.data = it->second.data;
      if (!it->second.file.empty()) shown = s.sources.add(it->second.file, it->second.text);
    }
    CachedTable& entry = it->second;
    entry.lastUse = buildCount_;
    if (shown) s.dataFiles[entry.file] = *shown;
    for (size_t i = 0; i < entry.diags.size(); ++i) {
      Diagnostic d = entry.diags[i];
      if (entry.inDataFile[i] && shown) d.range.file = *shown;
      else d.range = table.pathRange.valid() ? table.pathRange : table.range;
      diags.all().push_back(std::move(d));
    }
  }
  for (auto it = tables_.begin(); it != tables_.end();) it = it->second.lastUse == buildCount_ ? std::next(it) : tables_.erase(it);
}

bool Unit::contains(const std::string& path) const {
  if (singleFile_) return path == root_;
  std::string prefix = root_.empty() || root_.back() == '/' ? root_ : root_ + "/";
  return path.compare(0, prefix.size(), prefix) == 0;
}

void Unit::invalidate(const std::string& path) {
  disk_.erase(path);
  if (fs::path(path).filename() == "pave.toml") config_.reset();
  dirty = true;
}

std::vector<std::string> Unit::sourceFiles(const DocumentStore& docs) const {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::exists(root_, ec)) collectSourceFiles({root_}, files);
  for (const auto& [uri, doc] : docs.all()) {
    bool pave = fs::path(doc.path).extension() == ".pave";
    if (!doc.path.empty() && pave && contains(doc.path)) files.push_back(doc.path);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

const std::string* Unit::diskText(const std::string& path) {
  auto it = disk_.find(path);
  if (it != disk_.end()) return &it->second;
  std::string text;
  if (readFile(path, text)) return nullptr;
  return &(disk_[path] = std::move(text));
}

void Unit::addFile(Snapshot& s, DiagnosticEngine& diags, const std::string& path, const std::string& text) {
  FileId id = s.sources.add(path, text);
  s.shown[path] = id;
  DiagnosticEngine local;
  bool ok = parseCached(s, id, path, text, local);
  for (Diagnostic& d : local.all()) diags.all().push_back(std::move(d));
  if (ok) {
    s.current.insert(id.value);
    auto last = lastGood_.find(path);
    if (last == lastGood_.end() || last->second != text) lastGood_[path] = text;
    return;
  }
  // Check the rest of the unit against the file's last text that parsed, so that one
  // half-typed line does not turn every other file red.
  auto last = lastGood_.find(path);
  if (last == lastGood_.end()) return;
  FileId stale = s.sources.add(path, last->second);
  DiagnosticEngine ignored;
  parseCached(s, stale, path, last->second, ignored);
}

bool Unit::parseCached(Snapshot& s, FileId file, const std::string& key, const std::string& text,
                       DiagnosticEngine& diags, bool fromStdlib) {
  std::vector<std::unique_ptr<CachedParse>>& entries = parses_[key];
  CachedParse* hit = nullptr;
  for (auto& e : entries)
    if (e->text == text) hit = e.get();
  if (!hit) {
    // Keep two parses per file: the current text and the last one that parsed.
    if (entries.size() >= 2) {
      auto oldest = std::min_element(entries.begin(), entries.end(),
                                     [](const auto& a, const auto& b) { return a->lastUse < b->lastUse; });
      entries.erase(oldest);
    }
    auto entry = std::make_unique<CachedParse>();
    entry->text = text;
    entry->parsed = syntax::parseText(entry->text);
    hit = entry.get();
    entries.push_back(std::move(entry));
  }
  hit->lastUse = buildCount_;
  return syntax::convertParsed(*hit->parsed, s.ast, file, diags, fromStdlib);
}

std::shared_ptr<const Snapshot> Unit::build(const DocumentStore& docs, uint64_t generation) {
  auto s = std::make_shared<Snapshot>();
  s->generation = generation;
  s->root = root_;
  s->now = currentTime();
  std::string configRoot = singleFile_ ? fs::path(root_).parent_path().string() : root_;
  if (!config_) {
    config_.emplace();
    configError_.clear();
    if (auto err = loadConfig(configRoot, *config_)) configError_ = *err;
  }
  s->configError = configError_;
  s->severities = config_->severities;
  DiagnosticEngine diags;
  for (const auto& [code, severity] : config_->severities) diags.setSeverity(*diagKindFromCode(code), severity);

  ++buildCount_;
  for (const EmbeddedFile& f : stdlibFiles()) {
    std::string text(f.text);
    FileId id = s->sources.add(std::string(f.path), text);
    parseCached(*s, id, "<stdlib>/" + std::string(f.path), text, diags, /*fromStdlib=*/true);
    s->current.insert(id.value);
  }
  for (const std::string& path : sourceFiles(docs)) {
    const Document* doc = docs.findByPath(path);
    const std::string* text = doc ? &doc->text : diskText(path);
    if (text) addFile(*s, diags, path, *text);
  }
  // Forget the parses of files that left the unit.
  for (auto it = parses_.begin(); it != parses_.end();) {
    bool used = std::any_of(it->second.begin(), it->second.end(),
                            [&](const auto& e) { return e->lastUse == buildCount_; });
    it = used ? std::next(it) : parses_.erase(it);
  }
  sema::CheckOptions options;
  options.now = s->now;
  bool ok = false;
  auto program = std::make_shared<sema::CheckedProgram>(sema::checkForTools(s->ast, s->sources, diags, options, ok));
  loadTables(*s, *program, configRoot, diags);
  s->program = std::move(program);
  s->programOk = ok && !diags.hasErrors();

  std::set<uint32_t> dataFiles;
  for (const auto& [path, file] : s->dataFiles) dataFiles.insert(file.value);
  for (Diagnostic& d : diags.all()) {
    if (d.severity == Severity::Off) continue;
    if (d.range.valid() && !s->isCurrent(d.range.file) && d.kind != DiagKind::Syntax && !dataFiles.count(d.range.file.value))
      continue;
    s->diagnostics.push_back(std::move(d));
  }
  std::stable_sort(s->diagnostics.begin(), s->diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.range.file.value != b.range.file.value) return a.range.file.value < b.range.file.value;
    return a.range.begin < b.range.begin;
  });
  s->lines.reserve(s->sources.size());
  for (uint32_t i = 0; i < s->sources.size(); ++i) s->lines.emplace_back(s->sources.text(FileId{i}));
  latest_ = s;
  dirty = false;
  return s;
}

}  // namespace pave::lsp
