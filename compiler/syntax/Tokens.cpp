#include "syntax/Tokens.h"

#include <antlr4-runtime.h>

#include "PaveLexer.h"
#include "syntax/internal/OffsetMap.h"

namespace pave::syntax {

using gen::PaveLexer;

namespace {

TokenKind kindOf(size_t type) {
  switch (type) {
#define PAVE_TOKEN(Antlr, Kind) \
  case PaveLexer::Antlr:        \
    return TokenKind::Kind;
    PAVE_TOKEN(NAMESPACE, Namespace) PAVE_TOKEN(USE, Use) PAVE_TOKEN(AS, As) PAVE_TOKEN(ENUM, Enum)
    PAVE_TOKEN(PRINCIPAL, Principal) PAVE_TOKEN(REQUEST, Request) PAVE_TOKEN(CONTEXT, Context)
    PAVE_TOKEN(CONST, Const) PAVE_TOKEN(DEF, Def) PAVE_TOKEN(ALLOW, Allow) PAVE_TOKEN(APPROVE, Approve)
    PAVE_TOKEN(DENY, Deny) PAVE_TOKEN(EXCEPTION, Exception) PAVE_TOKEN(WHEN, When) PAVE_TOKEN(UNLESS, Unless)
    PAVE_TOKEN(AND, And) PAVE_TOKEN(OR, Or) PAVE_TOKEN(NOT, Not) PAVE_TOKEN(IN, In) PAVE_TOKEN(IS, Is)
    PAVE_TOKEN(LIKE, Like) PAVE_TOKEN(HAS, Has) PAVE_TOKEN(IF, If) PAVE_TOKEN(THEN, Then) PAVE_TOKEN(ELSE, Else)
    PAVE_TOKEN(ANY, Any) PAVE_TOKEN(ALL, All) PAVE_TOKEN(TRUE, True) PAVE_TOKEN(FALSE, False) PAVE_TOKEN(TEST, Test)
    PAVE_TOKEN(ON, On) PAVE_TOKEN(FOR, For) PAVE_TOKEN(BY, By) PAVE_TOKEN(QUORUM, Quorum) PAVE_TOKEN(GRANT, Grant)
    PAVE_TOKEN(BECAUSE, Because) PAVE_TOKEN(LIFTS, Lifts) PAVE_TOKEN(UNTIL, Until) PAVE_TOKEN(OWNER, Owner)
    PAVE_TOKEN(TICKET, Ticket) PAVE_TOKEN(MERGE, Merge) PAVE_TOKEN(EXPECT, Expect) PAVE_TOKEN(ERROR, Error)
    PAVE_TOKEN(MIN, Min) PAVE_TOKEN(MAX, Max) PAVE_TOKEN(UNION, Union) PAVE_TOKEN(INTERSECT, Intersect)
    PAVE_TOKEN(UNIQUE, Unique) PAVE_TOKEN(TIMESTAMP, Timestamp) PAVE_TOKEN(DURATION, Duration)
    PAVE_TOKEN(BAD_NUMBER, BadNumber) PAVE_TOKEN(INT, Int) PAVE_TOKEN(STRING, String)
    PAVE_TOKEN(UNTERMINATED_STRING, UnterminatedString) PAVE_TOKEN(IDENT, Ident) PAVE_TOKEN(EQ, Eq)
    PAVE_TOKEN(NE, Ne) PAVE_TOKEN(LE, Le) PAVE_TOKEN(GE, Ge) PAVE_TOKEN(LT, Lt) PAVE_TOKEN(GT, Gt)
    PAVE_TOKEN(ASSIGN, Assign) PAVE_TOKEN(PLUS, Plus) PAVE_TOKEN(MINUS, Minus) PAVE_TOKEN(STAR, Star)
    PAVE_TOKEN(DOT, Dot) PAVE_TOKEN(COMMA, Comma) PAVE_TOKEN(COLON, Colon) PAVE_TOKEN(SEMI, Semi)
    PAVE_TOKEN(QUESTION, Question) PAVE_TOKEN(AT, At) PAVE_TOKEN(LPAREN, LParen) PAVE_TOKEN(RPAREN, RParen)
    PAVE_TOKEN(LBRACE, LBrace) PAVE_TOKEN(RBRACE, RBrace) PAVE_TOKEN(LBRACK, LBrack) PAVE_TOKEN(RBRACK, RBrack)
    PAVE_TOKEN(DOC_COMMENT, DocComment) PAVE_TOKEN(LINE_COMMENT, LineComment)
    PAVE_TOKEN(BLOCK_COMMENT, BlockComment) PAVE_TOKEN(UNTERMINATED_COMMENT, UnterminatedComment)
#undef PAVE_TOKEN
    default:
      return TokenKind::BadChar;
  }
}

}  // namespace

bool isComment(TokenKind k) {
  return k == TokenKind::DocComment || k == TokenKind::LineComment || k == TokenKind::BlockComment ||
         k == TokenKind::UnterminatedComment;
}

bool isWord(TokenKind k) { return k <= TokenKind::Unique; }
bool isContextualWord(TokenKind k) { return k >= TokenKind::On && k <= TokenKind::Unique; }
bool isNameToken(TokenKind k) { return k == TokenKind::Ident || isContextualWord(k); }

std::vector<Token> lex(std::string_view text) {
  internal::OffsetMap offsets(text);
  antlr4::ANTLRInputStream input(text.data(), text.size());
  PaveLexer lexer(&input);
  lexer.removeErrorListeners();
  std::vector<Token> out;
  for (auto t = lexer.nextToken(); t->getType() != antlr4::Token::EOF; t = lexer.nextToken()) {
    if (t->getType() == PaveLexer::WS) continue;
    out.push_back({kindOf(t->getType()), offsets.byteOffset(t->getStartIndex()),
                   offsets.byteOffset(t->getStopIndex() + 1)});
  }
  return out;
}

}  // namespace pave::syntax
