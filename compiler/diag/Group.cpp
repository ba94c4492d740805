#include "diag/Group.h"

#include <map>
#include <string>

namespace pave {

std::vector<Diagnostic> groupConflicts(std::vector<Diagnostic> findings, size_t maxRelated) {
  std::vector<Diagnostic> grouped;
  std::map<std::string, size_t> conflictOf;  // rule → index in `grouped`
  std::map<std::string, size_t> conflictCount;
  for (Diagnostic& d : findings) {
    if (d.kind != DiagKind::Conflict || d.rule.empty() || d.related.size() != 1) {
      grouped.push_back(std::move(d));
      continue;
    }
    auto it = conflictOf.find(d.rule);
    if (it == conflictOf.end()) {
      conflictOf.emplace(d.rule, grouped.size());
      conflictCount[d.rule] = 1;
      grouped.push_back(std::move(d));
      continue;
    }
    Diagnostic& first = grouped[it->second];
    // Once grouped, each related deny carries its pair's message (the first's too).
    if (first.related[0].message.empty()) first.related[0].message = first.message;
    RelatedInfo r = d.related[0];
    r.message = d.message;
    first.related.push_back(std::move(r));
    ++conflictCount[d.rule];
  }
  for (auto& [rule, index] : conflictOf) {
    size_t n = conflictCount[rule];
    if (n < 2) continue;
    Diagnostic& d = grouped[index];
    // "allow rule `a` and deny rule `d` can match …" → "allow rule `a` and N deny rules can match …"
    std::string effect = d.message.substr(0, d.message.find(' '));
    d.message = effect + " rule `" + rule + "` and " + std::to_string(n) +
                " deny rules can match the same input; the deny wins (a witness for `" + d.related[0].rule + "`)";
  }
  for (Diagnostic& d : grouped)
    if (d.related.size() > maxRelated) {
      d.notes.push_back(std::to_string(d.related.size() - maxRelated) + " more related rules not listed");
      d.related.resize(maxRelated);
    }
  return grouped;
}

}  // namespace pave
