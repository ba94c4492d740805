// The decision error codes of pave/decision_errors.def against docs/decisions.md's
// "Error codes" table: every code has its row (with its SPEC section and origin), and
// every row is a code.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "pave/decision_errors.h"

namespace pave::rt {
namespace {

struct Row {
  std::string code, origin, spec;
};

// The rows of the table under "## Error codes": `| `code` | origin | meaning | §spec |`.
std::vector<Row> docRows() {
  std::ifstream f(std::string(PAVE_SOURCE_DIR) + "/docs/decisions.md");
  EXPECT_TRUE(f) << "cannot read docs/decisions.md";
  std::vector<Row> rows;
  std::string line;
  bool in = false;
  while (std::getline(f, line)) {
    if (line.rfind("## ", 0) == 0) in = line == "## Error codes";
    if (!in || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    for (std::string c; std::getline(ss, c, '|');) {
      size_t b = c.find_first_not_of(' '), e = c.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : c.substr(b, e - b + 1));
    }
    if (cells.size() < 4) {
      ADD_FAILURE() << "malformed row: " << line;
      continue;
    }
    rows.push_back({cells[0].substr(1, cells[0].size() - 2), cells[1], cells.back()});
  }
  return rows;
}

// The "Comes from" column, by DecisionErrorOrigin.
std::string originName(DecisionErrorOrigin o) {
  static constexpr const char* kNames[] = {"input", "evaluation", "decision service"};
  return kNames[static_cast<int>(o)];
}

TEST(DecisionErrors, DocsListEveryCodeInOrder) {
  std::vector<Row> rows = docRows();
  ASSERT_FALSE(rows.empty()) << "no \"## Error codes\" table in docs/decisions.md";
  std::set<std::string> documented;
  for (const Row& r : rows) {
    documented.insert(r.code);
    EXPECT_TRUE(findDecisionError(r.code)) << "docs/decisions.md lists `" << r.code
                                           << "`, which is not in decision_errors.def";
  }
  size_t i = 0;
  for (const DecisionErrorInfo& e : kDecisionErrors) {
    std::string code(e.code);
    EXPECT_TRUE(documented.count(code)) << "`" << code << "` has no row in docs/decisions.md's error code table";
    if (i < rows.size() && rows[i].code == code) {
      EXPECT_EQ(rows[i].origin, originName(e.origin)) << code;
      EXPECT_EQ(rows[i].spec, "§" + std::string(e.spec)) << code;
    } else {
      ADD_FAILURE() << "row " << i << " of the table should be `" << code << "` (the order of decision_errors.def)";
    }
    ++i;
  }
  EXPECT_EQ(rows.size(), std::size(kDecisionErrors));
}

TEST(DecisionErrors, CodesAreUniqueAndFound) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < std::size(kDecisionErrors); ++i) {
    const DecisionErrorInfo& e = kDecisionErrors[i];
    EXPECT_TRUE(seen.insert(e.code).second) << "duplicate code " << e.code;
    EXPECT_EQ(findDecisionError(e.code), static_cast<DecisionErrorCode>(i));
    EXPECT_FALSE(e.meaning.empty()) << e.code;
  }
  EXPECT_EQ(errorCode(DecisionErrorCode::MissingAttribute), "missing-attribute");
  EXPECT_FALSE(findDecisionError("no-matching-rule"));  // a reason, not an error
}

}  // namespace
}  // namespace pave::rt
