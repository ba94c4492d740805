#include "lsp/Workspace.h"

#include <algorithm>
#include <cstdlib>
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

/// What the other files of a unit can depend on in the files from `first` on (the edited
/// file): its namespace and `use`s, every declaration's kind and name, a rule's effect,
/// targets and lifted rule, and the whole text of every declaration but rules and tests.
/// While it stays the same, an edit changes the diagnostics of those files only.
std::string declSignature(const ast::Ast& ast, const SourceManager& sources, uint32_t first) {
  std::string sig;
  for (const ast::SourceFile& file : ast.files) {
    if (file.file.value < first) continue;
    sig += "file " + (file.namespaceName.valid() ? ast.nameText(file.namespaceName) : std::string()) + "\n";
    for (const ast::UseDecl& u : file.uses)
      sig += "use " + ast.nameText(u.target) + " " + (u.alias.valid() ? std::string(ast.str(u.alias)) : "") + "\n";
    for (ast::DeclId id : file.decls) {
      const ast::Decl& d = ast.decl(id);
      sig += std::to_string(int(d.kind)) + " " + (d.name.valid() ? std::string(ast.str(d.name)) : "");
      if (d.kind == ast::DeclKind::Rule) {
        const ast::RuleDecl& r = ast.rules[d.index];
        sig += " " + std::to_string(int(r.effect)) + (r.hasOn ? " on" : "") + (r.onStar ? " *" : "");
        for (ast::NameId t : r.targets) sig += " " + ast.nameText(t);
        for (const ast::Clause& c : r.clauses)
          if (c.kind == ast::ClauseKind::Lifts) sig += " lifts " + (c.lifts.valid() ? ast.nameText(c.lifts) : "");
      } else if (d.kind != ast::DeclKind::Test && d.range.valid()) {
        sig += " " + std::string(sources.slice(d.range));
      }
      sig += "\n";
    }
  }
  return sig;
}

bool refersTo(const Diagnostic& d, uint32_t first) {
  for (const RelatedInfo& r : d.related)
    if (r.range.valid() && r.range.file.value >= first) return true;
  for (const FixIt& f : d.fixes)
    if (f.range.valid() && f.range.file.value >= first) return true;
  return false;
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
  ++epoch_;  // a data file or pave.toml: the next build is a full one
  dirty = true;
}

void Unit::edited(const std::string& path) {
  if (path.empty() || !contains(path) || fs::path(path).extension() != ".pave") return;
  hot_ = path;
}

bool Unit::incrementalDisabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("PAVE_LSP_FULL_CHECK");
    return v && *v && std::string(v) != "0";
  }();
  return disabled;
}

