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

}  // namespace

void StableFindings::add(StableFindings& out, std::map<std::string, std::vector<Entry>>& lists, const Snapshot& snap,
                         std::vector<Diagnostic> findings) {
  std::unordered_map<uint32_t, const std::string*> pathOf;
  for (const auto& [path, file] : snap.shown) pathOf[file.value] = &path;
  auto path = [&](SourceRange r) -> const std::string* {
    if (!r.valid()) return nullptr;
    auto it = pathOf.find(r.file.value);
    return it == pathOf.end() ? nullptr : it->second;
  };
  auto keepText = [&](const std::string& p) {
    if (!out.texts.count(p)) out.texts[p] = std::string(snap.sources.text(snap.shown.at(p)));
  };
  for (Diagnostic& d : findings) {
    const std::string* p = path(d.range);
    if (!p) continue;  // not in a file the user sees (the standard library)
    Entry e;
    for (const RelatedInfo& r : d.related) {
      const std::string* rp = path(r.range);
      e.relatedPaths.push_back(rp ? *rp : std::string());
      if (rp) keepText(*rp);
    }
    keepText(*p);
    d.fixes.clear();
    e.d = std::move(d);
    lists[*p].push_back(std::move(e));
  }
}

void StableFindings::finish(std::map<std::string, std::vector<Entry>> lists, const StableFindings* previous) {
  for (auto& [p, list] : lists) byPath[p] = std::make_shared<const std::vector<Entry>>(std::move(list));
  count = 0;
  std::map<std::string, std::string> textHashes;
  auto textHash = [&](const std::string& p) -> const std::string& {
    auto it = textHashes.find(p);
    return it != textHashes.end() ? it->second : textHashes[p] = hashOf(texts.at(p));
  };
  for (const auto& [p, list] : byPath) {
    count += list->size();
    if (digest.count(p)) continue;  // kept from the findings it was taken from
    std::string text = "text " + textHash(p);
    std::set<std::string>& related = relatedFiles[p];
    for (const Entry& e : *list) {
      const Diagnostic& d = e.d;
      text += "\n" + std::string(d.code()) + " " + std::to_string(int(d.severity)) + " " + d.rule + " " +
              std::to_string(d.range.begin) + "-" + std::to_string(d.range.end) + " " + d.message;
      for (const std::string& n : d.notes) text += "\nnote " + n;
      for (size_t i = 0; i < d.related.size(); ++i) {
        const RelatedInfo& r = d.related[i];
        text += "\nrelated " + e.relatedPaths[i] + " " + std::to_string(r.range.begin) + "-" +
                std::to_string(r.range.end) + " " + r.rule + " " + r.message;
        if (!e.relatedPaths[i].empty() && e.relatedPaths[i] != p) related.insert(e.relatedPaths[i]);
      }
      if (d.witnessJson) text += "\nwitness " + *d.witnessJson;
    }
    // Not the texts of the files related information points into: a file is re-published
    // when its own findings or text change (see Server::publishLocked).
    digest[p] = hashOf(text);
  }
  if (!previous) return;
  std::unordered_set<std::string> before;
  for (const auto& [p, list] : previous->byPath)
    for (const Entry& e : *list) before.insert(keyOf(e.d));
  for (const auto& [p, list] : byPath)
    for (const Entry& e : *list) {
      std::string key = keyOf(e.d);
      // New since the last completed analysis (an early publication's fresh ones stay fresh).
      if (!before.count(key) || (previous->early && previous->fresh.count(key))) fresh.insert(std::move(key));
    }
}

std::string StableFindings::digestOf(const std::string& path) const {
  auto it = digest.find(path);
  return it == digest.end() ? std::string() : it->second;
}

std::shared_ptr<StableFindings> StableFindings::capture(const Snapshot& snap, std::vector<Diagnostic> findings,
                                                        const StableFindings* previous) {
  auto out = std::make_shared<StableFindings>();
  out->generation = snap.generation;
  std::map<std::string, std::vector<Entry>> lists;
  add(*out, lists, snap, std::move(findings));
  out->finish(std::move(lists), previous);
  return out;
}

