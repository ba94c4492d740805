// The hand-written lexer (syntax::lex) must split text exactly as the lexer rules of
// grammar/Pave.g4 do. ANTLR's generated lexer is the reference: both run over every
// policy file in the repository and the conformance suite, and over random text built
// from the grammar's own fragments, and must agree on every token's kind and range.
#include <gtest/gtest.h>

#include <antlr4-runtime.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "PaveLexer.h"
#include "syntax/Tokens.h"

namespace {

using pave::syntax::Token;
using pave::syntax::TokenKind;
using pave::syntax::gen::PaveLexer;
namespace fs = std::filesystem;

// PaveLexer's token types are declared in the grammar's order, and TokenKind follows the
// same order with whitespace left out.
TokenKind kindOf(size_t type) {
  if (type > PaveLexer::WS) return TokenKind::BadChar;
  size_t index = type - PaveLexer::NAMESPACE;
  return static_cast<TokenKind>(index);
}

std::vector<Token> referenceLex(const std::string& text) {
  // ANTLR indexes code points; map them back to byte offsets.
  std::vector<uint32_t> starts;
  for (uint32_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  starts.push_back(static_cast<uint32_t>(text.size()));
  antlr4::ANTLRInputStream input(text);
  PaveLexer lexer(&input);
  lexer.removeErrorListeners();
  std::vector<Token> out;
  for (auto t = lexer.nextToken(); t->getType() != antlr4::Token::EOF; t = lexer.nextToken()) {
    if (t->getType() == PaveLexer::WS) continue;
    out.push_back({kindOf(t->getType()), starts[t->getStartIndex()], starts[t->getStopIndex() + 1]});
  }
  return out;
}

std::string describe(const std::string& text, const std::vector<Token>& tokens) {
  std::ostringstream out;
  for (const Token& t : tokens)
    out << static_cast<int>(t.kind) << "[" << t.begin << "," << t.end << ")`" << text.substr(t.begin, t.end - t.begin)
        << "` ";
  return out.str();
}

void expectSame(const std::string& text, const std::string& what) {
  std::vector<Token> mine = pave::syntax::lex(text);
  std::vector<Token> ref = referenceLex(text);
  bool same = mine.size() == ref.size();
  for (size_t i = 0; same && i < mine.size(); ++i)
    same = mine[i].kind == ref[i].kind && mine[i].begin == ref[i].begin && mine[i].end == ref[i].end;
  EXPECT_TRUE(same) << what << "\ntext: " << text << "\nlex:       " << describe(text, mine)
                    << "\nreference: " << describe(text, ref);
}

TEST(Lexer, TokenKindsFollowTheGrammar) {
  EXPECT_EQ(kindOf(PaveLexer::NAMESPACE), TokenKind::Namespace);
  EXPECT_EQ(kindOf(PaveLexer::UNIQUE), TokenKind::Unique);
  EXPECT_EQ(kindOf(PaveLexer::IDENT), TokenKind::Ident);
  EXPECT_EQ(kindOf(PaveLexer::RBRACK), TokenKind::RBrack);
  EXPECT_EQ(kindOf(PaveLexer::UNTERMINATED_COMMENT), TokenKind::UnterminatedComment);
  EXPECT_EQ(kindOf(PaveLexer::BAD_CHAR), TokenKind::BadChar);
}

TEST(Lexer, EdgeCases) {
  const char* cases[] = {
      "", "a", "_x1 allowed allow ALLOW", "1h30m 1h30 15min 3x 7d 1d2h3m4s 0s 12 007",
      "2026-01-15 2026-01-15T10:00:00Z 2026-01-15T10:00 2026-01-15x 2026-01-1500 12345-01-01 1234-5-67",
      "\"abc\" \"a\\\"b\" \"unterminated\n\"x\\", "\"é\\é\"", "é", "== != <= >= < > = ! !x",
      "/// doc\n// line\n//// four\n/* block */ x /* a */ y", "/* unterminated", "/* a */ b /* c",
      "@ ( ) { } [ ] ; : , . ? * + -", "a.b.c(1, 2)", "\"\\u{1F600}\" \"tab\\t\"", "x\ty\fz\r\nw",
      "\"a\\\r\n\"", "1d1d 1s1h 9999999999999999999999", "2026-01-15T10:00:00Zq", "/*/ x */", "/**/",
  };
  for (const char* c : cases) expectSame(c, "edge case");
}

TEST(Lexer, AgreesOnEveryPolicyFile) {
  std::vector<fs::path> roots{fs::path(PAVE_SOURCE_DIR), fs::path(PAVE_CONFORMANCE_DIR)};
  size_t files = 0;
  for (const fs::path& root : roots) {
    if (!fs::exists(root)) continue;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      std::string name = it->path().filename().string();
      if (it->is_directory() && (name.rfind("build", 0) == 0 || name == "node_modules" || name[0] == '.')) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->path().extension() != ".pave") continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      expectSame(text, it->path().string());
      ++files;
    }
  }
  EXPECT_GT(files, 50u);
}

TEST(Lexer, AgreesOnRandomText) {
  const char* pieces[] = {
      "a", "z9", "_", "allow", "grant", "unique", "intersect", "x", " ", "\n", "\r", "\t", "0", "7", "1h", "30m",
      "5s", "2d", "min", "-", "2026", "-01", "-15", "T10", ":00", "Z", "\"", "\\", "\\\"", "\\n", "é", "€", "😀",
      "/", "*", "//", "///", "/*", "*/", "=", "!", "<", ">", ".", ",", ";", "(", ")", "{", "}", "[", "]", "@",
      "?", ":", "+", "#", "$", "~", "'", "\f", "in", "is", "like",
  };
  constexpr size_t kPieces = sizeof(pieces) / sizeof(pieces[0]);
  std::mt19937 rng(20261127);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    size_t len = rng() % 24;
    for (size_t i = 0; i < len; ++i) text += pieces[rng() % kPieces];
    expectSame(text, "random text, round " + std::to_string(round));
    if (HasFailure()) break;
  }
}

}  // namespace