const Unit::Base& Unit::base(const std::vector<std::pair<std::string, const std::string*>>& others) {
  bool fresh = base_ && base_->hot == hot_ && base_->epoch == epoch_ && base_->files.size() == others.size();
  for (size_t i = 0; fresh && i < others.size(); ++i)
    fresh = base_->files[i].first == others[i].first && base_->files[i].second == *others[i].second;
  if (fresh) return *base_;
  base_.reset();
  Snapshot s;
  DiagnosticEngine diags;
  for (const EmbeddedFile& f : stdlibFiles()) {
    std::string text(f.text);
    FileId id = s.sources.add(std::string(f.path), text);
    parseCached(s, id, "<stdlib>/" + std::string(f.path), text, diags, /*fromStdlib=*/true);
    s.current.insert(id.value);
  }
  Base b;
  b.id = ++baseIds_;
  b.hot = hot_;
  b.epoch = epoch_;
  for (const auto& [path, text] : others) {
    addFile(s, diags, path, *text);
    b.files.emplace_back(path, *text);
  }
  b.sources = std::move(s.sources);
  b.ast = std::move(s.ast);
  b.shown = std::move(s.shown);
  b.current = std::move(s.current);
  b.diags = std::move(diags.all());
  for (uint32_t i = 0; i < b.sources.size(); ++i) b.lines.emplace_back(b.sources.text(FileId{i}));
  return base_.emplace(std::move(b));
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

std::shared_ptr<const Snapshot> Unit::build(const DocumentStore& docs, uint64_t generation, bool allowPartial) {
  auto s = std::make_shared<Snapshot>();
  s->generation = generation;
  s->root = root_;
  s->edited = hot_;
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
  std::vector<std::pair<std::string, const std::string*>> files;
  for (const std::string& path : sourceFiles(docs)) {
    const Document* doc = docs.findByPath(path);
    const std::string* text = doc ? &doc->text : diskText(path);
    if (text) files.emplace_back(path, text);
  }
  // Incremental: every file but the edited one comes from the base; the edited one last.
  const bool incremental = !incrementalDisabled() && !singleFile_;
  const std::string* hotText = nullptr;
  uint32_t baseFiles = 0;
  const Base* base = nullptr;
  if (incremental) {
    std::vector<std::pair<std::string, const std::string*>> others;
    for (const auto& [path, text] : files) {
      if (path == hot_) hotText = text;
      else others.emplace_back(path, text);
    }
    base = &this->base(others);
    s->sources = base->sources;
    s->ast = base->ast;
    s->shown = base->shown;
    s->current = base->current;
    for (const Diagnostic& d : base->diags) diags.all().push_back(d);
    baseFiles = static_cast<uint32_t>(s->sources.size());
    if (hotText) addFile(*s, diags, hot_, *hotText);
  } else {
    for (const EmbeddedFile& f : stdlibFiles()) {
      std::string text(f.text);
      FileId id = s->sources.add(std::string(f.path), text);
      parseCached(*s, id, "<stdlib>/" + std::string(f.path), text, diags, /*fromStdlib=*/true);
      s->current.insert(id.value);
    }
    for (const auto& [path, text] : files) addFile(*s, diags, path, *text);
  }
  // Forget the parses of files that left the unit.
  std::set<std::string> keep;
  for (const auto& [path, text] : files) keep.insert(path);
  for (auto it = parses_.begin(); it != parses_.end();)
    it = keep.count(it->first) || it->first.rfind("<stdlib>/", 0) == 0 ? std::next(it) : parses_.erase(it);
  for (auto it = lastGood_.begin(); it != lastGood_.end();) it = keep.count(it->first) ? std::next(it) : lastGood_.erase(it);

  // Re-check the edited file alone when its declarations are those of the last full check
  // over the same base: the other files' diagnostics cannot have changed.
  std::string signature;
  if (hotText) signature = declSignature(s->ast, s->sources, baseFiles);
  bool partial = allowPartial && hotText && full_ && full_->usable && full_->baseId == base->id &&
                 full_->signature == signature;
  std::set<std::string> hotRules;  // the qualified names of the edited file's rules
  sema::CheckOptions options;
  options.now = s->now;
  if (partial) {
    options.bodyFiles.emplace();
    for (uint32_t f = baseFiles; f < s->sources.size(); ++f) options.bodyFiles->insert(f);
  }
  size_t before = diags.all().size();
  bool ok = false;
  auto program = std::make_shared<sema::CheckedProgram>(sema::checkForTools(s->ast, s->sources, diags, options, ok));
  if (partial) {
    for (const sema::RuleInfo& r : program->rules)
      if (r.file.valid() && r.file.value >= baseFiles) hotRules.insert(r.name);
    // A diagnostic of the edited file's rules located in another file (in a def it calls)
    // would be missed: check everything then.
    for (size_t i = before; i < diags.all().size() && partial; ++i) {
      const Diagnostic& d = diags.all()[i];
      if (d.range.valid() && d.range.file.value < baseFiles && hotRules.count(d.rule)) partial = false;
    }
    if (!partial) {
      diags.all().resize(before);
      options.bodyFiles.reset();
      program = std::make_shared<sema::CheckedProgram>(sema::checkForTools(s->ast, s->sources, diags, options, ok));
    }
  }
  loadTables(*s, *program, configRoot, diags);
  s->program = std::move(program);
  s->partial = partial;
  s->baseFiles = partial ? baseFiles : 0;

  s->programOk = !partial && ok && !diags.hasErrors();  // a partial program is never analyzed

  std::set<uint32_t> dataFiles;
  for (const auto& [path, file] : s->dataFiles) dataFiles.insert(file.value);
  for (Diagnostic& d : diags.all()) {
    if (d.severity == Severity::Off) continue;
    if (d.range.valid() && !s->isCurrent(d.range.file) && d.kind != DiagKind::Syntax && !dataFiles.count(d.range.file.value))
      continue;
    // Partial: the other files' diagnostics are those of the last full check.
    if (partial && d.range.valid() && d.range.file.value < baseFiles) continue;
    s->diagnostics.push_back(std::move(d));
  }
  if (partial)
    for (const Diagnostic& d : full_->baseDiags) s->diagnostics.push_back(d);
  std::stable_sort(s->diagnostics.begin(), s->diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.range.file.value != b.range.file.value) return a.range.file.value < b.range.file.value;
    return a.range.begin < b.range.begin;
  });
  if (incremental && !partial) {
    // Remember this full check for the next edits of the same file.
    full_.reset();
    if (hotText) {
      FullCheck f;
      f.baseId = base->id;
      f.signature = std::move(signature);
      f.usable = true;
      std::set<std::string> rulesOfHot;
      for (const sema::RuleInfo& r : s->program->rules)
        if (r.file.valid() && r.file.value >= baseFiles) rulesOfHot.insert(r.name);
      for (const Diagnostic& d : s->diagnostics) {
        if (!d.range.valid() || d.range.file.value >= baseFiles) continue;
        if (refersTo(d, baseFiles) || rulesOfHot.count(d.rule)) f.usable = false;
        f.baseDiags.push_back(d);
      }
      full_ = std::move(f);
    }
  }
  s->lines.reserve(s->sources.size());
  if (base) s->lines = base->lines;  // the base's files come first, with the same ids
  for (uint32_t i = static_cast<uint32_t>(s->lines.size()); i < s->sources.size(); ++i)
    s->lines.emplace_back(s->sources.text(FileId{i}));
  latest_ = s;
  dirty = false;
  needsFull = partial;
  return s;
}

}  // namespace pave::lsp