std::shared_ptr<StableFindings> StableFindings::withEdited(const Snapshot& snap, std::vector<Diagnostic> early,
                                                           const StableFindings& previous) {
  // Every file but the edited one as when `previous` was analysed: their lists are kept
  // (only those pointing into the edited file are mapped). Otherwise all are mapped.
  bool othersSame = true;
  for (const auto& [p, text] : previous.texts) {
    if (p == snap.edited) continue;
    std::optional<FileId> f = snap.fileOf(p);
    if (!f || snap.sources.text(*f) != text) othersSame = false;
  }
  std::vector<Diagnostic> all;
  auto out = std::make_shared<StableFindings>();
  out->generation = snap.generation;
  out->early = true;
  std::map<std::string, std::vector<Entry>> lists;
  for (const auto& [path, list] : previous.byPath) {
    bool edited = path == snap.edited;
    if (othersSame && !edited) {
      auto rel = previous.relatedFiles.find(path);
      if (rel == previous.relatedFiles.end() || !rel->second.count(snap.edited)) {
        out->byPath[path] = list;
        out->digest[path] = previous.digest.at(path);
        out->relatedFiles[path] = previous.relatedFiles.at(path);
        for (const Entry& e : *list)
          for (const std::string& rp : e.relatedPaths)
            if (!rp.empty() && !out->texts.count(rp)) out->texts[rp] = previous.texts.at(rp);
        if (!out->texts.count(path)) out->texts[path] = previous.texts.at(path);
        continue;
      }
    }
    for (Diagnostic& d : previous.mapped(path, snap))
      // Of the edited file, only the findings about request types (of jobs still to run).
      if (!edited || d.rule.empty()) all.push_back(std::move(d));
  }
  all.insert(all.end(), std::make_move_iterator(early.begin()), std::make_move_iterator(early.end()));
  add(*out, lists, snap, std::move(all));
  // Kept lists and added ones never share a path (a kept path's findings were not mapped).
  out->finish(std::move(lists), &previous);
  return out;
}

std::vector<Diagnostic> StableFindings::mapped(const std::string& path, const Snapshot& to) const {
  std::vector<Diagnostic> out;
  auto list = byPath.find(path);
  if (list == byPath.end()) return out;
  if (!to.fileOf(path)) return out;
  std::map<std::string, std::pair<std::optional<Shift>, std::optional<FileId>>> shifts;
  auto shiftOf = [&](const std::string& p) -> std::pair<std::optional<Shift>, std::optional<FileId>>& {
    auto it = shifts.find(p);
    if (it != shifts.end()) return it->second;
    auto& slot = shifts[p];
    slot.second = to.fileOf(p);
    auto old = texts.find(p);
    if (slot.second && old != texts.end()) slot.first.emplace(old->second, to.sources.text(*slot.second));
    return slot;
  };
  // Rules by name in the new program, looked up only for findings inside an edited span.
  std::optional<std::unordered_map<std::string_view, SourceRange>> rules;
  auto ruleRange = [&](const std::string& name, FileId in) -> std::optional<SourceRange> {
    if (name.empty() || !to.program) return std::nullopt;
    if (!rules) {
      rules.emplace();
      for (const sema::RuleInfo& r : to.program->rules) rules->emplace(r.name, r.range);
    }
    auto it = rules->find(name);
    // A rule of the stale text of a file that does not parse is not the rule the user sees.
    if (it == rules->end() || it->second.file != in) return std::nullopt;
    return it->second;
  };
  auto relocate = [&](const std::string& p, SourceRange r, const std::string& rule) -> std::optional<SourceRange> {
    auto& [shift, f] = shiftOf(p);
    if (!f || !shift) return std::nullopt;
    // Outside the edited span the text, and so the rule, is unchanged.
    if (auto m = shift->map(r.begin, r.end)) return SourceRange{*f, m->first, m->second};
    return ruleRange(rule, *f);
  };
  for (const Entry& e : *list->second) {
    std::optional<SourceRange> range = relocate(path, e.d.range, e.d.rule);
    if (!range) continue;  // the rule it is about was edited away
    Diagnostic d = e.d;
    d.range = *range;
    bool lost = false;
    for (size_t i = 0; i < d.related.size() && !lost; ++i) {
      if (e.relatedPaths[i].empty()) continue;
      std::optional<SourceRange> r = relocate(e.relatedPaths[i], d.related[i].range, d.related[i].rule);
      if (!r) lost = true;  // e.g. the deny of a conflict was removed
      else d.related[i].range = *r;
    }
    if (!lost) out.push_back(std::move(d));
  }
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
