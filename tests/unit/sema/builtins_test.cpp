// Every built-in method of sema/builtins.def has its row in docs/language.md's table of
// operators and methods, naming the receiver type it applies to.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sema/Builtins.h"

namespace pave::sema {
namespace {

TEST(BuiltinMethods, EachHasItsRowInTheLanguageReference) {
  std::ifstream f(std::string(PAVE_SOURCE_DIR) + "/docs/language.md");
  ASSERT_TRUE(f) << "cannot read docs/language.md";
  std::vector<std::string> rows;
  for (std::string line; std::getline(f, line);)
    if (line.rfind("| `", 0) == 0) rows.push_back(line);
  ASSERT_FALSE(builtinMethods().empty());
  for (const BuiltinMethod& m : builtinMethods()) {
    const std::string call = "." + std::string(m.name) + "(", receiver(typeKindName(m.receiver));
    bool found = false;
    for (const std::string& row : rows) {
      const size_t cells = row.find(" | ");  // the first cell holds the calls, the second the operand types
      if (cells != std::string::npos && row.find(call) < cells && row.find(receiver, cells) != std::string::npos)
        found = true;
    }
    EXPECT_TRUE(found) << "no row for `" << call << ")` on " << receiver << " in docs/language.md";
  }
}

}  // namespace
}  // namespace pave::sema
