// NameTable: the load-time string → index table of the JSON decoder and dispatch keys. Its
// lookups compare short names inline (overlapping loads from both ends), so every length
// and every differing byte position is checked against a miss.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "name_table.h"

namespace pave::rt::test {
namespace {

TEST(NameTable, FindsEveryNameAndMissesEveryNearMiss) {
  std::vector<std::string> names;
  for (size_t n = 0; n <= 40; ++n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += char('a' + (i * 7 + n) % 26);
    names.push_back(s);
  }
  std::vector<std::pair<std::string_view, int32_t>> entries;
  for (size_t i = 0; i < names.size(); ++i) entries.emplace_back(names[i], int32_t(i));
  const NameTable table(entries);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(table.find(names[i]), int32_t(i)) << names[i];
    // The same length with any one byte changed is not in the table.
    for (size_t at = 0; at < names[i].size(); ++at) {
      std::string near = names[i];
      near[at] = char(near[at] == 'z' ? 'A' : near[at] + 1);
      EXPECT_EQ(table.find(near), -1) << near;
    }
    // Nor a prefix or an extension of it (unless that is another name).
    if (names[i].size() > 1) {  // (the empty name is in the table)
      EXPECT_EQ(table.find(std::string_view(names[i]).substr(1)), -1);
    }
    EXPECT_EQ(table.find(names[i] + "!"), -1);
  }
}

TEST(NameTable, FirstEntryWinsAndEmptyTableFindsNothing) {
  const NameTable table({{"env", 1}, {"env", 2}, {"role", 3}});
  EXPECT_EQ(table.find("env"), 1);
  EXPECT_EQ(table.find("role"), 3);
  EXPECT_EQ(table.find("Env"), -1);
  const NameTable empty;
  EXPECT_EQ(empty.find(""), -1);
  EXPECT_EQ(empty.find("env"), -1);
}

// find(name, cursor): the entry at the cursor is tried first; any order gives the same
// values as find(name), and the cursor follows the last name found.
TEST(NameTable, CursorLookupAgreesWithFindInAnyOrder) {
  const NameTable table({{"email", 0}, {"groups", 1}, {"on_call", 2}, {"team", 3}});
  const std::vector<std::vector<std::string_view>> orders = {
      {"email", "groups", "on_call", "team"}, {"team", "on_call", "groups", "email"},
      {"groups", "team", "email", "nope", "on_call"}, {"on_call", "on_call", "", "emai", "emails"}};
  for (const auto& order : orders) {
    uint32_t cursor = 0;
    for (std::string_view name : order) {
      const int32_t expected = table.find(name);
      EXPECT_EQ(table.find(name, cursor), expected) << name;
      if (expected >= 0) {
        EXPECT_EQ(cursor, uint32_t(expected) + 1) << name;
      }
    }
  }
  // In the entries' order, the cursor steps through them.
  uint32_t cursor = 0;
  for (int32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(table.find(orders[0][size_t(i)], cursor), i);
    EXPECT_EQ(cursor, uint32_t(i) + 1);
  }
  // With a repeated name the first entry wins, whatever the cursor.
  const NameTable repeated({{"a", 0}, {"b", 1}, {"a", 2}});
  cursor = 2;
  EXPECT_EQ(repeated.find("a", cursor), 0);
  EXPECT_EQ(cursor, 1u);
}

}  // namespace
}  // namespace pave::rt::test
