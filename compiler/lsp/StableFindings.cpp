#include "lsp/StableFindings.h"

#include "diag/Group.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace pave::lsp {

namespace {

/// How an old text became a new one: one replaced span between a common prefix and suffix.
struct Shift {
  bool same = true;
  uint32_t prefix = 0;     // bytes equal at the start
  uint32_t oldTail = 0;    // old offset where the common suffix starts
  int64_t delta = 0;       // new length - old length

  Shift(std::string_view a, std::string_view b) {
    if (a == b) return;
    same = false;
    size_t n = std::min(a.size(), b.size());
    size_t p = 0;
    while (p < n && a[p] == b[p]) ++p;
    size_t s = 0;
    while (s < n - p && a[a.size() - 1 - s] == b[b.size() - 1 - s]) ++s;
    prefix = uint32_t(p);
    oldTail = uint32_t(a.size() - s);
    delta = int64_t(b.size()) - int64_t(a.size());
  }
  /// The new offsets of [begin, end), or nothing when the range touches the replaced span.
  std::optional<std::pair<uint32_t, uint32_t>> map(uint32_t begin, uint32_t end) const {
    if (same || end <= prefix) return std::pair{begin, end};
    if (begin >= oldTail) return std::pair{uint32_t(int64_t(begin) + delta), uint32_t(int64_t(end) + delta)};
    return std::nullopt;
  }
};

/// A digest for change detection (not a content address: a collision would only skip one
/// re-publication).
std::string hashOf(std::string_view text) {
  return std::to_string(std::hash<std::string_view>{}(text)) + "." + std::to_string(text.size());
}

/// The rules of a snapshot's program by name, indexed on first use (only findings inside an
/// edited span look rules up).
class RuleIndex {
 public:
  explicit RuleIndex(const Snapshot& to) : to_(to) {}
  std::optional<SourceRange> find(const std::string& name, FileId in) {
    if (name.empty() || !to_.program) return std::nullopt;
    if (!rules_) {
      rules_.emplace();
      for (const sema::RuleInfo& r : to_.program->rules) rules_->emplace(r.name, r.range);
    }
    auto it = rules_->find(name);
    // A rule of the stale text of a file that does not parse is not the rule the user sees.
    if (it == rules_->end() || it->second.file != in) return std::nullopt;
    return it->second;
  }

 private:
  const Snapshot& to_;
  std::optional<std::unordered_map<std::string_view, SourceRange>> rules_;
};

/// Maps the ranges of one file's findings onto a later snapshot.
class Mapper {
 public:
  Mapper(const StableFindings::File& file, const Snapshot& to, RuleIndex& rules)
      : file_(file), to_(to), rules_(rules) {}

  /// `r` (in `p`, about `rule`) in `to`; nothing when the rule it is about was edited away.
  std::optional<SourceRange> relocate(const std::string& p, SourceRange r, const std::string& rule) {
    auto& [shift, f] = shiftOf(p);
    if (!f || !shift) return std::nullopt;
    // Outside the edited span the text, and so the rule, is unchanged.
    if (auto m = shift->map(r.begin, r.end)) return SourceRange{*f, m->first, m->second};
    return rules_.find(rule, *f);
  }

  /// `e` (a finding of `path`) in `to`; nothing when its rule or a related rule is gone.
  std::optional<Diagnostic> map(const StableFindings::Entry& e, const std::string& path) {
    std::optional<SourceRange> range = relocate(path, e.d.range, e.d.rule);
    if (!range) return std::nullopt;
    Diagnostic d = e.d;
    d.range = *range;
    for (size_t i = 0; i < d.related.size(); ++i) {
      if (e.relatedPaths[i].empty()) continue;
      std::optional<SourceRange> r = relocate(e.relatedPaths[i], d.related[i].range, d.related[i].rule);
      if (!r) return std::nullopt;  // e.g. the deny of a conflict was removed
      d.related[i].range = *r;
    }
    return d;
  }

