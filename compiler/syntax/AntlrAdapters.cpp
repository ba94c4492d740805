#include "syntax/AntlrAdapters.h"

#include "PaveLexer.h"

namespace pave::syntax {

using gen::PaveLexer;

// TokenKind lists the lexer rules of the grammar in order, without WS.
static_assert(PaveLexer::NAMESPACE == 1);
static_assert(PaveLexer::FROM == static_cast<size_t>(TokenKind::From) + 1);
static_assert(PaveLexer::IDENT == static_cast<size_t>(TokenKind::Ident) + 1);
static_assert(PaveLexer::RBRACK == static_cast<size_t>(TokenKind::RBrack) + 1);
static_assert(PaveLexer::UNTERMINATED_COMMENT == static_cast<size_t>(TokenKind::UnterminatedComment) + 1);
static_assert(PaveLexer::BAD_CHAR == static_cast<size_t>(TokenKind::BadChar) + 2);

size_t antlrType(TokenKind k) {
  // A malformed duration (`15min`) parses as one; the AST builder reports it as invalid-literal.
  if (k == TokenKind::BadNumber) return PaveLexer::DURATION;
  if (k == TokenKind::BadChar) return PaveLexer::BAD_CHAR;
  return static_cast<size_t>(k) + 1;
}

std::unique_ptr<antlr4::Token> TokenFeed::nextToken() {
  while (next_ < lexed_.size() && hiddenFromParser(lexed_[next_].kind)) ++next_;
  if (next_ >= lexed_.size()) {
    return std::make_unique<antlr4::CommonToken>(std::make_pair(this, &chars_), antlr4::Token::EOF,
                                                 antlr4::Token::DEFAULT_CHANNEL, textSize_, textSize_ - 1);
  }
  const Token& t = lexed_[next_];
  fed.push_back(static_cast<uint32_t>(next_++));
  return std::make_unique<antlr4::CommonToken>(std::make_pair(this, &chars_), antlrType(t.kind),
                                               antlr4::Token::DEFAULT_CHANNEL, t.begin, t.end - 1);
}

}  // namespace pave::syntax
