// The server's documents, units and diagnostics publishing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "lsp/Features.h"
#include "lsp/Server.h"

namespace fs = std::filesystem;

namespace pave::lsp {

using json = nlohmann::json;

void Server::addFolder(const std::string& path) {
  if (path.empty()) return;
  std::string root = fs::path(path).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (!units_.count(root)) units_[root] = std::make_unique<Unit>(root, /*singleFile=*/false);
  // Documents that were units of their own now belong to the folder.
  for (const auto& [uri, doc] : docs_.all())
    if (units_[root]->contains(doc.path)) dropSingleFileUnit(doc.path);
}

void Server::removeFolder(const std::string& path) {
  std::string root = fs::path(path).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (!units_.erase(root)) return;
  analysis_->cancel(root);
  {
    std::lock_guard<std::mutex> lock(publishMutex_);
    auto it = published_.find(root);
    if (it != published_.end()) {
      for (const std::string& uri : it->second.uris) {
        lastSent_.erase(uri);
        findingTexts_.erase(uri);
        inputs_.erase(uri);
        transport_.write(makeNotification("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}}));
      }
      published_.erase(it);
    }
  }
  for (const auto& [uri, doc] : docs_.all()) unitFor(doc.path, /*create=*/true);
}

void Server::changeFolders(const json& params) {
  const json& event = params.at("event");
  for (const json& f : event.value("removed", json::array())) removeFolder(uriToPath(f.at("uri").get<std::string>()));
  for (const json& f : event.value("added", json::array())) addFolder(uriToPath(f.at("uri").get<std::string>()));
  for (auto& [root, unit] : units_) unit->dirty = true;
}

void Server::watchedFilesChanged(const json& params) {
  for (const json& change : params.at("changes")) {
    std::string path = uriToPath(change.at("uri").get<std::string>());
    for (auto& [root, unit] : units_) {
      bool config = fs::path(path).filename() == "pave.toml" &&
                    fs::path(path).parent_path().string() == (unit->singleFile() ? fs::path(root).parent_path().string() : root);
      if (unit->contains(path) || config) unit->invalidate(path);
    }
  }
}

Unit* Server::unitFor(const std::string& path, bool create) {
  if (path.empty()) return nullptr;
  Unit* best = nullptr;
  for (auto& [root, unit] : units_)
    if (unit->contains(path) && (!best || root.size() > best->root().size())) best = unit.get();
  if (best || !create) return best;
  auto unit = std::make_unique<Unit>(path, /*singleFile=*/true);
  Unit* raw = unit.get();
  units_[path] = std::move(unit);
  return raw;
}

void Server::dropSingleFileUnit(const std::string& path) {
  auto it = units_.find(path);
  if (it == units_.end() || !it->second->singleFile()) return;
  units_.erase(it);
  analysis_->cancel(path);
  std::lock_guard<std::mutex> lock(publishMutex_);
  published_.erase(path);
}

void Server::markDirty(const std::string& path) {
  if (Unit* unit = unitFor(path, /*create=*/true)) {
    unit->dirty = true;
    analysis_->cancel(unit->root());
  }
}

void Server::didOpen(const json& params) {
  const json& doc = params.at("textDocument");
  std::string uri = doc.at("uri");
  docs_.open(uri, doc.at("text").get<std::string>(), doc.value("version", int64_t{0}));
  markDirty(uriToPath(uri));
}

void Server::didChange(const json& params) {
  const json& doc = params.at("textDocument");
  std::string uri = doc.at("uri");
  if (!docs_.change(uri, params.at("contentChanges"), doc.value("version", int64_t{0}))) return;
  std::string path = uriToPath(uri);
  if (Unit* unit = unitFor(path, /*create=*/true)) unit->edited(path);
  markDirty(path);
}

void Server::didClose(const json& params) {
  std::string uri = params.at("textDocument").at("uri");
  std::string path = uriToPath(uri);
  docs_.close(uri);
  Unit* unit = unitFor(path, /*create=*/false);
  if (!unit) return;
  if (!unit->singleFile()) {
    unit->dirty = true;  // the file is read from disk again
    return;
  }
  dropSingleFileUnit(path);
  std::lock_guard<std::mutex> lock(publishMutex_);
  lastSent_.erase(uri);
  findingTexts_.erase(uri);
  inputs_.erase(uri);
  transport_.write(makeNotification("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}}));
}

void Server::rebuildDirty() {
  for (auto& [root, unit] : units_)
    if (unit->dirty) rebuild(*unit, /*allowPartial=*/true);
}

void Server::completeDeferred() {
  for (auto& [root, unit] : units_)
    if (unit->needsFull && !unit->dirty) rebuild(*unit, /*allowPartial=*/false);
}

void Server::rebuild(Unit& unit, bool allowPartial) {
  std::shared_ptr<const Snapshot> snap = unit.build(docs_, ++generation_, allowPartial);
  if (snap->configError != lastConfigError_) {
    lastConfigError_ = snap->configError;
    if (!snap->configError.empty())
      transport_.write(makeNotification("window/showMessage", {{"type", 1}, {"message", "pave: " + snap->configError}}));
  }
  publish(snap);
  if (analysisEvents_)  // a test hook, like `pave/analysis`
    transport_.write(makeNotification("pave/build", {{"root", snap->root}, {"generation", snap->generation}, {"partial", snap->partial}}));
  if (snap->programOk) analysis_->schedule(snap);
}

void Server::publish(std::shared_ptr<const Snapshot> snap) {
  std::lock_guard<std::mutex> lock(publishMutex_);
  Published& state = published_[snap->root];
  state.snap = std::move(snap);
  publishLocked(state);
}

void Server::onAnalysis(std::shared_ptr<const Snapshot> snap, AnalysisRun run) {
  std::shared_ptr<const StableFindings> retired;  // freed once the lock is released
  std::unique_lock<std::mutex> lock(publishMutex_);
  auto start = std::chrono::steady_clock::now();
  struct Trace {  // PAVE_ANALYSIS_PHASES: how long publishing took
    std::chrono::steady_clock::time_point start;
    const char* what;
    void print() {
      if (what && std::getenv("PAVE_ANALYSIS_PHASES"))
        fprintf(stderr, "lsp: %s published in %.1f ms\n", what,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      what = nullptr;
    }
    ~Trace() { print(); }
  } trace{start, run.early ? "edited file's findings" : "all findings"};
  auto it = published_.find(snap->root);
  if (it == published_.end() || !it->second.snap) return;
  Published& state = it->second;
  if (run.early) {
    // The edited file's findings first, and only they are mapped: the other files keep theirs
    // as published until the run completes.
    if (!state.findings || state.findings->generation > snap->generation) return;
    std::shared_ptr<StableFindings> found = StableFindings::withEdited(*snap, std::move(run.findings), *state.findings);
    state.findings = std::move(found);
    publishLocked(state);
    size_t remapped = state.findings->remapped, relatedRemapped = 0;
    trace.print();
    // Then the findings of other files that relate to a rule the edit removed are dropped.
    trace.start = std::chrono::steady_clock::now();
    trace.what = "findings relating to removed rules checked and";
    if (std::shared_ptr<StableFindings> pruned = state.findings->withoutRemoved(*snap)) {
      relatedRemapped = pruned->remapped;
      state.findings = std::move(pruned);
      publishLocked(state);
    }
    if (analysisEvents_)
      transport_.write(makeNotification("pave/editedFileFindings", {{"root", snap->root},
                                                                    {"generation", snap->generation},
                                                                    {"remapped", remapped},
                                                                    {"relatedRemapped", relatedRemapped}}));
    return;
  }
  Published* published = &state;
  if (!run.unchanged && (!state.findings || state.findings->generation <= snap->generation)) {
    // Made without the lock, so that front-end diagnostics are published meanwhile: only
    // this thread replaces `findings`.
    std::shared_ptr<const StableFindings> previous = state.findings;
    lock.unlock();
    std::shared_ptr<StableFindings> found = StableFindings::capture(*snap, std::move(run.findings), previous.get());
    if (std::getenv("PAVE_ANALYSIS_PHASES"))
      fprintf(stderr, "lsp: all findings kept in %.1f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    lock.lock();
    it = published_.find(snap->root);
    if (it == published_.end() || !it->second.snap) return;  // the folder went
    published = &it->second;
    retired = std::move(published->findings);
    published->findings = std::move(found);
    publishLocked(*published);
  }
  if (analysisEvents_) {
    std::vector<std::string> types = run.stats.typesRun;
    const analysis::AnalysisStats& s = run.stats;
    size_t count = published->findings ? published->findings->count : 0;
    size_t digested = run.unchanged || !published->findings ? 0 : published->findings->digested;
    transport_.write(makeNotification("pave/analysis", {{"root", snap->root},
                                                        {"generation", snap->generation},
                                                        {"unchanged", run.unchanged},
                                                        {"queries", s.queries},
                                                        {"solved", s.queryMillis.size()},
                                                        {"cachedJobs", s.cachedJobs},
                                                        {"jobs", s.jobs},
                                                        {"typesRun", types},
                                                        {"findings", count},
                                                        {"filesDigested", digested}}));
  }
}

void Server::publishLocked(Published& state) {
  const Snapshot& snap = *state.snap;
  // A partial snapshot changed the edited file's diagnostics only (and the data files'):
  // the other files keep what was published from the last full check.
  auto skipped = [&](FileId f) { return snap.partial && f.value < snap.baseFiles; };
  std::map<uint32_t, std::vector<const Diagnostic*>> byFile;
  for (const Diagnostic& d : snap.diagnostics)
    if (d.range.valid()) byFile[d.range.file.value].push_back(&d);
  std::set<std::string> uris;
  // The unit's sources, and the data files of tables whose rows do not fit (`invalid-data`).
  std::vector<std::pair<std::string, FileId>> files(snap.shown.begin(), snap.shown.end());
  for (const auto& [path, file] : snap.dataFiles)
    if (!snap.shown.count(path)) files.emplace_back(path, file);
  // The edited file first.
  std::stable_partition(files.begin(), files.end(), [&](const auto& f) { return f.first == snap.edited; });
  for (const auto& [path, file] : files) {
    if (skipped(file)) continue;
    const std::vector<const Diagnostic*>& frontEnd = byFile[file.value];
    json params = publishParams(snap, path, frontEnd);
    std::string uri = params["uri"];
    uris.insert(uri);
    std::string frontEndText = params["diagnostics"].dump();
    std::string_view text = snap.sources.text(file);
    Inputs& in = inputs_[uri];
    // The findings shown are re-serialized when they changed (the digest covers the texts
    // they were computed on) or the file's text did. Related locations in other files that
    // an edit there moved are brought up to date with the file's next publication (a
    // comment-only edit re-publishes nothing else).
    std::string findingsKey = state.findings ? state.findings->digestOf(path) : std::string();
    if (lastSent_.count(uri) && in.findings == findingsKey && in.text == text && in.frontEnd == frontEndText)
      continue;  // nothing it is made of changed
    in.text = std::string(text);
    in.frontEnd = std::move(frontEndText);
    in.findings = std::move(findingsKey);
    // The front end's diagnostics, then the findings, each finding's text kept from the
    // last publication of the file (only its ranges are written again).
    std::string list = params["diagnostics"].dump(-1, ' ', false, json::error_handler_t::replace);
    list.pop_back();  // the closing bracket
    bool first = list.size() == 1;
    if (state.findings) {
      EditorFindings shown = groupForEditor(state.findings->mapped(path, snap), kFindingsPerFile, &state.findings->fresh);
      std::unordered_map<std::string, DiagnosticText>& before = findingTexts_[uri];
      std::unordered_map<std::string, DiagnosticText> now;
      for (const Diagnostic& d : shown.shown) {
        if (d.severity == Severity::Off) continue;
        std::string key = diagnosticTextKey(snap, d);
        auto it = now.find(key);
        if (it == now.end()) {
          auto old = before.find(key);
          it = now.emplace(key, old != before.end() ? std::move(old->second) : diagnosticText(snap, d)).first;
        }
        if (!first) list += ",";
        first = false;
        appendDiagnostic(list, it->second, snap, d);
      }
      before = std::move(now);
      if (shown.more) {
        if (!first) list += ",";
        list += json({{"range", {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 0}}}}},
                      {"severity", 3},
                      {"source", "pave"},
                      {"message",
                       std::to_string(shown.more) + " more findings in this file (`pave check` lists them all)"}})
                    .dump();
      }
    } else {
      findingTexts_.erase(uri);
    }
    list += "]";
    std::string sent = R"({"diagnostics":)" + list + R"(,"uri":)" +
                       json(uri).dump(-1, ' ', false, json::error_handler_t::replace) + "}";
    auto last = lastSent_.find(uri);
    if (last != lastSent_.end() && last->second == sent) continue;
    transport_.writeText(R"({"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":)" + sent + "}");
    lastSent_[uri] = std::move(sent);
  }
  if (snap.partial)
    for (const auto& [path, file] : files)
      if (skipped(file)) uris.insert(pathToUri(fs::absolute(path).lexically_normal().string()));
  for (const std::string& uri : state.uris) {
    if (uris.count(uri)) continue;
    lastSent_.erase(uri);
    findingTexts_.erase(uri);
    inputs_.erase(uri);
    transport_.write(makeNotification("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}}));
  }
  state.uris = std::move(uris);
}

std::optional<Server::Target> Server::target(const json& params) {
  std::string uri = params.at("textDocument").at("uri");
  std::string path = uriToPath(uri);
  Unit* unit = unitFor(path, /*create=*/false);
  if (!unit) return std::nullopt;
  if (unit->dirty) rebuildDirty();
  std::shared_ptr<const Snapshot> snap = unit->latest();
  if (!snap) return std::nullopt;
  std::optional<FileId> file = snap->fileOf(path);
  if (!file) return std::nullopt;
  if (snap->partial && file->value < snap->baseFiles) {
    // Another file than the edited one: its rules were not re-checked.
    rebuild(*unit, /*allowPartial=*/false);
    snap = unit->latest();
    file = snap->fileOf(path);
    if (!file) return std::nullopt;
  }
  return Target{snap, *file};
}

}  // namespace pave::lsp
