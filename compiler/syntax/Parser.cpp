// ANTLR wrapper: lexing, two-stage parsing (SLL, then LL on failure), human-worded
// syntax errors, and the conversion of the parse tree into Pave's AST.
#include "syntax/Parser.h"

#include <antlr4-runtime.h>

#include <string>

#include "PaveLexer.h"
#include "PaveParser.h"
#include "syntax/Literals.h"
#include "syntax/internal/OffsetMap.h"

namespace pave::syntax {

using gen::PaveLexer;
using gen::PaveParser;

namespace {

using internal::OffsetMap;

/// Returns the byte offset of the first invalid UTF-8 sequence, or npos.
size_t firstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return i;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
      return i;
    i += n;
  }
  return std::string_view::npos;
}

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

/// Collects the first syntax error of a file, worded for people.
class ErrorListener : public antlr4::BaseErrorListener {
 public:
  ErrorListener(const OffsetMap& offsets, FileId file) : offsets_(offsets), file_(file) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t, size_t,
                   const std::string&, std::exception_ptr) override {
    if (hasError) return;
    hasError = true;
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (!parser || !offending) {
      message = "cannot read the text here";
      return;
    }
    range = rangeOf(offending);
    const auto& vocab = parser->getVocabulary();
    size_t type = offending->getType();
    std::string found = type == antlr4::Token::EOF ? "end of file" : "`" + offending->getText() + "`";
    switch (type) {
      case PaveLexer::UNTERMINATED_STRING: message = "unterminated string literal"; return;
      case PaveLexer::UNTERMINATED_COMMENT: message = "unterminated block comment"; return;
      case PaveLexer::BAD_CHAR: message = "unexpected character " + found; return;
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
      message = "comparison operators do not chain; combine comparisons with `and`";
      return;
    }
    message = "expected " + describe(expected, vocab) + ", found " + found;
  }

  SourceRange rangeOf(antlr4::Token* t) const {
    if (t->getType() == antlr4::Token::EOF) {
      uint32_t at = offsets_.byteOffset(t->getStartIndex());
      return {file_, at, at};
    }
    return {file_, offsets_.byteOffset(t->getStartIndex()), offsets_.byteOffset(t->getStopIndex() + 1)};
  }

  bool hasError = false;
  std::string message;
  SourceRange range;

 private:
  static std::string describe(const antlr4::misc::IntervalSet& set, const antlr4::dfa::Vocabulary& vocab) {
    if (set.contains(static_cast<size_t>(PaveLexer::INT)) && set.contains(static_cast<size_t>(PaveLexer::STRING)) && set.contains(static_cast<size_t>(PaveLexer::LPAREN)))
      return "an expression";
    std::vector<std::string> names;
    bool name = set.contains(static_cast<size_t>(PaveLexer::IDENT));
    if (name) names.push_back("a name");
    for (size_t t : set.toList()) {
      if (t == PaveLexer::IDENT) continue;
      if (name && t >= PaveLexer::ON && t <= PaveLexer::UNIQUE) continue;  // contextual words are names
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

  const OffsetMap& offsets_;
  FileId file_;
};

/// Converts parse-tree contexts into AST nodes.
class AstBuilder {
 public:
  AstBuilder(ast::Ast& ast, const OffsetMap& offsets, FileId file, DiagnosticEngine& diags,
             antlr4::CommonTokenStream& tokens, const ParseLimits& limits)
      : ast_(ast), offsets_(offsets), file_(file), diags_(diags), tokens_(tokens), limits_(limits) {}

  void build(PaveParser::FileContext* ctx, bool fromStdlib);
  bool tooDeep() const { return tooDeep_; }

 private:
  using ExprId = ast::ExprId;

  SourceRange range(antlr4::ParserRuleContext* ctx) const {
    antlr4::Token* start = ctx->getStart();
    antlr4::Token* stop = ctx->getStop();
    uint32_t b = offsets_.byteOffset(start->getStartIndex());
    uint32_t e = stop && stop->getStopIndex() != static_cast<size_t>(-1) && stop->getTokenIndex() >= start->getTokenIndex()
                     ? offsets_.byteOffset(stop->getStopIndex() + 1)
                     : b;
    return {file_, b, e};
  }
  SourceRange range(antlr4::Token* t) const {
    return {file_, offsets_.byteOffset(t->getStartIndex()), offsets_.byteOffset(t->getStopIndex() + 1)};
  }
  SourceRange range(antlr4::tree::TerminalNode* n) const { return range(n->getSymbol()); }

  ast::Symbol sym(const std::string& s) { return ast_.symbols.intern(s); }
  ast::Symbol identSym(PaveParser::IdentContext* id) { return sym(id->getText()); }

  ast::NameId qname(PaveParser::QualifiedNameContext* ctx) {
    std::vector<ast::NameSegment> segs;
    for (auto* id : ctx->ident()) segs.push_back({identSym(id), range(id)});
    return ast_.addName(segs, range(ctx));
  }

  ExprId make(ast::ExprKind kind, SourceRange r, const std::vector<ExprId>& children = {}) {
    ast::ExprNode n{};
    n.kind = kind;
    n.range = r;
    return ast_.addExpr(n, children);
  }
  ExprId makeSym(ast::ExprKind kind, SourceRange r, ast::Symbol s, const std::vector<ExprId>& children = {}) {
    ast::ExprNode n{};
    n.kind = kind;
    n.range = r;
    n.symbol = s;
    return ast_.addExpr(n, children);
  }

  std::string decodeStringToken(antlr4::Token* tok, bool like, bool& ok);
  std::string docFor(antlr4::Token* first);
  ast::TypeId type(PaveParser::TypeContext* ctx);
  ast::Attr attr(PaveParser::AttrContext* ctx);
  void decl(PaveParser::DeclContext* ctx, ast::SourceFile& file);
  ast::Decl& newDecl(ast::DeclKind kind, uint32_t index, antlr4::ParserRuleContext* ctx,
                     PaveParser::IdentContext* name, antlr4::Token* keyword, antlr4::Token* docAnchor);
  void rule(PaveParser::RuleDeclContext* ctx, ast::SourceFile& file);
  void test(PaveParser::TestDeclContext* ctx, ast::SourceFile& file);
  ast::TestInput testInput(antlr4::ParserRuleContext* ctx, PaveParser::QualifiedNameContext* type,
                           PaveParser::FieldListContext* fields);
  ExprId testValue(PaveParser::TestValueContext* ctx);

  ExprId expr(PaveParser::ExprContext* ctx);
  ExprId orExpr(PaveParser::OrExprContext* ctx);
  ExprId andExpr(PaveParser::AndExprContext* ctx);
  ExprId notExpr(PaveParser::NotExprContext* ctx);
  ExprId cmpExpr(PaveParser::CmpExprContext* ctx);
  ExprId addExpr(PaveParser::AddExprContext* ctx);
  ExprId unaryExpr(PaveParser::UnaryExprContext* ctx);
  ExprId postfixExpr(PaveParser::PostfixExprContext* ctx);
  ExprId primary(PaveParser::PrimaryContext* ctx);
  ExprId literal(PaveParser::LiteralContext* ctx, bool negate = false, SourceRange negRange = {});
  std::vector<ExprId> args(PaveParser::CallArgsContext* ctx);

  // Depth guard for the recursive conversion.
  struct DepthGuard {
    AstBuilder& b;
    explicit DepthGuard(AstBuilder& builder) : b(builder) { ++b.depth_; }
    ~DepthGuard() { --b.depth_; }
  };
  bool enter(antlr4::ParserRuleContext* ctx) {
    if (depth_ <= limits_.maxNesting * 4) return true;
    if (!tooDeep_) {
      tooDeep_ = true;
      diags_.report(DiagKind::Syntax, range(ctx), "expression nests too deeply");
    }
    return false;
  }

  ast::Ast& ast_;
  const OffsetMap& offsets_;
  FileId file_;
  DiagnosticEngine& diags_;
  antlr4::CommonTokenStream& tokens_;
  const ParseLimits& limits_;
  uint32_t fileIndex_ = 0;
  uint32_t depth_ = 0;
  bool tooDeep_ = false;
};

std::string AstBuilder::decodeStringToken(antlr4::Token* tok, bool like, bool& ok) {
  std::string text = tok->getText();
  std::string body = text.substr(1, text.size() - 2);
  std::string error;
  size_t at = 0;
  auto decoded = decodeString(body, like, error, at);
  ok = decoded.has_value();
  if (!ok) {
    SourceRange r = range(tok);
    // Offsets within the body are bytes of the UTF-8 text; the token starts at the quote.
    SourceRange bad{file_, r.begin + 1 + static_cast<uint32_t>(at), r.begin + 1 + static_cast<uint32_t>(at) + 2};
    diags_.report(DiagKind::Syntax, bad, error);
    return {};
  }
  return *decoded;
}

std::string AstBuilder::docFor(antlr4::Token* first) {
  std::vector<antlr4::Token*> hidden = tokens_.getHiddenTokensToLeft(first->getTokenIndex(), 2);
  std::string doc;
  for (antlr4::Token* t : hidden) {
    std::string line = t->getText().substr(3);
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!doc.empty()) doc += '\n';
    doc += line;
  }
  return doc;
}