 private:
  std::pair<std::optional<Shift>, std::optional<FileId>>& shiftOf(const std::string& p) {
    auto it = shifts_.find(p);
    if (it != shifts_.end()) return it->second;
    auto& slot = shifts_[p];
    slot.second = to_.fileOf(p);
    auto old = file_.texts.find(p);
    if (slot.second && old != file_.texts.end()) slot.first.emplace(*old->second, to_.sources.text(*slot.second));
    return slot;
  }

  const StableFindings::File& file_;
  const Snapshot& to_;
  RuleIndex& rules_;
  std::map<std::string, std::pair<std::optional<Shift>, std::optional<FileId>>> shifts_;
};

bool sameRange(SourceRange a, SourceRange b) { return a.begin == b.begin && a.end == b.end; }

/// Whether `a` and `b` (of `path`) hold the same findings (by their offsets and the paths
/// of their related information) computed on equal texts of `path`: then their digests are
/// equal.
template <typename SameText>
bool sameFindings(const std::string& path, const StableFindings::File& a, const StableFindings::File& b,
                  SameText same) {
  if (a.list.size() != b.list.size()) return false;
  auto i = a.texts.find(path), j = b.texts.find(path);
  if (i == a.texts.end() || j == b.texts.end() || !same(i->second, j->second)) return false;
  for (size_t k = 0; k < a.list.size(); ++k) {
    const StableFindings::Entry& x = a.list[k];
    const StableFindings::Entry& y = b.list[k];
    const Diagnostic& d = x.d;
    const Diagnostic& e = y.d;
    if (d.kind != e.kind || d.severity != e.severity || !sameRange(d.range, e.range) || d.rule != e.rule ||
        d.message != e.message || d.notes != e.notes || d.witnessJson != e.witnessJson ||
        x.relatedPaths != y.relatedPaths || d.related.size() != e.related.size())
      return false;
    for (size_t r = 0; r < d.related.size(); ++r)
      if (!sameRange(d.related[r].range, e.related[r].range) || d.related[r].rule != e.related[r].rule ||
          d.related[r].message != e.related[r].message)
        return false;
  }
  return true;
}

/// The path of each file `snap` shows, by FileId.
std::unordered_map<uint32_t, const std::string*> pathsOf(const Snapshot& snap) {
  std::unordered_map<uint32_t, const std::string*> pathOf;
  for (const auto& [path, file] : snap.shown) pathOf[file.value] = &path;
  return pathOf;
}

}  // namespace

void StableFindings::add(std::map<std::string, File>& files, const Snapshot& snap, std::vector<Diagnostic> findings) {
  std::unordered_map<uint32_t, const std::string*> pathOf = pathsOf(snap);
  auto path = [&](SourceRange r) -> const std::string* {
    if (!r.valid()) return nullptr;
    auto it = pathOf.find(r.file.value);
    return it == pathOf.end() ? nullptr : it->second;
  };
  std::map<std::string, Text> texts;  // of `snap`, copied once
  auto textOf = [&](const std::string& p) -> const Text& {
    auto it = texts.find(p);
    if (it != texts.end()) return it->second;
    return texts[p] = std::make_shared<const std::string>(snap.sources.text(snap.shown.at(p)));
  };
  for (Diagnostic& d : findings) {
    const std::string* p = path(d.range);
    if (!p) continue;  // not in a file the user sees (the standard library)
    File& file = files[*p];
    Entry e;
    for (const RelatedInfo& r : d.related) {
      const std::string* rp = path(r.range);
      e.relatedPaths.push_back(rp ? *rp : std::string());
      if (rp && !file.texts.count(*rp)) file.texts.emplace(*rp, textOf(*rp));
    }
    if (!file.texts.count(*p)) file.texts.emplace(*p, textOf(*p));
    d.fixes.clear();
    e.d = std::move(d);
    file.list.push_back(std::move(e));
  }
}

