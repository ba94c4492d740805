// The layout rules of `pave fmt`, in the style of the SPEC's examples:
//  - every top-level item (namespace, use, annotation, declaration) starts a line;
//  - a rule's head `allow name on T` is one line, each clause a line indented two spaces
//    (an exception's leading `lifts` stays on the head); a `when`/`unless` conjunction of
//    three or more operands, or one that does not fit, puts each `and` on its own line,
//    right-aligned under the clause keyword (a disjunction that does not fit: each `or`);
//  - an operand whose line still does not fit (or holds a comment) breaks at its own
//    `and`/`or` with a hanging indent: the operators under the operand's first token,
//    inside its parentheses; `not`, `any` and `all` are looked through;
//  - enum, principal and context bodies stay on one line when they fit, otherwise one
//    member per line with a trailing comma; request bodies are always one member per line;
//  - test inputs stay on one line when they fit, otherwise their fields fill lines of
//    `fillWidth` columns;
//  - a def or const that does not fit breaks after `=`, then before top-level `and`/`or`
//    and, where still needed, nested ones as above;
//  - inside a type, `<` and `>` are brackets: `Map<String, String>` is never split.
#include "format/internal/Planner.h"

#include <algorithm>

namespace pave::format::internal {

using syntax::TokenKind;

size_t Planner::tokenAt(uint32_t offset) const {
  auto it = std::lower_bound(l_.tokens.begin(), l_.tokens.end(), offset,
                             [](const syntax::Token& t, uint32_t o) { return t.begin < o; });
  return static_cast<size_t>(it - l_.tokens.begin());
}

size_t Planner::lastBefore(uint32_t end) const {
  auto it = std::upper_bound(l_.tokens.begin(), l_.tokens.end(), end,
                             [](uint32_t e, const syntax::Token& t) { return e < t.end; });
  size_t i = static_cast<size_t>(it - l_.tokens.begin());
  return i == 0 ? 0 : i - 1;
}

bool Planner::hasComment(size_t first, size_t last) const {
  for (size_t i = first; i <= last && i < l_.tokens.size(); ++i)
    if (l_.comment(i)) return true;
  return false;
}

void Planner::lineBreak(size_t i, uint16_t indent) {
  if (i >= l_.tokens.size()) return;
  l_.plan[i].line = true;
  l_.plan[i].indent = indent;
}

void Planner::markTypes() {
  for (const ast::TypeRef& t : ast_.types) {
    if (!t.range.valid() || t.range.file != ast_.files.back().file) continue;
    for (size_t i = tokenAt(t.range.begin); i < l_.tokens.size() && l_.tokens[i].end <= t.range.end; ++i)
      l_.plan[i].typeMode = true;
  }
}

void Planner::markKeywords() {
  for (const ast::RuleDecl& r : ast_.rules)
    for (const ast::Clause& c : r.clauses)
      if (c.keywordRange.file == ast_.files.back().file) l_.plan[tokenAt(c.keywordRange.begin)].keywordRole = true;
}

void Planner::run(const ast::SourceFile& file) {
  markTypes();
  markKeywords();
  size_t first = l_.nextCode(SIZE_MAX);
  if (first != SIZE_MAX) lineBreak(first, 0);
  for (const ast::UseDecl& u : file.uses) lineBreak(tokenAt(u.range.begin), 0);
  for (ast::DeclId id : file.decls) decl(ast_.decl(id));
}

void Planner::decl(const ast::Decl& d) {
  size_t keyword = tokenAt(d.range.begin);
  size_t last = lastBefore(d.range.end);
  lineBreak(keyword, 0);
  switch (d.kind) {
    case ast::DeclKind::Enum:
    case ast::DeclKind::Principal:
    case ast::DeclKind::Record:
    case ast::DeclKind::Context: {
      size_t open = keyword;
      while (open < last && l_.tokens[open].kind != TokenKind::LBrace) ++open;
      block(keyword, open, last, 0, BlockMode::OneLineIfFits);
      break;
    }
    case ast::DeclKind::Request: {
      size_t open = keyword;
      while (open < last && l_.tokens[open].kind != TokenKind::LBrace) ++open;
      block(keyword, open, last, 0, BlockMode::OnePerLine);
      break;
    }
    case ast::DeclKind::Const: valueDecl(keyword, last, ast_.consts[d.index].value); break;
    case ast::DeclKind::Def: valueDecl(keyword, last, ast_.defs[d.index].body); break;
    case ast::DeclKind::Rule: rule(ast_.rules[d.index], keyword); break;
    case ast::DeclKind::Test: test(ast_.tests[d.index], keyword, last); break;
    case ast::DeclKind::Table: break;  // one line: `table name: Map<String, R> from "path";`
  }
}

// ---- rules ----------------------------------------------------------------------------------

void Planner::rule(const ast::RuleDecl& r, size_t keyword) {
  for (const ast::Annotation& a : r.annotations) lineBreak(tokenAt(a.range.begin), 0);
  for (size_t k = 0; k < r.clauses.size(); ++k) {
    const ast::Clause& c = r.clauses[k];
    size_t kw = tokenAt(c.keywordRange.begin);
    bool liftsOnHead = k == 0 && r.effect == ast::Effect::Exception && c.kind == ast::ClauseKind::Lifts;
    if (!liftsOnHead) lineBreak(kw, 2);
    if (c.kind == ast::ClauseKind::When || c.kind == ast::ClauseKind::Unless) conjunction(c, kw);
  }
  (void)keyword;
}

void Planner::conjunction(const ast::Clause& c, size_t keyword) {
  if (c.exprs.empty()) return;
  ast::ExprId id = c.exprs[0];
  const ast::ExprNode& e = ast_.expr(id);
  size_t last = lastBefore(c.range.end);
  size_t lineEnd = last;
  size_t after = l_.nextCode(last);
  if (after != SIZE_MAX && l_.tokens[after].kind == TokenKind::Semi) lineEnd = after;
  bool fits = fitsLine(keyword, lineEnd);
  // A parenthesized condition is one operand: its `and`s and `or`s are not the clause's.
  bool bare = tokenAt(e.range.begin) == l_.nextCode(keyword);
  if (bare && e.kind == ast::ExprKind::And && (e.numChildren >= 3 || !fits)) {
    logical(id, static_cast<uint16_t>(2 + l_.spelling(keyword).size() - 3), lineEnd);
  } else if (bare && e.kind == ast::ExprKind::Or && !fits) {
    logical(id, static_cast<uint16_t>(2 + l_.spelling(keyword).size() - 2), lineEnd);
  } else if (!fits) {
    nested(id, lineEnd);
  }
}

uint32_t Planner::column(size_t i) const {
  size_t start = i;
  while (start != SIZE_MAX && !(l_.plan[start].line && !l_.comment(start))) start = l_.prevCode(start);
  if (start == SIZE_MAX) return 0;
  uint32_t width = 0;
  size_t prev = SIZE_MAX;
  for (size_t k = start; k <= i; ++k) {
    if (l_.comment(k) || l_.plan[k].drop) continue;
    if (prev != SIZE_MAX && spaceBetween(l_, prev, k)) ++width;
    if (k < i) width += printedWidth(l_, k);
    prev = k;
  }
  return l_.plan[start].indent + width;
}

bool Planner::fitsLine(size_t first, size_t last) const {
  uint32_t w = flatWidth(l_, first, last);
  return w != kNoFit && column(first) + w <= width_;
}

size_t Planner::operatorAfter(ast::ExprId operand, TokenKind op) const {
  // Between two operands there are only parentheses, comments and the operator.
  size_t t = tokenAt(ast_.expr(operand).range.end);
  while (t < l_.tokens.size() && l_.tokens[t].kind != op) ++t;
  return t;
}

void Planner::logical(ast::ExprId id, uint16_t indent, size_t lineEnd) {
  const ast::ExprNode& e = ast_.expr(id);
  if (e.kind != ast::ExprKind::And && e.kind != ast::ExprKind::Or) return;
  TokenKind op = e.kind == ast::ExprKind::And ? TokenKind::And : TokenKind::Or;
  std::vector<size_t> ops;
  for (uint32_t i = 0; i + 1 < e.numChildren; ++i) {
    ops.push_back(operatorAfter(ast_.child(id, i), op));
    lineBreak(ops.back(), indent);
  }
  // An operand whose line still does not fit (or holds a comment) is broken in turn.
  for (uint32_t i = 0; i < e.numChildren; ++i) {
    size_t first = i == 0 ? tokenAt(e.range.begin) : ops[i - 1];
    size_t last = i + 1 < e.numChildren ? l_.prevCode(ops[i]) : lineEnd;
    if (first >= l_.tokens.size() || last == SIZE_MAX || last < first) continue;
    if (!fitsLine(first, last) || hasComment(first, last)) nested(ast_.child(id, i), last);
  }
}

void Planner::nested(ast::ExprId id, size_t lineEnd) {
  const ast::ExprNode& e = ast_.expr(id);
  switch (e.kind) {
    case ast::ExprKind::And:
    case ast::ExprKind::Or: {
      // A hanging indent: the operators line up with the operand's first token.
      size_t first = tokenAt(e.range.begin);
      if (first >= l_.tokens.size()) return;
      logical(id, static_cast<uint16_t>(column(first)), lineEnd);
      break;
    }
    case ast::ExprKind::Not: nested(ast_.child(id, 0), lineEnd); break;
    case ast::ExprKind::Any:
    case ast::ExprKind::All: nested(ast_.child(id, 1), lineEnd); break;
    default: break;
  }
}

// ---- consts and defs ------------------------------------------------------------------------

void Planner::valueDecl(size_t keyword, size_t last, ast::ExprId value) {
  if (flatWidth(l_, keyword, last) <= width_) return;
  const ast::ExprNode& e = ast_.expr(value);
  size_t start = tokenAt(e.range.begin);
  size_t assign = start;
  while (assign > keyword && l_.tokens[assign].kind != TokenKind::Assign) --assign;
  size_t body = l_.nextCode(assign);
  if (body == SIZE_MAX || body > last) return;
  lineBreak(body, 2);
  if (fitsLine(body, last) || body != start) return;
  if (e.kind == ast::ExprKind::Or || e.kind == ast::ExprKind::And) {
    logical(value, 2, last);
  } else {
    nested(value, last);
  }
}

// ---- tests ----------------------------------------------------------------------------------

void Planner::test(const ast::TestDecl& t, size_t keyword, size_t close) {
  auto input = [&](const ast::TestInput& in) {
    if (!in.present) return;
    size_t first = tokenAt(in.range.begin);
    size_t last = lastBefore(in.range.end);
    size_t open = first;
    while (open < last && l_.tokens[open].kind != TokenKind::LBrace) ++open;
    lineBreak(first, 2);
    block(first, open, last, 2, BlockMode::Fill);
  };
  input(t.request);
  input(t.principal);
  input(t.context);
  for (const ast::Expect& e : t.expects) lineBreak(tokenAt(e.range.begin), 2);
  if (close > keyword && l_.tokens[close].kind == TokenKind::RBrace && l_.prevCode(close) != SIZE_MAX &&
      l_.tokens[l_.prevCode(close)].kind != TokenKind::LBrace)
    lineBreak(close, 0);
}

// ---- brace blocks ---------------------------------------------------------------------------

std::vector<Planner::Span> Planner::items(size_t open, size_t close) const {
  std::vector<Span> out;
  size_t start = SIZE_MAX, lastCode = SIZE_MAX;
  int depth = 0;
  for (size_t i = open + 1; i < close; ++i) {
    if (l_.comment(i)) continue;
    TokenKind k = l_.tokens[i].kind;
    if (depth == 0 && k == TokenKind::Comma) {
      if (start != SIZE_MAX) out.push_back({start, lastCode});
      start = SIZE_MAX;
      continue;
    }
    // Inside a type, `<` and `>` bracket its arguments: `Map<String, String>` is one item.
    bool typeBracket = l_.plan[i].typeMode;
    if (k == TokenKind::LParen || k == TokenKind::LBrack || k == TokenKind::LBrace || (typeBracket && k == TokenKind::Lt))
      ++depth;
    if (k == TokenKind::RParen || k == TokenKind::RBrack || k == TokenKind::RBrace || (typeBracket && k == TokenKind::Gt))
      --depth;
    if (start == SIZE_MAX) start = i;
    lastCode = i;
  }
  if (start != SIZE_MAX) out.push_back({start, lastCode});
  return out;
}

void Planner::block(size_t lineStart, size_t open, size_t close, uint16_t indent, BlockMode mode) {
  if (open >= close || l_.tokens[open].kind != TokenKind::LBrace || l_.tokens[close].kind != TokenKind::RBrace)
    return;
  std::vector<Span> list = items(open, close);
  if (list.empty()) return;
  size_t trailing = l_.nextCode(list.back().second);
  bool hasTrailing = trailing != SIZE_MAX && trailing < close && l_.tokens[trailing].kind == TokenKind::Comma;
  if (hasTrailing) l_.plan[trailing].drop = true;
  bool comments = hasComment(open, close);
  if (mode == BlockMode::OneLineIfFits || mode == BlockMode::Fill) {
    if (!comments && indent + flatWidth(l_, lineStart, close) <= width_) return;
    if (mode == BlockMode::Fill && !comments) {
      fill(list, static_cast<uint16_t>(indent + 2));
      lineBreak(close, indent);
      return;
    }
  }
  for (const Span& item : list) lineBreak(item.first, static_cast<uint16_t>(indent + 2));
  if (hasTrailing) {
    l_.plan[trailing].drop = false;
  } else {
    l_.plan[list.back().second].commaAfter = true;
  }
  lineBreak(close, indent);
}

void Planner::fill(const std::vector<Span>& list, uint16_t indent) {
  uint32_t column = 0;
  for (size_t k = 0; k < list.size(); ++k) {
    uint32_t w = flatWidth(l_, list[k].first, list[k].second) + (k + 1 < list.size() ? 1 : 0);
    if (k == 0 || column + 1 + w > fillWidth_) {
      lineBreak(list[k].first, indent);
      column = indent + w;
    } else {
      column += 1 + w;
    }
  }
}

}  // namespace pave::format::internal