ast::TypeId AstBuilder::type(PaveParser::TypeContext* ctx) {
  ast::TypeRef t;
  t.name = qname(ctx->qualifiedName());
  for (auto* arg : ctx->type()) t.args.push_back(type(arg));
  t.optional = ctx->QUESTION() != nullptr;
  t.range = range(ctx);
  ast_.types.push_back(std::move(t));
  return ast::TypeId{static_cast<uint32_t>(ast_.types.size() - 1)};
}

ast::Attr AstBuilder::attr(PaveParser::AttrContext* ctx) {
  return {identSym(ctx->ident()), range(ctx->ident()), type(ctx->type()), range(ctx)};
}

ast::Decl& AstBuilder::newDecl(ast::DeclKind kind, uint32_t index, antlr4::ParserRuleContext* ctx,
                               PaveParser::IdentContext* name, antlr4::Token* keyword, antlr4::Token* docAnchor) {
  ast::Decl d;
  d.kind = kind;
  d.index = index;
  if (name) {
    d.name = identSym(name);
    d.nameRange = range(name);
  }
  SourceRange whole = range(ctx);
  d.range = {file_, offsets_.byteOffset(keyword->getStartIndex()), whole.end};
  d.doc = docFor(docAnchor);
  d.file = fileIndex_;
  ast_.decls.push_back(std::move(d));
  return ast_.decls.back();
}

