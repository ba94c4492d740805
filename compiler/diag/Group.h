// Grouping of pairwise findings for people (issue 29 item 5): the `conflict`s of one
// allow/approve rule (one finding per deny rule it overlaps) become one diagnostic that
// lists the deny rules as related information. The editor and `pave check --format text`
// show the grouped form; JSON and SARIF keep one finding per pair.
#pragma once

#include <cstddef>
#include <vector>

#include "diag/Diagnostic.h"

namespace pave {

/// Groups the conflicts of each rule into its first one (in the given order), whose
/// message then counts the deny rules; each related entry carries its pair's message.
/// At most `maxRelated` related entries are kept per finding, with a note counting the rest.
std::vector<Diagnostic> groupConflicts(std::vector<Diagnostic> findings, size_t maxRelated);

}  // namespace pave
