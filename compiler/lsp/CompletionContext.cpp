#include "lsp/CompletionContext.h"

#include <algorithm>

namespace pave::lsp {

using syntax::TokenKind;

namespace {

bool isOpener(TokenKind k) { return k == TokenKind::LParen || k == TokenKind::LBrack || k == TokenKind::LBrace; }
bool isCloser(TokenKind k) { return k == TokenKind::RParen || k == TokenKind::RBrack || k == TokenKind::RBrace; }

}  // namespace

CompletionContext::CompletionContext(std::string_view text, uint32_t offset, const sema::CheckedProgram& program)
    : text_(text), p_(program), tokens_(syntax::lex(text)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const syntax::Token& t = tokens_[i];
    if (t.begin >= offset) break;
    bool inside = offset < t.end || (offset == t.end && (t.kind == TokenKind::LineComment ||
                                                         t.kind == TokenKind::DocComment ||
                                                         t.kind == TokenKind::UnterminatedString ||
                                                         t.kind == TokenKind::UnterminatedComment));
    if (syntax::isComment(t.kind) || t.kind == TokenKind::String || t.kind == TokenKind::UnterminatedString) {
      if (inside) site_ = Site::None;
      continue;
    }
    // The word being typed is not context: `principal.ow|` completes after `principal.`.
    if (offset <= t.end && (syntax::isWord(t.kind) || t.kind == TokenKind::Ident)) break;
    code_.push_back(i);
  }
  readHeader();
  if (site_ != Site::None) site_ = classify();
}

std::string CompletionContext::spelling(size_t i) const {
  const syntax::Token& t = tokens_[code_[i]];
  return std::string(text_.substr(t.begin, t.end - t.begin));
}

std::string CompletionContext::dottedBefore(size_t last, size_t& first) const {
  std::string name = spelling(last);
  first = last;
  while (first >= 2 && kind(first - 1) == TokenKind::Dot && isName(first - 2)) {
    first -= 2;
    name = spelling(first) + "." + name;
  }
  return name;
}

/// Reads `namespace` and `use` declarations from the whole file.
void CompletionContext::readHeader() {
  std::vector<size_t> all;
  for (size_t i = 0; i < tokens_.size(); ++i)
    if (!syntax::isComment(tokens_[i].kind)) all.push_back(i);
  auto text = [&](size_t k) {
    return std::string(text_.substr(tokens_[all[k]].begin, tokens_[all[k]].end - tokens_[all[k]].begin));
  };
  auto dotted = [&](size_t& k) {
    std::string name;
    while (k < all.size() && (syntax::isNameToken(tokens_[all[k]].kind) || tokens_[all[k]].kind == TokenKind::Dot))
      name += text(k++);
    return name;
  };
  for (size_t k = 0; k < all.size(); ++k) {
    TokenKind kk = tokens_[all[k]].kind;
    if (kk == TokenKind::Namespace) {
      ++k;
      ns_ = dotted(k);
    } else if (kk == TokenKind::Use) {
      ++k;
      std::string target = dotted(k);
      std::string alias = target.substr(target.rfind('.') + 1);
      if (k + 1 < all.size() && tokens_[all[k]].kind == TokenKind::As) alias = text(k + 1);
      if (!target.empty()) uses_[alias] = target;
    }
  }
}

std::optional<size_t> CompletionContext::openerBefore(size_t i) const {
  int depth = 0;
  for (size_t k = i + 1; k-- > 0;) {
    if (isCloser(kind(k))) ++depth;
    if (isOpener(kind(k))) {
      if (depth == 0) return k;
      --depth;
    }
  }
  return std::nullopt;
}

Site CompletionContext::classify() {
  if (code_.empty()) return Site::General;
  size_t k = code_.size() - 1;
  TokenKind prev = kind(k);
  bool afterDot = k > 0 && kind(k - 1) == TokenKind::Dot;  // `x.lifts` is a name, not a keyword
  switch (prev) {
    case TokenKind::Dot: receiver_ = readReceiver(k); return Site::AfterDot;
    case TokenKind::At: return Site::Annotation;
    case TokenKind::Is: return Site::PrincipalType;
    case TokenKind::Lifts: return afterDot ? Site::General : Site::Lifts;
    case TokenKind::On: return afterDot ? Site::General : Site::RequestType;
    case TokenKind::For: return afterDot ? Site::General : Site::PrincipalType;
    case TokenKind::Merge: return afterDot ? Site::General : Site::MergeOp;
    case TokenKind::Expect: return afterDot ? Site::General : Site::Expect;
    default: break;
  }
  if (inTableDecl(k)) {
    if (prev == TokenKind::Comma && k >= 3 && kind(k - 2) == TokenKind::Lt && spelling(k - 3) == "Map")
      return Site::RecordType;
    if (prev == TokenKind::Gt) return Site::TableFrom;
    if (prev == TokenKind::Colon) return Site::TableMap;
    if (prev == TokenKind::Lt) return Site::TableKey;
  }
  if (typePosition(k)) return Site::Type;
  if (prev == TokenKind::Comma || prev == TokenKind::LBrace) {
    if (!testFieldAttrs().empty()) return Site::TestField;
    size_t first = k;
    while (first > 0 && (isName(first - 1) || kind(first - 1) == TokenKind::Dot || kind(first - 1) == TokenKind::Comma))
      --first;
    if (first > 0 && kind(first - 1) == TokenKind::On) return Site::RequestType;
    if (first > 0 && kind(first - 1) == TokenKind::For) return Site::PrincipalType;
  }
  return Site::General;
}