void AstBuilder::build(PaveParser::FileContext* ctx, bool fromStdlib) {
  ast::SourceFile file;
  file.file = file_;
  file.fromStdlib = fromStdlib;
  fileIndex_ = static_cast<uint32_t>(ast_.files.size());
  if (auto* ns = ctx->namespaceDecl()) file.namespaceName = qname(ns->qualifiedName());
  for (auto* use : ctx->useDecl()) {
    ast::UseDecl u;
    u.target = qname(use->qualifiedName());
    if (use->ident()) u.alias = identSym(use->ident());
    u.range = range(use);
    file.uses.push_back(u);
  }
  for (auto* d : ctx->decl()) decl(d, file);
  ast_.files.push_back(std::move(file));
}

void AstBuilder::decl(PaveParser::DeclContext* ctx, ast::SourceFile& file) {
  auto pushDecl = [&](ast::DeclKind kind, uint32_t index, antlr4::ParserRuleContext* c, PaveParser::IdentContext* name,
                      antlr4::Token* kw) {
    newDecl(kind, index, c, name, kw, c->getStart());
    file.decls.push_back(ast::DeclId{static_cast<uint32_t>(ast_.decls.size() - 1)});
  };
  if (auto* e = ctx->enumDecl()) {
    ast::EnumDecl en;
    auto ids = e->ident();
    for (size_t i = 1; i < ids.size(); ++i) en.members.push_back({identSym(ids[i]), range(ids[i])});
    ast_.enums.push_back(std::move(en));
    pushDecl(ast::DeclKind::Enum, static_cast<uint32_t>(ast_.enums.size() - 1), e, ids[0], e->ENUM()->getSymbol());
  } else if (auto* p = ctx->principalDecl()) {
    ast::PrincipalDecl pd;
    if (auto* list = p->attrList())
      for (auto* a : list->attr()) pd.attrs.push_back(attr(a));
    ast_.principals.push_back(std::move(pd));
    pushDecl(ast::DeclKind::Principal, static_cast<uint32_t>(ast_.principals.size() - 1), p, p->ident(),
             p->PRINCIPAL()->getSymbol());
  } else if (auto* c = ctx->contextDecl()) {
    ast::ContextDecl cd;
    if (auto* list = c->attrList())
      for (auto* a : list->attr()) cd.attrs.push_back(attr(a));
    ast_.contexts.push_back(std::move(cd));
    pushDecl(ast::DeclKind::Context, static_cast<uint32_t>(ast_.contexts.size() - 1), c, nullptr,
             c->CONTEXT()->getSymbol());
  } else if (auto* r = ctx->requestDecl()) {
    ast::RequestDecl rd;
    rd.hasFor = r->FOR() != nullptr;
    for (auto* q : r->qualifiedName()) rd.forTypes.push_back(qname(q));
    if (auto* list = r->requestMemberList()) {
      for (auto* m : list->requestMember()) {
        if (m->attr()) {
          rd.attrs.push_back(attr(m->attr()));
          continue;
        }
        ast::GrantDecl g;
        g.name = identSym(m->ident());
        g.nameRange = range(m->ident());
        g.type = type(m->type());
        g.defaultValue = expr(m->expr());
        g.mergeOp = sym(m->mergeOp()->getText());
        g.mergeRange = range(m->mergeOp());
        g.range = range(m);
        rd.grants.push_back(g);
      }
    }
    ast_.requests.push_back(std::move(rd));
    pushDecl(ast::DeclKind::Request, static_cast<uint32_t>(ast_.requests.size() - 1), r, r->ident(),
             r->REQUEST()->getSymbol());
  } else if (auto* k = ctx->constDecl()) {
    ast_.consts.push_back({type(k->type()), expr(k->expr())});
    pushDecl(ast::DeclKind::Const, static_cast<uint32_t>(ast_.consts.size() - 1), k, k->ident(), k->CONST()->getSymbol());
  } else if (auto* f = ctx->defDecl()) {
    ast::DefDecl dd;
    for (auto* p2 : f->param()) dd.params.push_back({identSym(p2->ident()), range(p2->ident()), type(p2->type())});
    dd.result = type(f->type());
    dd.body = expr(f->expr());
    ast_.defs.push_back(std::move(dd));
    pushDecl(ast::DeclKind::Def, static_cast<uint32_t>(ast_.defs.size() - 1), f, f->ident(), f->DEF()->getSymbol());
  } else if (auto* rule = ctx->ruleDecl()) {
    this->rule(rule, file);
  } else if (auto* t = ctx->testDecl()) {
    test(t, file);
  }
}

