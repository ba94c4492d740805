// Every diagnostic code of compiler/diag/kinds.def has its page docs/diagnostics/<code>.md
// (titled with the code) and its row in docs/diagnostics/README.md, and every page there
// is a registered code's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "diag/Diagnostic.h"

namespace pave {
namespace {

const std::filesystem::path kDir = std::filesystem::path(PAVE_SOURCE_DIR) / "docs" / "diagnostics";

std::string readFile(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(DiagnosticDocs, EveryCodeHasItsPageAndIndexRow) {
  const std::string index = readFile(kDir / "README.md");
  ASSERT_FALSE(index.empty()) << "cannot read " << (kDir / "README.md");
  for (const DiagInfo& d : allDiagKinds()) {
    const std::string code(d.code);
    const std::filesystem::path page = kDir / (code + ".md");
    std::ifstream f(page);
    std::string title;
    const bool read = f && std::getline(f, title);
    EXPECT_TRUE(read) << "`" << code << "` has no page " << page;
    if (read) {
      EXPECT_EQ(title, "# `" + code + "`") << page;
    }
    EXPECT_NE(index.find("[`" + code + "`](" + code + ".md)"), std::string::npos)
        << "`" << code << "` has no row in docs/diagnostics/README.md";
  }
}

TEST(DiagnosticDocs, EveryPageIsARegisteredCode) {
  size_t pages = 0;
  for (const auto& e : std::filesystem::directory_iterator(kDir)) {
    if (e.path().extension() != ".md" || e.path().filename() == "README.md") continue;
    ++pages;
    EXPECT_TRUE(diagKindFromCode(e.path().stem().string()))
        << e.path() << " documents no code of compiler/diag/kinds.def";
  }
  EXPECT_EQ(pages, allDiagKinds().size());
}

}  // namespace
}  // namespace pave
