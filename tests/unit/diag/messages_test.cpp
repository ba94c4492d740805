// The message registry (compiler/diag/messages.def): the house style of every message,
// the argument kinds' rendering, and every message used by some report site.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "diag/Messages.h"

namespace pave {
namespace {

TEST(MessageRegistry, HouseStyle) {
  std::set<std::string_view> names;
  for (const msg::MessageInfo& m : msg::allMessages()) {
    SCOPED_TRACE(std::string(m.name));
    EXPECT_TRUE(names.insert(m.name).second) << "registered twice";
    ASSERT_FALSE(m.format.empty());
    EXPECT_FALSE(std::isupper(static_cast<unsigned char>(m.format.front()))) << "messages start lowercase";
    EXPECT_NE(m.format.back(), '.') << "messages end without a period";
    EXPECT_EQ(std::count(m.format.begin(), m.format.end(), '`') % 2, 0) << "unbalanced backticks";
  }
}

TEST(MessageRegistry, EveryKindHasAMessage) {
  std::set<DiagKind> kinds;
  for (const msg::MessageInfo& m : msg::allMessages()) kinds.insert(m.kind);
  for (const DiagInfo& d : allDiagKinds()) EXPECT_TRUE(kinds.count(d.kind)) << d.code;
}

TEST(MessageRegistry, Arguments) {
  EXPECT_EQ(msg::TypeArgumentCount.render("Map", 2, 1), "`Map` takes 2 type arguments, 1 given");
  EXPECT_EQ(msg::TypeArgumentCount.render("Set", 1, 0), "`Set` takes 1 type argument, 0 given");
  std::vector<std::string> one{"lifts"}, two{"lifts", "until"}, three{"lifts", "until", "owner"};
  EXPECT_EQ(msg::ExceptionMissingClauses.render("e", one), "exception `e` needs `lifts`");
  EXPECT_EQ(msg::ExceptionMissingClauses.render("e", two), "exception `e` needs `lifts` and `until`");
  EXPECT_EQ(msg::ExceptionMissingClauses.render("e", three), "exception `e` needs `lifts`, `until` and `owner`");
  EXPECT_EQ(msg::PrincipalAttributeNotEverywhere.render("team", one, one.size()),
            "attribute `team` is not declared on every possible principal type: `lifts` lacks it");
  EXPECT_EQ(msg::PrincipalAttributeNotEverywhere.render("team", two, two.size()),
            "attribute `team` is not declared on every possible principal type: `lifts` and `until` lack it");
  EXPECT_EQ(msg::EscapeUnicodeDigits.render(), "expected `\\u{XXXX}` with 1 to 6 hex digits");
  msg::Rendered r = msg::UnknownGrant("ttl", "Role");
  EXPECT_EQ(r.kind, DiagKind::UnknownAttribute);
  EXPECT_EQ(r.message, "unknown grant `ttl` on request type `Role`");

  DiagnosticEngine diags;
  diags.report(msg::DuplicateGrant, {}, "ttl").note("a note");
  ASSERT_EQ(diags.all().size(), 1u);
  EXPECT_EQ(diags.all()[0].kind, DiagKind::DuplicateDeclaration);
  EXPECT_EQ(diags.all()[0].message, "duplicate grant `ttl`");
  EXPECT_EQ(diags.all()[0].notes, std::vector<std::string>{"a note"});
}

TEST(MessageRegistry, EveryMessageIsReported) {
  std::string sources;
  const std::filesystem::path root = std::filesystem::path(PAVE_SOURCE_DIR) / "compiler";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".cpp" && ext != ".h") continue;
    std::ifstream f(entry.path());
    std::stringstream ss;
    ss << f.rdbuf();
    sources += ss.str();
  }
  auto used = [&](const std::string& name) {  // `msg::Name` not followed by more of an identifier
    for (size_t at = sources.find(name); at != std::string::npos; at = sources.find(name, at + 1)) {
      char next = at + name.size() < sources.size() ? sources[at + name.size()] : ' ';
      if (!std::isalnum(static_cast<unsigned char>(next)) && next != '_') return true;
    }
    return false;
  };
  for (const msg::MessageInfo& m : msg::allMessages())
    EXPECT_TRUE(used("msg::" + std::string(m.name))) << m.name << " is never reported";
}

}  // namespace
}  // namespace pave