void AstBuilder::rule(PaveParser::RuleDeclContext* ctx, ast::SourceFile& file) {
  ast::RuleDecl r;
  auto* eff = ctx->effect();
  r.effect = eff->ALLOW() ? ast::Effect::Allow : eff->APPROVE() ? ast::Effect::Approve
             : eff->DENY() ? ast::Effect::Deny : ast::Effect::Exception;
  for (auto* a : ctx->annotation()) {
    ast::Annotation an;
    an.name = identSym(a->ident());
    an.range = range(a);
    for (auto* e : a->expr()) an.args.push_back(expr(e));
    r.annotations.push_back(std::move(an));
  }
  if (ctx->ON()) {
    r.hasOn = true;
    auto* t = ctx->targets();
    r.onStar = t->STAR() != nullptr;
    for (auto* q : t->qualifiedName()) r.targets.push_back(qname(q));
    r.onRange = range(ctx->ON()).to(range(t));
  }
  for (auto* c : ctx->clause()) {
    ast::Clause cl;
    cl.range = range(c);
    cl.keywordRange = range(c->getStart());
    if (auto* w = dynamic_cast<PaveParser::WhenClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::When;
      cl.exprs.push_back(expr(w->expr()));
    } else if (auto* u = dynamic_cast<PaveParser::UnlessClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Unless;
      cl.exprs.push_back(expr(u->expr()));
    } else if (auto* b = dynamic_cast<PaveParser::ByClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::By;
      for (auto* e : b->expr()) cl.exprs.push_back(expr(e));
      if (b->QUORUM()) {
        cl.quorumRange = range(b->INT());
        try {
          cl.quorum = std::stoll(b->INT()->getText());
        } catch (...) {
          diags_.report(DiagKind::InvalidLiteral, cl.quorumRange, "quorum is out of range");
          cl.quorum = 1;
        }
      }
    } else if (auto* g = dynamic_cast<PaveParser::GrantClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Grant;
      for (auto* ga : g->grantAssign())
        cl.grants.push_back({identSym(ga->ident()), range(ga->ident()), expr(ga->expr())});
    } else if (auto* bc = dynamic_cast<PaveParser::BecauseClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Because;
      bool ok;
      cl.text = decodeStringToken(bc->STRING()->getSymbol(), false, ok);
    } else if (auto* l = dynamic_cast<PaveParser::LiftsClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Lifts;
      cl.lifts = qname(l->qualifiedName());
    } else if (auto* un = dynamic_cast<PaveParser::UntilClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Until;
      auto ts = parseTimestamp(un->TIMESTAMP()->getText());
      cl.untilValid = ts.has_value();
      if (ts) {
        cl.until = *ts;
      } else {
        diags_.report(DiagKind::InvalidLiteral, range(un->TIMESTAMP()),
                      "`" + un->TIMESTAMP()->getText() + "` is not a valid timestamp");
      }
    } else if (auto* o = dynamic_cast<PaveParser::OwnerClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Owner;
      bool ok;
      cl.text = decodeStringToken(o->STRING()->getSymbol(), false, ok);
    } else if (auto* tk = dynamic_cast<PaveParser::TicketClauseContext*>(c)) {
      cl.kind = ast::ClauseKind::Ticket;
      bool ok;
      cl.text = decodeStringToken(tk->STRING()->getSymbol(), false, ok);
    }
    r.clauses.push_back(std::move(cl));
  }
  ast_.rules.push_back(std::move(r));
  antlr4::Token* docAnchor = ctx->getStart();
  newDecl(ast::DeclKind::Rule, static_cast<uint32_t>(ast_.rules.size() - 1), ctx, ctx->ident(), eff->getStart(),
          docAnchor);
  file.decls.push_back(ast::DeclId{static_cast<uint32_t>(ast_.decls.size() - 1)});
}

