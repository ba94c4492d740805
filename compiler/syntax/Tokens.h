// Pave's tokens, for tools that work on the text rather than the AST (the formatter, the
// language server's completion). ANTLR stays behind this interface as behind Parser.h.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace pave::syntax {

/// Every kind of token of grammar/Pave.g4 except whitespace.
enum class TokenKind : uint8_t {
  // Reserved words.
  Namespace, Use, As, Enum, Principal, Request, Context, Const, Def, Allow, Approve, Deny,
  Exception, When, Unless, And, Or, Not, In, Is, Like, Has, If, Then, Else, Any, All, True,
  False, Test,
  // Contextual words: keywords where the grammar expects them, names everywhere else.
  On, For, By, Quorum, Grant, Because, Lifts, Until, Owner, Ticket, Merge, Expect, Error,
  Min, Max, Union, Intersect, Unique, Record, Table, From,
  // Literals and names.
  Timestamp, Duration, BadNumber, Int, String, UnterminatedString, Ident,
  // Punctuation.
  Eq, Ne, Le, Ge, Lt, Gt, Assign, Plus, Minus, Star, Dot, Comma, Colon, Semi, Question, At,
  LParen, RParen, LBrace, RBrace, LBrack, RBrack,
  // Comments (hidden from the parser) and errors.
  DocComment, LineComment, BlockComment, UnterminatedComment, BadChar,
};

/// One token: its kind and its byte range [begin, end) in the text.
struct Token {
  TokenKind kind;
  uint32_t begin = 0;
  uint32_t end = 0;
};

bool isComment(TokenKind k);
/// Reserved or contextual word.
bool isWord(TokenKind k);
/// A contextual word (`on` … `from`): also a name.
bool isContextualWord(TokenKind k);
/// A token that can be a name: an identifier or a contextual word.
bool isNameToken(TokenKind k);

/// Splits `text` into tokens, comments included, whitespace left out. Never fails: text
/// the grammar cannot read becomes `BadChar`, `UnterminatedString` or
/// `UnterminatedComment` tokens. `text` must be valid UTF-8.
std::vector<Token> lex(std::string_view text);

}  // namespace pave::syntax