Receiver CompletionContext::readReceiver(size_t dot) const {
  Receiver r;
  if (dot == 0) return r;
  TokenKind before = kind(dot - 1);
  if (before == TokenKind::Principal) r.kind = Receiver::Principal;
  if (before == TokenKind::Request) r.kind = Receiver::Request;
  if (before == TokenKind::Context) r.kind = Receiver::Context;
  if (r.kind != Receiver::None) return r;
  if (before == TokenKind::RBrack) {  // `t[k].`: a row's attributes
    r.name = tableBefore(dot - 1);
    if (!r.name.empty()) r.kind = Receiver::Row;
    return r;
  }
  if (!isName(dot - 1)) return r;
  size_t first = 0;
  std::string name = dottedBefore(dot - 1, first);
  r.kind = Receiver::Name;
  r.name = name;
  // `principal.attr.`: methods of the attribute's type.
  if (first >= 2 && kind(first - 1) == TokenKind::Dot && first - 1 == dot - 2) {
    TokenKind root = kind(first - 2);
    std::vector<AttrGroup> groups;
    if (root == TokenKind::RBrack) {  // `t[k].attr.`: methods of the attribute's type
      const sema::TableInfo* t = findTable(tableBefore(first - 2));
      if (!t || !t->record.valid() || t->record.value >= p_.records.size()) return r;
      r.kind = Receiver::Attribute;
      if (const sema::AttrInfo* a = p_.records[t->record.value].attr(name)) r.type = a->type;
      return r;
    }
    if (root == TokenKind::Principal) groups = principalAttrs();
    if (root == TokenKind::Request) groups = requestAttrs();
    if (root == TokenKind::Context) groups = {{&p_.context.attrs, "context"}};
    if (root != TokenKind::Principal && root != TokenKind::Request && root != TokenKind::Context) return r;
    r.kind = Receiver::Attribute;
    for (const AttrGroup& g : groups)
      for (const sema::AttrInfo& a : *g.attrs)
        if (a.name == name && !r.type.valid()) r.type = a.type;
  }
  return r;
}

bool CompletionContext::inTableDecl(size_t k) const {
  for (size_t j = k + 1; j-- > 0;) {
    TokenKind t = kind(j);
    if (t == TokenKind::Semi || t == TokenKind::LBrace || t == TokenKind::RBrace) return false;
    if (t == TokenKind::Table && (j == 0 || kind(j - 1) == TokenKind::Semi || kind(j - 1) == TokenKind::RBrace))
      return true;
  }
  return false;
}

std::string CompletionContext::tableBefore(size_t close) const {
  if (kind(close) != TokenKind::RBrack) return {};
  int depth = 0;
  for (size_t j = close + 1; j-- > 0;) {
    if (isCloser(kind(j))) ++depth;
    if (isOpener(kind(j)) && --depth == 0) {
      if (kind(j) != TokenKind::LBrack || j == 0 || !isName(j - 1)) return {};
      size_t first = 0;
      return dottedBefore(j - 1, first);
    }
  }
  return {};
}

bool CompletionContext::typePosition(size_t k) const {
  TokenKind prev = kind(k);
  if (prev == TokenKind::Lt) return k > 0 && (spelling(k - 1) == "Set" || spelling(k - 1) == "Map");
  if (prev == TokenKind::Comma)
    return k >= 3 && isName(k - 1) && kind(k - 2) == TokenKind::Lt && spelling(k - 3) == "Map";
  if (prev != TokenKind::Colon || k == 0) return false;
  if (isName(k - 1) && k >= 2 && kind(k - 2) == TokenKind::Const) return true;
  if (kind(k - 1) == TokenKind::RParen) {  // `def f(...):` result type
    int depth = 0;
    for (size_t j = k; j-- > 0;) {
      if (kind(j) == TokenKind::RParen) ++depth;
      if (kind(j) == TokenKind::LParen && --depth == 0) return j >= 2 && isName(j - 1) && kind(j - 2) == TokenKind::Def;
    }
    return false;
  }
  std::optional<size_t> open = openerBefore(k);
  if (!open) return false;
  if (kind(*open) == TokenKind::LParen) return *open >= 2 && isName(*open - 1) && kind(*open - 2) == TokenKind::Def;
  // A brace inside another brace is a test input or a map literal: values, not types.
  if (kind(*open) != TokenKind::LBrace || (*open > 0 && openerBefore(*open - 1))) return false;
  for (size_t j = *open; j-- > 0;) {
    TokenKind kj = kind(j);
    if (kj == TokenKind::Principal || kj == TokenKind::Request || kj == TokenKind::Context || kj == TokenKind::Record)
      return true;
    if (!isName(j) && kj != TokenKind::Dot && kj != TokenKind::Comma && kj != TokenKind::For) return false;
  }
  return false;
}

}  // namespace pave::lsp