ast::TestInput AstBuilder::testInput(antlr4::ParserRuleContext* ctx, PaveParser::QualifiedNameContext* type,
                                     PaveParser::FieldListContext* fields) {
  ast::TestInput in;
  in.present = true;
  if (type) in.type = qname(type);
  in.range = range(ctx);
  if (fields)
    for (auto* f : fields->field()) in.fields.push_back({identSym(f->ident()), range(f->ident()), testValue(f->testValue())});
  return in;
}

ast::ExprId AstBuilder::testValue(PaveParser::TestValueContext* ctx) {
  if (auto* e = ctx->expr()) return expr(e);
  auto* m = ctx->mapLiteral();
  std::vector<ExprId> kids;
  for (auto* entry : m->mapEntry()) {
    bool ok;
    std::string key = decodeStringToken(entry->STRING()->getSymbol(), false, ok);
    kids.push_back(makeSym(ast::ExprKind::StringLit, range(entry->STRING()), sym(key)));
    kids.push_back(expr(entry->expr()));
  }
  return make(ast::ExprKind::MapLit, range(m), kids);
}

void AstBuilder::test(PaveParser::TestDeclContext* ctx, ast::SourceFile& file) {
  ast::TestDecl t;
  for (auto* item : ctx->testItem()) {
    if (auto* r = dynamic_cast<PaveParser::TestRequestContext*>(item)) {
      if (t.request.present) diags_.report(DiagKind::InvalidClause, range(r), "a test takes one `request` block");
      t.request = testInput(r, r->qualifiedName(), r->fieldList());
    } else if (auto* p = dynamic_cast<PaveParser::TestPrincipalContext*>(item)) {
      if (t.principal.present) diags_.report(DiagKind::InvalidClause, range(p), "a test takes one `principal` block");
      t.principal = testInput(p, p->qualifiedName(), p->fieldList());
    } else if (auto* c = dynamic_cast<PaveParser::TestContextContext*>(item)) {
      if (t.context.present) diags_.report(DiagKind::InvalidClause, range(c), "a test takes one `context` block");
      t.context = testInput(c, nullptr, c->fieldList());
    } else {
      ast::Expect e;
      e.range = range(item);
      if (auto* ex = dynamic_cast<PaveParser::ExpectExceptionContext*>(item)) {
        e.kind = ast::ExpectKind::Exception;
        e.rules.push_back(qname(ex->qualifiedName()));
      } else if (auto* g = dynamic_cast<PaveParser::ExpectGrantContext*>(item)) {
        e.kind = ast::ExpectKind::Grant;
        e.grant = identSym(g->ident());
        e.grantRange = range(g->ident());
        e.value = testValue(g->testValue());
      } else if (auto* er = dynamic_cast<PaveParser::ExpectErrorContext*>(item)) {
        e.kind = ast::ExpectKind::Error;
        bool ok;
        e.errorCode = decodeStringToken(er->STRING()->getSymbol(), false, ok);
      } else if (auto* d = dynamic_cast<PaveParser::ExpectDecisionContext*>(item)) {
        e.kind = ast::ExpectKind::Decision;
        antlr4::ParserRuleContext* word = d->ident();
        if (word) {
          e.decision = word->getText();
          e.decisionRange = range(word);
        } else {
          antlr4::tree::TerminalNode* kw = d->ALLOW() ? d->ALLOW() : d->DENY();
          e.decision = kw->getText();
          e.decisionRange = range(kw);
        }
        for (auto* q : d->qualifiedName()) e.rules.push_back(qname(q));
      }
      t.expects.push_back(std::move(e));
    }
  }
  ast_.tests.push_back(std::move(t));
  newDecl(ast::DeclKind::Test, static_cast<uint32_t>(ast_.tests.size() - 1), ctx, ctx->ident(),
          ctx->TEST()->getSymbol(), ctx->getStart());
  file.decls.push_back(ast::DeclId{static_cast<uint32_t>(ast_.decls.size() - 1)});
}

