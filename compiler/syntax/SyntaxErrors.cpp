#include "syntax/SyntaxErrors.h"

#include <vector>

#include "PaveLexer.h"
#include "diag/Messages.h"

namespace pave::syntax {

using gen::PaveLexer;

namespace {

std::string tokenDisplay(const antlr4::dfa::Vocabulary& vocab, size_t type) {
  if (type == antlr4::Token::EOF) return "end of file";
  std::string lit = vocab.getLiteralName(type);
  if (lit.size() >= 2 && lit.front() == '\'') return "`" + lit.substr(1, lit.size() - 2) + "`";
  switch (type) {
    case PaveLexer::IDENT: return "a name";
    case PaveLexer::INT: return "an integer";
    case PaveLexer::STRING: return "a string";
    case PaveLexer::DURATION: return "a duration";
    case PaveLexer::TIMESTAMP: return "a timestamp";
    default: return vocab.getSymbolicName(type);
  }
}

std::string describe(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab) {
  if (set.contains(static_cast<size_t>(PaveLexer::INT)) && set.contains(static_cast<size_t>(PaveLexer::STRING)) &&
      set.contains(static_cast<size_t>(PaveLexer::LPAREN)))
    return "an expression";
  std::vector<std::string> names;
  bool name = set.contains(static_cast<size_t>(PaveLexer::IDENT));
  if (name) names.push_back("a name");
  for (size_t t : set.toList()) {
    if (t == PaveLexer::IDENT) continue;
    if (name && t >= PaveLexer::ON && t <= PaveLexer::FROM) continue;  // contextual words are names
    names.push_back(tokenDisplay(vocab, t));
  }
  if (names.empty()) return "something else";
  if (set.contains(static_cast<size_t>(PaveLexer::SEMI)) && names.size() > 4) return "`;`";
  if (names.size() > 4) {
    names.resize(3);
    names.push_back("…");
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += (i + 1 == names.size() && names[i] != "…") ? " or " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

void ErrorListener::syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t, size_t,
                              const std::string&, std::exception_ptr) {
  if (hasError) return;
  hasError = true;
  auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
  if (!parser || !offending) {
    message = msg::SyntaxUnreadable.render();
    return;
  }
  setRange(offending);
  tokenIndex = offending->getTokenIndex();
  const auto& vocab = parser->getVocabulary();
  size_t type = offending->getType();
  std::string found = type == antlr4::Token::EOF ? "end of file" : "`" + offending->getText() + "`";
  switch (type) {
    case PaveLexer::UNTERMINATED_STRING: message = msg::SyntaxUnterminatedString.render(); return;
    case PaveLexer::UNTERMINATED_COMMENT: message = msg::SyntaxUnterminatedComment.render(); return;
    case PaveLexer::BAD_CHAR: message = msg::SyntaxBadCharacter.render(found); return;
    default: break;
  }
  antlr4::misc::IntervalSet expected;
  try {
    expected = parser->getExpectedTokens();
  } catch (...) {
  }
  bool isCompare = type == PaveLexer::EQ || type == PaveLexer::NE || type == PaveLexer::LT ||
                   type == PaveLexer::LE || type == PaveLexer::GT || type == PaveLexer::GE;
  if (isCompare && !expected.contains(static_cast<size_t>(type))) {
    message = msg::SyntaxChainedComparison.render();
    return;
  }
  // A reserved word where a name could go, `=` where `==` could: parseText tries the
  // other token.
  if (type >= PaveLexer::NAMESPACE && type <= PaveLexer::TEST) retryAs = PaveLexer::IDENT;
  if (type == PaveLexer::ASSIGN) retryAs = PaveLexer::EQ;
  // A statement that ends at a line break without its `;`: point at the end of that line,
  // not at the next declaration.
  antlr4::TokenStream* tokens = parser->getTokenStream();
  if (expected.contains(static_cast<size_t>(PaveLexer::SEMI)) && type != PaveLexer::SEMI && tokens &&
      tokenIndex > 0 && tokenIndex != static_cast<size_t>(-1)) {
    antlr4::Token* prev = tokens->get(tokenIndex - 1);
    auto prevEnd = static_cast<uint32_t>(prev->getStopIndex() + 1);
    if (prevEnd <= begin && text_.substr(prevEnd, begin - prevEnd).find('\n') != std::string_view::npos) {
      size_t line = 1;
      for (size_t i = 0; i < begin && i < text_.size(); ++i) line += text_[i] == '\n';
      message = msg::SyntaxMissingSemicolon.render(found, static_cast<int64_t>(line));
      begin = end = prevEnd;
      fix = {"insert `;`", prevEnd, prevEnd, ";"};
      missingSemi = true;
      return;
    }
  }
  message = msg::SyntaxExpected.render(describe(expected, vocab), found);
}

void ErrorListener::explainRetry(antlr4::Token* tok, size_t originalType) {
  setRange(tok);
  fix.reset();
  if (originalType == PaveLexer::ASSIGN) {
    message = msg::SyntaxAssignment.render();
    fix = Fix{"change to `==`", begin, end, "=="};
  } else {
    message = msg::SyntaxReservedWord.render(tok->getText());
  }
}

}  // namespace pave::syntax