void StableFindings::finish(std::map<std::string, File> files) {
  digested = files.size();
  for (auto& [p, file] : files) {
    std::string text = "text " + hashOf(*file.texts.at(p));
    for (const Entry& e : file.list) {
      const Diagnostic& d = e.d;
      text += "\n" + std::string(d.code()) + " " + std::to_string(int(d.severity)) + " " + d.rule + " " +
              std::to_string(d.range.begin) + "-" + std::to_string(d.range.end) + " " + d.message;
      for (const std::string& n : d.notes) text += "\nnote " + n;
      for (size_t i = 0; i < d.related.size(); ++i) {
        const RelatedInfo& r = d.related[i];
        text += "\nrelated " + e.relatedPaths[i] + " " + std::to_string(r.range.begin) + "-" +
                std::to_string(r.range.end) + " " + r.rule + " " + r.message;
        if (!e.relatedPaths[i].empty() && e.relatedPaths[i] != p) file.relatedFiles.insert(e.relatedPaths[i]);
      }
      if (d.witnessJson) text += "\nwitness " + *d.witnessJson;
    }
    // Not the texts of the files related information points into: a file is re-published
    // when its own findings or text change (see Server::publishLocked).
    file.digest = hashOf(text);
    byPath[p] = std::make_shared<const File>(std::move(file));
  }
  count = 0;
  for (const auto& [p, file] : byPath) count += file->list.size();
}

std::string StableFindings::digestOf(const std::string& path) const {
  auto it = byPath.find(path);
  return it == byPath.end() ? std::string() : it->second->digest;
}

std::shared_ptr<StableFindings> StableFindings::capture(const Snapshot& snap, std::vector<Diagnostic> findings,
                                                        const StableFindings* previous) {
  auto out = std::make_shared<StableFindings>();
  out->generation = snap.generation;
  std::map<std::string, File> files;
  add(files, snap, std::move(findings));
  if (previous) {
    // A file whose findings are those it had, on the same texts, keeps its File (and digest).
    std::map<std::pair<const std::string*, const std::string*>, bool> sameText;
    auto same = [&](const Text& a, const Text& b) {
      if (a == b) return true;
      auto [it, added] = sameText.try_emplace({a.get(), b.get()}, false);
      if (added) it->second = *a == *b;
      return it->second;
    };
    for (auto it = files.begin(); it != files.end();) {
      auto before = previous->byPath.find(it->first);
      if (before == previous->byPath.end() || !sameFindings(it->first, it->second, *before->second, same)) {
        ++it;
        continue;
      }
      // Its ranges in other files are those of the new texts (an edit there may have moved
      // them): the new File, with the digest it had.
      File& file = it->second;
      file.digest = before->second->digest;
      file.relatedFiles = before->second->relatedFiles;
      out->byPath[it->first] = std::make_shared<const File>(std::move(file));
      it = files.erase(it);
    }
  }
  out->finish(std::move(files));
  auto keys = std::make_shared<std::unordered_set<std::string>>();
  for (const auto& [p, file] : out->byPath)
    for (const Entry& e : file->list) keys->insert(keyOf(e.d));
  // New since the last completed analysis (an early publication's fresh ones stay fresh).
  if (previous && previous->completedKeys)
    for (const std::string& key : *keys)
      if (!previous->completedKeys->count(key)) out->fresh.insert(key);
  out->completedKeys = std::move(keys);
  return out;
}