// ---- expressions ---------------------------------------------------------------------------

ast::ExprId AstBuilder::expr(PaveParser::ExprContext* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (auto* i = dynamic_cast<PaveParser::IfExprContext*>(ctx)) {
    auto parts = i->expr();
    return make(ast::ExprKind::If, range(ctx), {expr(parts[0]), expr(parts[1]), expr(parts[2])});
  }
  return orExpr(static_cast<PaveParser::PlainExprContext*>(ctx)->orExpr());
}

ast::ExprId AstBuilder::orExpr(PaveParser::OrExprContext* ctx) {
  auto parts = ctx->andExpr();
  if (parts.size() == 1) return andExpr(parts[0]);
  std::vector<ExprId> kids;
  for (auto* p : parts) kids.push_back(andExpr(p));
  return make(ast::ExprKind::Or, range(ctx), kids);
}

ast::ExprId AstBuilder::andExpr(PaveParser::AndExprContext* ctx) {
  auto parts = ctx->notExpr();
  if (parts.size() == 1) return notExpr(parts[0]);
  std::vector<ExprId> kids;
  for (auto* p : parts) kids.push_back(notExpr(p));
  return make(ast::ExprKind::And, range(ctx), kids);
}

ast::ExprId AstBuilder::notExpr(PaveParser::NotExprContext* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (auto* n = dynamic_cast<PaveParser::NotOpContext*>(ctx))
    return make(ast::ExprKind::Not, range(ctx), {notExpr(n->notExpr())});
  return cmpExpr(static_cast<PaveParser::NotPassContext*>(ctx)->cmpExpr());
}

ast::ExprId AstBuilder::cmpExpr(PaveParser::CmpExprContext* ctx) {
  auto operands = ctx->addExpr();
  ExprId lhs = addExpr(operands[0]);
  if (auto* op = ctx->cmpOp()) {
    ast::ExprNode n{};
    n.kind = ast::ExprKind::Compare;
    n.range = range(ctx);
    n.op = static_cast<uint8_t>(op->EQ() ? ast::CompareOp::Eq : op->NE() ? ast::CompareOp::Ne
                                : op->LT() ? ast::CompareOp::Lt : op->LE() ? ast::CompareOp::Le
                                : op->GT() ? ast::CompareOp::Gt : ast::CompareOp::Ge);
    ExprId rhs = addExpr(operands[1]);
    return ast_.addExpr(n, {lhs, rhs});
  }
  if (ctx->IN()) return make(ast::ExprKind::In, range(ctx), {lhs, addExpr(operands[1])});
  if (ctx->LIKE()) {
    bool ok;
    std::string pattern = decodeStringToken(ctx->STRING()->getSymbol(), true, ok);
    ExprId pat = makeSym(ast::ExprKind::LikePattern, range(ctx->STRING()), sym(pattern));
    return make(ast::ExprKind::Like, range(ctx), {lhs, pat});
  }
  if (ctx->IS()) {
    ast::ExprNode n{};
    n.kind = ast::ExprKind::Is;
    n.range = range(ctx);
    n.name = qname(ctx->qualifiedName());
    return ast_.addExpr(n, {lhs});
  }
  return lhs;
}

ast::ExprId AstBuilder::addExpr(PaveParser::AddExprContext* ctx) {
  auto operands = ctx->unaryExpr();
  auto ops = ctx->addOp();
  ExprId acc = unaryExpr(operands[0]);
  uint32_t begin = range(ctx).begin;
  for (size_t i = 0; i < ops.size(); ++i) {
    ExprId rhs = unaryExpr(operands[i + 1]);
    SourceRange r{file_, begin, ast_.expr(rhs).range.end};
    acc = make(ops[i]->PLUS() ? ast::ExprKind::Add : ast::ExprKind::Sub, r, {acc, rhs});
  }
  if (ops.size() > limits_.maxNesting * 4 && !tooDeep_) {
    tooDeep_ = true;
    diags_.report(DiagKind::Syntax, range(ctx), "expression nests too deeply");
  }
  return acc;
}

ast::ExprId AstBuilder::unaryExpr(PaveParser::UnaryExprContext* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (auto* n = dynamic_cast<PaveParser::NegOpContext*>(ctx)) {
    // `-9223372036854775808` and other negative literals fold here, so int64's minimum
    // is writable.
    if (auto* pass = dynamic_cast<PaveParser::UnaryPassContext*>(n->unaryExpr())) {
      auto* post = pass->postfixExpr();
      if (post->postfixOp().empty())
        if (auto* lit = dynamic_cast<PaveParser::LiteralExprContext*>(post->primary()))
          if (lit->literal()->INT() || lit->literal()->DURATION()) return literal(lit->literal(), true, range(ctx));
    }
    return make(ast::ExprKind::Neg, range(ctx), {unaryExpr(n->unaryExpr())});
  }
  return postfixExpr(static_cast<PaveParser::UnaryPassContext*>(ctx)->postfixExpr());
}

