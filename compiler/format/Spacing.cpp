// Spacing between tokens on one line: the one place that knows where Pave puts spaces.
#include "format/internal/Plan.h"

namespace pave::format::internal {

using syntax::TokenKind;

size_t Layout::prevCode(size_t i) const {
  while (i-- > 0)
    if (!comment(i) && !plan[i].drop) return i;
  return SIZE_MAX;
}

size_t Layout::nextCode(size_t i) const {
  for (++i; i < tokens.size(); ++i)
    if (!comment(i) && !plan[i].drop) return i;
  return SIZE_MAX;
}

namespace {

bool isLiteral(TokenKind k) {
  switch (k) {
    case TokenKind::Int: case TokenKind::String: case TokenKind::Duration: case TokenKind::Timestamp:
    case TokenKind::BadNumber: case TokenKind::True: case TokenKind::False:
      return true;
    default:
      return false;
  }
}

bool isName(const Layout& l, size_t i) { return syntax::isNameToken(l.tokens[i].kind) && !l.plan[i].keywordRole; }

/// Whether token `i` ends an operand, so that a following `-` is binary and `[` indexes.
bool endsOperand(const Layout& l, size_t i) {
  TokenKind k = l.tokens[i].kind;
  return isName(l, i) || isLiteral(k) || k == TokenKind::RParen || k == TokenKind::RBrack ||
         k == TokenKind::Principal || k == TokenKind::Request || k == TokenKind::Context;
}

bool unaryMinus(const Layout& l, size_t i) {
  if (l.tokens[i].kind != TokenKind::Minus) return false;
  size_t before = l.prevCode(i);
  return before == SIZE_MAX || !endsOperand(l, before);
}

}  // namespace

bool spaceBetween(const Layout& l, size_t prev, size_t cur) {
  TokenKind p = l.tokens[prev].kind, c = l.tokens[cur].kind;
  switch (c) {
    case TokenKind::Comma: case TokenKind::Semi: case TokenKind::Dot: case TokenKind::RParen:
    case TokenKind::RBrack: case TokenKind::Colon: case TokenKind::Question:
      return false;
    default:
      break;
  }
  switch (p) {
    case TokenKind::LParen: case TokenKind::LBrack: case TokenKind::Dot: case TokenKind::At:
      return false;
    default:
      break;
  }
  if (p == TokenKind::LBrace && c == TokenKind::RBrace) return false;
  if (c == TokenKind::LParen) return !(isName(l, prev) || p == TokenKind::Has);
  if (c == TokenKind::LBrack) return !endsOperand(l, prev);
  if (l.plan[cur].typeMode && (c == TokenKind::Lt || c == TokenKind::Gt)) return false;
  if (l.plan[prev].typeMode && p == TokenKind::Lt) return false;
  return !unaryMinus(l, prev);
}

uint32_t printedWidth(const Layout& l, size_t i) {
  uint32_t n = 0;
  for (char ch : l.spelling(i))
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  return n + (l.plan[i].commaAfter ? 1 : 0);
}

uint32_t flatWidth(const Layout& l, size_t first, size_t last) {
  uint32_t width = 0;
  size_t prev = SIZE_MAX;
  for (size_t i = first; i <= last && i < l.tokens.size(); ++i) {
    if (l.comment(i)) return kNoFit;
    if (l.plan[i].drop) continue;
    if (prev != SIZE_MAX && spaceBetween(l, prev, i)) ++width;
    width += printedWidth(l, i);
    prev = i;
  }
  return width;
}

}  // namespace pave::format::internal