std::shared_ptr<StableFindings> StableFindings::withEdited(const Snapshot& snap, std::vector<Diagnostic> early,
                                                           const StableFindings& previous) {
  auto out = std::make_shared<StableFindings>();
  out->generation = snap.generation;
  out->early = true;
  out->completedKeys = previous.completedKeys;
  if (previous.early) out->fresh = previous.fresh;
  // The files made anew: the edited one, and any other that an early finding is in (a
  // rule's findings are on the rule, so normally none).
  std::set<std::string> made{snap.edited};
  std::unordered_map<uint32_t, const std::string*> pathOf = pathsOf(snap);
  for (const Diagnostic& d : early)
    if (auto it = pathOf.find(d.range.file.value); d.range.valid() && it != pathOf.end()) made.insert(*it->second);
  std::vector<Diagnostic> all;
  for (const auto& [path, file] : previous.byPath) {
    if (!made.count(path)) {
      if (snap.fileOf(path)) out->byPath[path] = file;  // as computed, mapped when published
      continue;
    }
    out->remapped += file->list.size();
    for (Diagnostic& d : previous.mapped(path, snap))
      // Of the edited file, only the findings about request types (of jobs still to run).
      if (path != snap.edited || d.rule.empty()) all.push_back(std::move(d));
  }
  all.insert(all.end(), std::make_move_iterator(early.begin()), std::make_move_iterator(early.end()));
  std::map<std::string, File> files;
  add(files, snap, std::move(all));
  for (const auto& [p, file] : files)
    for (const Entry& e : file.list)
      if (std::string key = keyOf(e.d); !out->completedKeys || !out->completedKeys->count(key))
        out->fresh.insert(std::move(key));
  out->finish(std::move(files));
  return out;
}

std::shared_ptr<StableFindings> StableFindings::withoutRemoved(const Snapshot& snap) const {
  if (snap.edited.empty()) return nullptr;
  RuleIndex rules(snap);
  std::vector<std::string> lost;
  for (const auto& [path, file] : byPath) {
    if (path == snap.edited || !file->relatedFiles.count(snap.edited)) continue;
    Mapper mapper(*file, snap, rules);
    auto gone = [&](const Entry& e) {
      for (size_t i = 0; i < e.d.related.size(); ++i)
        if (e.relatedPaths[i] == snap.edited &&
            !mapper.relocate(snap.edited, e.d.related[i].range, e.d.related[i].rule))
          return true;
      return false;
    };
    if (std::any_of(file->list.begin(), file->list.end(), gone)) lost.push_back(path);
  }
  if (lost.empty()) return nullptr;
  auto out = std::make_shared<StableFindings>(*this);
  out->remapped = 0;
  std::vector<Diagnostic> all;
  for (const std::string& path : lost) {
    out->remapped += byPath.at(path)->list.size();
    out->byPath.erase(path);
    for (Diagnostic& d : mapped(path, snap)) all.push_back(std::move(d));
  }
  std::map<std::string, File> files;
  add(files, snap, std::move(all));
  out->finish(std::move(files));
  return out;
}

std::vector<Diagnostic> StableFindings::mapped(const std::string& path, const Snapshot& to) const {
  std::vector<Diagnostic> out;
  auto list = byPath.find(path);
  if (list == byPath.end() || !to.fileOf(path)) return out;
  RuleIndex rules(to);
  Mapper mapper(*list->second, to, rules);
  for (const Entry& e : list->second->list)
    if (std::optional<Diagnostic> d = mapper.map(e, path)) out.push_back(std::move(*d));
  return out;
}

EditorFindings groupForEditor(std::vector<Diagnostic> findings, size_t cap,
                              const std::unordered_set<std::string>* fresh) {
  EditorFindings out;
  std::vector<Diagnostic> grouped = groupConflicts(std::move(findings), kRelatedPerFinding);
  if (grouped.size() <= cap) {
    out.shown = std::move(grouped);
    return out;
  }
  // Keep new findings (those of the last edit) first, then the most severe; then restore
  // source order.
  std::vector<size_t> order(grouped.size());
  std::vector<bool> isFresh(grouped.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
    isFresh[i] = fresh && fresh->count(StableFindings::keyOf(grouped[i]));
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (isFresh[a] != isFresh[b]) return bool(isFresh[a]);
    return grouped[a].severity > grouped[b].severity;
  });
  order.resize(cap);
  std::sort(order.begin(), order.end());
  for (size_t i : order) out.shown.push_back(std::move(grouped[i]));
  out.more = grouped.size() - cap;
  return out;
}

}  // namespace pave::lsp