std::vector<ast::ExprId> AstBuilder::args(PaveParser::CallArgsContext* ctx) {
  std::vector<ExprId> out;
  for (auto* e : ctx->expr()) out.push_back(expr(e));
  return out;
}

ast::ExprId AstBuilder::postfixExpr(PaveParser::PostfixExprContext* ctx) {
  ExprId acc = primary(ctx->primary());
  uint32_t begin = range(ctx).begin;
  for (auto* op : ctx->postfixOp()) {
    SourceRange r{file_, begin, range(op).end};
    if (auto* m = dynamic_cast<PaveParser::MemberOpContext*>(op)) {
      if (m->callArgs()) {
        std::vector<ExprId> kids{acc};
        for (ExprId a : args(m->callArgs())) kids.push_back(a);
        acc = makeSym(ast::ExprKind::MethodCall, r, identSym(m->ident()), kids);
      } else {
        acc = makeSym(ast::ExprKind::Member, r, identSym(m->ident()), {acc});
      }
    } else {
      auto* idx = static_cast<PaveParser::IndexOpContext*>(op);
      acc = make(ast::ExprKind::Index, r, {acc, expr(idx->expr())});
    }
  }
  return acc;
}

ast::ExprId AstBuilder::primary(PaveParser::PrimaryContext* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (auto* l = dynamic_cast<PaveParser::LiteralExprContext*>(ctx)) return literal(l->literal());
  if (dynamic_cast<PaveParser::PrincipalRootContext*>(ctx)) return make(ast::ExprKind::Principal, range(ctx));
  if (dynamic_cast<PaveParser::RequestRootContext*>(ctx)) return make(ast::ExprKind::Request, range(ctx));
  if (dynamic_cast<PaveParser::ContextRootContext*>(ctx)) return make(ast::ExprKind::Context, range(ctx));
  if (auto* n = dynamic_cast<PaveParser::NameExprContext*>(ctx)) {
    ast::ExprNode node{};
    node.range = range(ctx);
    node.name = qname(n->qualifiedName());
    if (n->callArgs()) {
      node.kind = ast::ExprKind::Call;
      return ast_.addExpr(node, args(n->callArgs()));
    }
    node.kind = ast::ExprKind::Name;
    return ast_.addExpr(node, {});
  }
  if (auto* p = dynamic_cast<PaveParser::ParenExprContext*>(ctx)) return expr(p->expr());
  if (auto* s = dynamic_cast<PaveParser::SetExprContext*>(ctx)) {
    std::vector<ExprId> kids;
    for (auto* e : s->expr()) kids.push_back(expr(e));
    return make(ast::ExprKind::SetLit, range(ctx), kids);
  }
  if (auto* h = dynamic_cast<PaveParser::HasExprContext*>(ctx))
    return make(ast::ExprKind::Has, range(ctx), {postfixExpr(h->postfixExpr())});
  auto* q = static_cast<PaveParser::QuantExprContext*>(ctx);
  return makeSym(q->ANY() ? ast::ExprKind::Any : ast::ExprKind::All, range(ctx), identSym(q->ident()),
                 {addExpr(q->addExpr()), expr(q->expr())});
}

