// rt::decisionOrder: the order in which `pave eval -` and `/v1/decide/batch` decide the
// lines of a block. It must be a permutation of the lines (every line decided once), keep
// lines of one request and principal type together, and keep input order within a group;
// lines that are not JSON are decided too.
#include <gtest/gtest.h>

#include <pave/json_lines.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace pave::rt::test {
namespace {

std::string line(const char* type, const char* principal, int n) {
  return std::string(R"({"type": ")") + type + R"(", "principal": {"type": ")" + principal + R"(", "n": )" +
         std::to_string(n) + "}}";
}

TEST(DecisionOrder, GroupsByRequestAndPrincipalTypeAndKeepsInputOrderInAGroup) {
  const char* types[] = {"Item1", "Item2", "Item3"};
  const char* principals[] = {"Human", "Workload"};
  std::vector<std::string> text;
  std::vector<std::string> group;  // each line's group
  for (int n = 0; n < 60; ++n) {
    const char* t = types[(n * 7) % 3];
    const char* p = principals[(n / 3) % 2];
    text.push_back(line(t, p, n));
    group.push_back(std::string(t) + "/" + p);
  }
  text.push_back("{this is not json");
  group.push_back("not json");
  text.push_back(R"({"principal": {"type": "Human"}, "type": "Item1"})");  // members in another order
  group.push_back("reordered");
  const std::vector<std::string_view> lines(text.begin(), text.end());
  std::vector<uint32_t> order;
  decisionOrder(lines, order);

  ASSERT_EQ(order.size(), lines.size());
  std::vector<uint32_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i) << "not a permutation";

  // Each group is one run of consecutive positions, its lines in input order.
  std::map<std::string, int> runs;
  for (size_t k = 0; k < order.size(); ++k) {
    const std::string& g = group[order[k]];
    if (k == 0 || group[order[k - 1]] != g)
      ++runs[g];
    else
      EXPECT_LT(order[k - 1], order[k]) << "input order within " << g;
  }
  EXPECT_EQ(runs.size(), 8u);
  for (const auto& [g, n] : runs) EXPECT_EQ(n, 1) << g << " is split";
}

TEST(DecisionOrder, EmptyAndOneLine) {
  std::vector<uint32_t> order = {7, 8};
  decisionOrder({}, order);
  EXPECT_TRUE(order.empty());
  const std::vector<std::string_view> one = {R"({"type": "x")"};  // cut short: still decided
  decisionOrder(one, order);
  EXPECT_EQ(order, std::vector<uint32_t>{0});
}

}  // namespace
}  // namespace pave::rt::test