ast::ExprId AstBuilder::literal(PaveParser::LiteralContext* ctx, bool negate, SourceRange negRange) {
  SourceRange r = negate ? negRange : range(ctx);
  ast::ExprNode n{};
  n.range = r;
  std::string text = ctx->getText();
  if (ctx->TRUE() || ctx->FALSE()) {
    n.kind = ast::ExprKind::BoolLit;
    n.intValue = ctx->TRUE() ? 1 : 0;
  } else if (ctx->INT()) {
    n.kind = ast::ExprKind::IntLit;
    // Parse as unsigned so that the magnitude of int64's minimum fits before negation.
    unsigned long long v = 0;
    bool overflow = false;
    for (char c : text) {
      if (v > (~0ull - 9) / 10) overflow = true;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    unsigned long long limit = negate ? (1ull << 63) : (1ull << 63) - 1;
    if (overflow || v > limit) {
      diags_.report(DiagKind::InvalidLiteral, r, "integer literal `" + text + "` is out of the int64 range");
      v = 0;
    }
    n.intValue = negate ? static_cast<int64_t>(0ull - v) : static_cast<int64_t>(v);
  } else if (ctx->STRING()) {
    n.kind = ast::ExprKind::StringLit;
    bool ok;
    n.symbol = sym(decodeStringToken(ctx->STRING()->getSymbol(), false, ok));
  } else if (ctx->DURATION()) {
    n.kind = ast::ExprKind::DurationLit;
    auto d = parseDuration(text);
    if (!d) {
      diags_.report(DiagKind::InvalidLiteral, range(ctx),
                    "`" + text + "` is not a valid duration (units `d`, `h`, `m`, `s`, largest first, each once)");
    } else {
      n.intValue = negate ? -*d : *d;
    }
  } else {
    n.kind = ast::ExprKind::TimestampLit;
    auto t = parseTimestamp(text);
    if (!t) {
      diags_.report(DiagKind::InvalidLiteral, range(ctx), "`" + text + "` is not a valid timestamp");
    } else {
      n.intValue = *t;
    }
    if (negate) return make(ast::ExprKind::Neg, negRange, {ast_.addExpr(n, {})});
  }
  return ast_.addExpr(n, {});
}

/// Rejects token streams that would recurse too deeply in the parser. Returns the
/// offending token or null.
antlr4::Token* checkNesting(const std::vector<antlr4::Token*>& tokens, uint32_t limit) {
  uint32_t depth = 0, prefixRun = 0, nested = 0;
  for (antlr4::Token* t : tokens) {
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    switch (t->getType()) {
      case PaveLexer::LPAREN: case PaveLexer::LBRACK: case PaveLexer::LBRACE:
        if (++depth > limit) return t;
        break;
      case PaveLexer::RPAREN: case PaveLexer::RBRACK: case PaveLexer::RBRACE:
        if (depth) --depth;
        break;
      default: break;
    }
    bool prefix = t->getType() == PaveLexer::NOT || t->getType() == PaveLexer::MINUS;
    prefixRun = prefix ? prefixRun + 1 : 0;
    if (prefixRun > limit) return t;
    // `if`, `any` and `all` open constructs that close implicitly; bound them per declaration.
    if (t->getType() == PaveLexer::IF || t->getType() == PaveLexer::ANY || t->getType() == PaveLexer::ALL)
      if (++nested > limit) return t;
    if (t->getType() == PaveLexer::SEMI && depth == 0) nested = 0;
  }
  return nullptr;
}

}  // namespace

bool parseFile(ast::Ast& ast, const SourceManager& sources, FileId file, DiagnosticEngine& diags, bool fromStdlib,
               const ParseLimits& limits) {
  std::string_view text = sources.text(file);
  if (text.size() > limits.maxFileBytes) {
    diags.report(DiagKind::Syntax, {file, 0, 0},
                 "file is too large (" + std::to_string(text.size()) + " bytes; the limit is " +
                     std::to_string(limits.maxFileBytes) + ")");
    return false;
  }
  if (size_t bad = firstInvalidUtf8(text); bad != std::string_view::npos) {
    diags.report(DiagKind::Syntax, {file, static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)},
                 "file is not valid UTF-8 text");
    return false;
  }

  OffsetMap offsets(text);
  antlr4::ANTLRInputStream input(text.data(), text.size());
  PaveLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();

  ErrorListener listener(offsets, file);
  for (antlr4::Token* t : tokens.getTokens()) {
    // A malformed duration parses as one; the AST builder reports it as invalid-literal.
    if (t->getType() == PaveLexer::BAD_NUMBER) static_cast<antlr4::CommonToken*>(t)->setType(PaveLexer::DURATION);
  }
  if (antlr4::Token* deep = checkNesting(tokens.getTokens(), limits.maxNesting)) {
    diags.report(DiagKind::Syntax, listener.rangeOf(deep),
                 "nesting is too deep (more than " + std::to_string(limits.maxNesting) + " levels)");
    return false;
  }

  PaveParser parser(&tokens);
  parser.removeErrorListeners();
  PaveParser::FileContext* tree = nullptr;
  // Stage 1: SLL with bail-out, fast on valid input.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  try {
    tree = parser.file();
  } catch (const antlr4::ParseCancellationException&) {
    tree = nullptr;
  }
  if (!tree) {
    // Stage 2: full LL with error reporting.
    tokens.seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    parser.addErrorListener(&listener);
    tree = parser.file();
  }
  if (listener.hasError) {
    diags.report(DiagKind::Syntax, listener.range, listener.message);
    return false;
  }
  AstBuilder builder(ast, offsets, file, diags, tokens, limits);
  builder.build(tree, fromStdlib);
  return !builder.tooDeep();
}

}  // namespace pave::syntax
