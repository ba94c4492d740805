#include "syntax/AstBuilder.h"

#include <llvm/ADT/SmallVector.h>
#include <pave/literals.h>

#include <string>
#include <typeinfo>

#include "PaveParser.h"
#include "diag/Messages.h"
#include "syntax/Literals.h"
#include "syntax/ParsedFile.h"

namespace pave::syntax {

using gen::PaveParser;

namespace {

using antlr4::tree::ParseTree;
using Ctx = antlr4::ParserRuleContext;

// Walking the parse tree. The generated accessors (`ctx->expr()`) collect children with
// a dynamic_cast each, which cost as much as parsing; these helpers test exact types
// instead. A clean tree (the only kind converted) holds rule contexts and terminal nodes.
bool isToken(ParseTree* t) {
  const std::type_info& type = typeid(*t);
  return type == typeid(antlr4::tree::TerminalNodeImpl) || type == typeid(antlr4::tree::ErrorNodeImpl);
}
antlr4::Token* tokenOf(ParseTree* t) { return static_cast<antlr4::tree::TerminalNode*>(t)->getSymbol(); }
size_t ruleOf(ParseTree* t) {
  return isToken(t) ? static_cast<size_t>(-1) : static_cast<antlr4::RuleContext*>(t)->getRuleIndex();
}
/// The `nth` child context of rule `rule`, or null.
template <class T = Ctx>
T* child(Ctx* ctx, size_t rule, size_t nth = 0) {
  for (ParseTree* c : ctx->children)
    if (ruleOf(c) == rule && nth-- == 0) return static_cast<T*>(c);
  return nullptr;
}
/// The first child token of type `type`, or null.
antlr4::Token* childToken(Ctx* ctx, size_t type) {
  for (ParseTree* c : ctx->children)
    if (isToken(c) && tokenOf(c)->getType() == type) return tokenOf(c);
  return nullptr;
}
template <class T>
bool is(Ctx* ctx) {
  return typeid(*ctx) == typeid(T);
}
size_t startType(Ctx* ctx) { return ctx->getStart()->getType(); }

/// Converts a parse tree into AST nodes.
class AstBuilder {
 public:
  AstBuilder(ast::Ast& ast, const ParsedFile& parsed, FileId file, DiagnosticEngine& diags, const ParseLimits& limits)
      : ast_(ast), parsed_(parsed), text_(parsed.text), file_(file), diags_(diags), limits_(limits) {}

  void build(Ctx* ctx, bool fromStdlib);
  bool tooDeep() const { return tooDeep_; }

 private:
  using ExprId = ast::ExprId;

  SourceRange range(Ctx* ctx) const {
    antlr4::Token* start = ctx->getStart();
    antlr4::Token* stop = ctx->getStop();
    auto b = static_cast<uint32_t>(start->getStartIndex());
    uint32_t e = stop && stop->getStopIndex() != static_cast<size_t>(-1) && stop->getTokenIndex() >= start->getTokenIndex()
                     ? static_cast<uint32_t>(stop->getStopIndex() + 1)
                     : b;
    return {file_, b, e};
  }
  SourceRange range(antlr4::Token* t) const {
    return {file_, static_cast<uint32_t>(t->getStartIndex()), static_cast<uint32_t>(t->getStopIndex() + 1)};
  }
  std::string_view textOf(antlr4::Token* t) const {
    return text_.substr(t->getStartIndex(), t->getStopIndex() + 1 - t->getStartIndex());
  }

  ast::Symbol sym(std::string_view s) { return ast_.symbols.intern(s); }
  /// An `ident` context is one token.
  ast::Symbol identSym(Ctx* id) { return sym(textOf(id->getStart())); }

  ast::NameId qname(Ctx* ctx) {
    llvm::SmallVector<ast::NameSegment, 4> segs;
    for (ParseTree* c : ctx->children)
      if (!isToken(c)) segs.push_back({identSym(static_cast<Ctx*>(c)), range(static_cast<Ctx*>(c))});
    return ast_.addName(segs, range(ctx));
  }

  ExprId make(ast::ExprKind kind, SourceRange r, std::span<const ExprId> children = {}) {
    ast::ExprNode n{};
    n.kind = kind;
    n.range = r;
    return ast_.addExpr(n, children);
  }
  ExprId makeSym(ast::ExprKind kind, SourceRange r, ast::Symbol s, std::span<const ExprId> children = {}) {
    ast::ExprNode n{};
    n.kind = kind;
    n.range = r;
    n.symbol = s;
    return ast_.addExpr(n, children);
  }

  std::string decodeStringToken(antlr4::Token* tok, bool like, bool& ok);
  std::string docFor(antlr4::Token* first);
  ast::TypeId type(Ctx* ctx);
  ast::Attr attr(Ctx* ctx);
  void attrs(Ctx* list, std::vector<ast::Attr>& out);
  void decl(Ctx* ctx, ast::SourceFile& file);
  void newDecl(ast::DeclKind kind, uint32_t index, Ctx* ctx, Ctx* name, antlr4::Token* keyword, ast::SourceFile& file);
  /// A declaration that is an attribute list (principal, context, record), added to `list`.
  template <class Decl>
  void attrDecl(Ctx* ctx, Ctx* name, ast::DeclKind kind, std::vector<Decl>& list, ast::SourceFile& file) {
    Decl decl;
    attrs(child(ctx, PaveParser::RuleAttrList), decl.attrs);
    list.push_back(std::move(decl));
    newDecl(kind, static_cast<uint32_t>(list.size() - 1), ctx, name, ctx->getStart(), file);
  }
  void rule(Ctx* ctx, ast::SourceFile& file);
  ast::Clause clause(Ctx* ctx);
  void test(Ctx* ctx, ast::SourceFile& file);
  ast::TestInput testInput(Ctx* ctx, Ctx* type, Ctx* fields);
  ExprId testValue(Ctx* ctx);

  ExprId expr(Ctx* ctx);
  template <ExprId (AstBuilder::*Operand)(Ctx*)>
  ExprId chain(Ctx* ctx, ast::ExprKind kind);
  ExprId orExpr(Ctx* ctx);
  ExprId andExpr(Ctx* ctx);
  ExprId notExpr(Ctx* ctx);
  ExprId cmpExpr(Ctx* ctx);
  ExprId addExpr(Ctx* ctx);
  ExprId unaryExpr(Ctx* ctx);
  ExprId postfixExpr(Ctx* ctx);
  ExprId primary(Ctx* ctx);
  ExprId literal(Ctx* ctx, bool negate = false, SourceRange negRange = {});
  void exprs(Ctx* ctx, llvm::SmallVectorImpl<ExprId>& out);

  // Depth guard for the recursive conversion.
  struct DepthGuard {
    AstBuilder& b;
    explicit DepthGuard(AstBuilder& builder) : b(builder) { ++b.depth_; }
    ~DepthGuard() { --b.depth_; }
  };
  bool enter(Ctx* ctx) {
    if (depth_ <= limits_.maxNesting * 4) return true;
    if (!tooDeep_) {
      tooDeep_ = true;
      diags_.report(msg::ExpressionNestsTooDeeply, range(ctx));
    }
    return false;
  }

  ast::Ast& ast_;
  const ParsedFile& parsed_;
  std::string_view text_;
  FileId file_;
  DiagnosticEngine& diags_;
  const ParseLimits& limits_;
  uint32_t fileIndex_ = 0;
  uint32_t depth_ = 0;
  bool tooDeep_ = false;
};

std::string AstBuilder::decodeStringToken(antlr4::Token* tok, bool like, bool& ok) {
  std::string_view text = textOf(tok);
  std::string_view body = text.substr(1, text.size() - 2);
  std::string error;
  size_t at = 0;
  auto decoded = decodeString(body, like, error, at);
  ok = decoded.has_value();
  if (!ok) {
    SourceRange r = range(tok);
    // Offsets within the body are bytes of the UTF-8 text; the token starts at the quote.
    SourceRange bad{file_, r.begin + 1 + static_cast<uint32_t>(at), r.begin + 1 + static_cast<uint32_t>(at) + 2};
    diags_.report(DiagKind::Syntax, bad, error);  // rendered by decodeString from msg::Escape*
    return {};
  }
  return *decoded;
}

/// The `///` comments right before a declaration's first token.
std::string AstBuilder::docFor(antlr4::Token* first) {
  const std::vector<Token>& lexed = parsed_.lexed;
  size_t i = parsed_.feed->fed[first->getTokenIndex()];
  size_t from = i;
  while (from > 0 && isComment(lexed[from - 1].kind)) --from;
  std::string doc;
  for (size_t k = from; k < i; ++k) {
    if (lexed[k].kind != TokenKind::DocComment) continue;
    std::string_view line = text_.substr(lexed[k].begin + 3, lexed[k].end - lexed[k].begin - 3);
    if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!doc.empty()) doc += '\n';
    doc += line;
  }
  return doc;
}

// type : qualifiedName (LT type (COMMA type)* GT)? QUESTION?
ast::TypeId AstBuilder::type(Ctx* ctx) {
  ast::TypeRef t;
  t.name = qname(child(ctx, PaveParser::RuleQualifiedName));
  for (ParseTree* c : ctx->children)
    if (ruleOf(c) == PaveParser::RuleType) t.args.push_back(type(static_cast<Ctx*>(c)));
  t.optional = childToken(ctx, PaveParser::QUESTION) != nullptr;
  t.range = range(ctx);
  ast_.types.push_back(std::move(t));
  return ast::TypeId{static_cast<uint32_t>(ast_.types.size() - 1)};
}

// attr : ident COLON type
ast::Attr AstBuilder::attr(Ctx* ctx) {
  Ctx* name = child(ctx, PaveParser::RuleIdent);
  return {identSym(name), range(name), type(child(ctx, PaveParser::RuleType)), range(ctx)};
}

// attrList : attr (COMMA attr)* COMMA?
void AstBuilder::attrs(Ctx* list, std::vector<ast::Attr>& out) {
  if (!list) return;
  for (ParseTree* c : list->children)
    if (!isToken(c)) out.push_back(attr(static_cast<Ctx*>(c)));
}

void AstBuilder::newDecl(ast::DeclKind kind, uint32_t index, Ctx* ctx, Ctx* name, antlr4::Token* keyword,
                         ast::SourceFile& file) {
  ast::Decl d;
  d.kind = kind;
  d.index = index;
  if (name) {
    d.name = identSym(name);
    d.nameRange = range(name);
  }
  d.range = {file_, static_cast<uint32_t>(keyword->getStartIndex()), range(ctx).end};
  d.doc = docFor(ctx->getStart());
  d.file = fileIndex_;
  ast_.decls.push_back(std::move(d));
  file.decls.push_back(ast::DeclId{static_cast<uint32_t>(ast_.decls.size() - 1)});
}

// file : namespaceDecl? useDecl* decl* EOF
void AstBuilder::build(Ctx* ctx, bool fromStdlib) {
  ast::SourceFile file;
  file.file = file_;
  file.fromStdlib = fromStdlib;
  fileIndex_ = static_cast<uint32_t>(ast_.files.size());
  for (ParseTree* c : ctx->children) {
    switch (ruleOf(c)) {
      case PaveParser::RuleNamespaceDecl:  // NAMESPACE qualifiedName SEMI
        file.namespaceName = qname(child(static_cast<Ctx*>(c), PaveParser::RuleQualifiedName));
        break;
      case PaveParser::RuleUseDecl: {  // USE qualifiedName (AS ident)? SEMI
        auto* use = static_cast<Ctx*>(c);
        ast::UseDecl u;
        u.target = qname(child(use, PaveParser::RuleQualifiedName));
        if (Ctx* alias = child(use, PaveParser::RuleIdent)) u.alias = identSym(alias);
        u.range = range(use);
        file.uses.push_back(u);
        break;
      }
      case PaveParser::RuleDecl: decl(static_cast<Ctx*>(static_cast<Ctx*>(c)->children[0]), file); break;
      default: break;
    }
  }
  ast_.files.push_back(std::move(file));
}

void AstBuilder::decl(Ctx* d, ast::SourceFile& file) {
  switch (d->getRuleIndex()) {
    case PaveParser::RuleEnumDecl: {  // ENUM ident LBRACE ident (COMMA ident)* COMMA? RBRACE
      ast::EnumDecl en;
      Ctx* name = nullptr;
      for (ParseTree* c : d->children) {
        if (isToken(c)) continue;
        auto* id = static_cast<Ctx*>(c);
        if (!name)
          name = id;
        else
          en.members.push_back({identSym(id), range(id)});
      }
      ast_.enums.push_back(std::move(en));
      newDecl(ast::DeclKind::Enum, static_cast<uint32_t>(ast_.enums.size() - 1), d, name, d->getStart(), file);
      break;
    }
    case PaveParser::RulePrincipalDecl:  // PRINCIPAL ident LBRACE attrList? RBRACE
      attrDecl(d, child(d, PaveParser::RuleIdent), ast::DeclKind::Principal, ast_.principals, file);
      break;
    case PaveParser::RuleContextDecl:  // CONTEXT LBRACE attrList? RBRACE
      attrDecl(d, nullptr, ast::DeclKind::Context, ast_.contexts, file);
      break;
    case PaveParser::RuleRequestDecl: {
      // REQUEST ident (FOR qualifiedName (COMMA qualifiedName)*)? LBRACE requestMemberList? RBRACE
      ast::RequestDecl rd;
      rd.hasFor = childToken(d, PaveParser::FOR) != nullptr;
      for (ParseTree* c : d->children)
        if (ruleOf(c) == PaveParser::RuleQualifiedName) rd.forTypes.push_back(qname(static_cast<Ctx*>(c)));
      if (Ctx* list = child(d, PaveParser::RuleRequestMemberList)) {
        for (ParseTree* c : list->children) {
          if (isToken(c)) continue;
          auto* m = static_cast<Ctx*>(c);
          if (Ctx* a = child(m, PaveParser::RuleAttr)) {
            rd.attrs.push_back(attr(a));
            continue;
          }
          // GRANT ident COLON type ASSIGN expr MERGE mergeOp
          ast::GrantDecl g;
          Ctx* name = child(m, PaveParser::RuleIdent);
          g.name = identSym(name);
          g.nameRange = range(name);
          g.type = type(child(m, PaveParser::RuleType));
          g.defaultValue = expr(child(m, PaveParser::RuleExpr));
          Ctx* op = child(m, PaveParser::RuleMergeOp);  // one token
          g.mergeOp = sym(textOf(op->getStart()));
          g.mergeRange = range(op);
          g.range = range(m);
          rd.grants.push_back(g);
        }
      }
      ast_.requests.push_back(std::move(rd));
      newDecl(ast::DeclKind::Request, static_cast<uint32_t>(ast_.requests.size() - 1), d,
              child(d, PaveParser::RuleIdent), d->getStart(), file);
      break;
    }
    case PaveParser::RuleConstDecl: {  // CONST ident COLON type ASSIGN expr SEMI
      ast::TypeId t = type(child(d, PaveParser::RuleType));
      ast_.consts.push_back({t, expr(child(d, PaveParser::RuleExpr))});
      newDecl(ast::DeclKind::Const, static_cast<uint32_t>(ast_.consts.size() - 1), d, child(d, PaveParser::RuleIdent),
              d->getStart(), file);
      break;
    }
    case PaveParser::RuleDefDecl: {
      // DEF ident LPAREN (param (COMMA param)*)? RPAREN COLON type ASSIGN expr SEMI
      ast::DefDecl dd;
      for (ParseTree* c : d->children) {
        if (ruleOf(c) != PaveParser::RuleParam) continue;
        auto* p = static_cast<Ctx*>(c);  // param : ident COLON type
        Ctx* name = child(p, PaveParser::RuleIdent);
        dd.params.push_back({identSym(name), range(name), type(child(p, PaveParser::RuleType))});
      }
      dd.result = type(child(d, PaveParser::RuleType));
      dd.body = expr(child(d, PaveParser::RuleExpr));
      ast_.defs.push_back(std::move(dd));
      newDecl(ast::DeclKind::Def, static_cast<uint32_t>(ast_.defs.size() - 1), d, child(d, PaveParser::RuleIdent),
              d->getStart(), file);
      break;
    }
    case PaveParser::RuleRecordDecl:  // RECORD ident LBRACE attrList? RBRACE
      attrDecl(d, child(d, PaveParser::RuleIdent), ast::DeclKind::Record, ast_.records, file);
      break;
    case PaveParser::RuleTableDecl: {  // TABLE ident COLON type FROM STRING SEMI
      ast::TableDecl td;
      td.type = type(child(d, PaveParser::RuleType));
      antlr4::Token* str = childToken(d, PaveParser::STRING);
      bool ok = true;
      if (str) {
        td.path = decodeStringToken(str, false, ok);
        td.pathRange = range(str);
      }
      ast_.tables.push_back(std::move(td));
      newDecl(ast::DeclKind::Table, static_cast<uint32_t>(ast_.tables.size() - 1), d,
              child(d, PaveParser::RuleIdent), d->getStart(), file);
      break;
    }
    case PaveParser::RuleRuleDecl: rule(d, file); break;
    case PaveParser::RuleTestDecl: test(d, file); break;
    default: break;
  }
}

// ruleDecl : annotation* effect ident (ON targets)? clause* SEMI
void AstBuilder::rule(Ctx* ctx, ast::SourceFile& file) {
  ast::RuleDecl r;
  Ctx* effect = nullptr;
  Ctx* name = nullptr;
  for (ParseTree* c : ctx->children) {
    if (isToken(c)) continue;
    auto* sub = static_cast<Ctx*>(c);
    switch (sub->getRuleIndex()) {
      case PaveParser::RuleAnnotation: {  // AT ident (LPAREN (expr (COMMA expr)*)? RPAREN)?
        ast::Annotation an;
        an.name = identSym(child(sub, PaveParser::RuleIdent));
        an.range = range(sub);
        for (ParseTree* a : sub->children)
          if (ruleOf(a) == PaveParser::RuleExpr) an.args.push_back(expr(static_cast<Ctx*>(a)));
        r.annotations.push_back(std::move(an));
        break;
      }
      case PaveParser::RuleEffect:
        effect = sub;
        switch (startType(sub)) {
          case PaveParser::ALLOW: r.effect = ast::Effect::Allow; break;
          case PaveParser::APPROVE: r.effect = ast::Effect::Approve; break;
          case PaveParser::DENY: r.effect = ast::Effect::Deny; break;
          default: r.effect = ast::Effect::Exception; break;
        }
        break;
      case PaveParser::RuleIdent: name = sub; break;
      case PaveParser::RuleTargets: {  // STAR | qualifiedName (COMMA qualifiedName)*
        r.hasOn = true;
        r.onStar = childToken(sub, PaveParser::STAR) != nullptr;
        for (ParseTree* q : sub->children)
          if (!isToken(q)) r.targets.push_back(qname(static_cast<Ctx*>(q)));
        r.onRange = range(childToken(ctx, PaveParser::ON)).to(range(sub));
        break;
      }
      case PaveParser::RuleClause: r.clauses.push_back(clause(sub)); break;
      default: break;
    }
  }
  ast_.rules.push_back(std::move(r));
  newDecl(ast::DeclKind::Rule, static_cast<uint32_t>(ast_.rules.size() - 1), ctx, name, effect->getStart(), file);
}

ast::Clause AstBuilder::clause(Ctx* c) {
  ast::Clause cl;
  cl.range = range(c);
  cl.keywordRange = range(c->getStart());
  auto stringText = [&] {
    bool ok;
    return decodeStringToken(childToken(c, PaveParser::STRING), false, ok);
  };
  switch (startType(c)) {
    case PaveParser::WHEN:  // WHEN expr
      cl.kind = ast::ClauseKind::When;
      cl.exprs.push_back(expr(child(c, PaveParser::RuleExpr)));
      break;
    case PaveParser::UNLESS:  // UNLESS expr
      cl.kind = ast::ClauseKind::Unless;
      cl.exprs.push_back(expr(child(c, PaveParser::RuleExpr)));
      break;
    case PaveParser::BY:  // BY expr (COMMA expr)* (QUORUM INT)?
      cl.kind = ast::ClauseKind::By;
      for (ParseTree* e : c->children)
        if (ruleOf(e) == PaveParser::RuleExpr) cl.exprs.push_back(expr(static_cast<Ctx*>(e)));
      if (childToken(c, PaveParser::QUORUM)) {
        antlr4::Token* n = childToken(c, PaveParser::INT);
        cl.quorumRange = range(n);
        try {
          cl.quorum = std::stoll(std::string(textOf(n)));
        } catch (...) {
          diags_.report(msg::QuorumOutOfRange, cl.quorumRange);
          cl.quorum = 1;
        }
      }
      break;
    case PaveParser::GRANT:  // GRANT grantAssign (COMMA grantAssign)*
      cl.kind = ast::ClauseKind::Grant;
      for (ParseTree* g : c->children) {
        if (isToken(g)) continue;
        auto* ga = static_cast<Ctx*>(g);  // grantAssign : ident ASSIGN expr
        Ctx* name = child(ga, PaveParser::RuleIdent);
        cl.grants.push_back({identSym(name), range(name), expr(child(ga, PaveParser::RuleExpr))});
      }
      break;
    case PaveParser::BECAUSE:  // BECAUSE STRING
      cl.kind = ast::ClauseKind::Because;
      cl.text = stringText();
      break;
    case PaveParser::LIFTS:  // LIFTS qualifiedName
      cl.kind = ast::ClauseKind::Lifts;
      cl.lifts = qname(child(c, PaveParser::RuleQualifiedName));
      break;
    case PaveParser::UNTIL: {  // UNTIL TIMESTAMP
      cl.kind = ast::ClauseKind::Until;
      antlr4::Token* t = childToken(c, PaveParser::TIMESTAMP);
      int64_t ts = 0;
      cl.untilValid = rt::parseTimestamp(textOf(t), ts);
      if (cl.untilValid)
        cl.until = ts;
      else
        diags_.report(msg::InvalidTimestamp, range(t), textOf(t));
      break;
    }
    case PaveParser::OWNER:  // OWNER STRING
      cl.kind = ast::ClauseKind::Owner;
      cl.text = stringText();
      break;
    default:  // TICKET STRING
      cl.kind = ast::ClauseKind::Ticket;
      cl.text = stringText();
      break;
  }
  return cl;
}

ast::TestInput AstBuilder::testInput(Ctx* ctx, Ctx* type, Ctx* fields) {
  ast::TestInput in;
  in.present = true;
  if (type) in.type = qname(type);
  in.range = range(ctx);
  if (!fields) return in;
  // fieldList : field (COMMA field)* COMMA? ; field : ident COLON testValue
  for (ParseTree* c : fields->children) {
    if (isToken(c)) continue;
    auto* f = static_cast<Ctx*>(c);
    Ctx* name = child(f, PaveParser::RuleIdent);
    in.fields.push_back({identSym(name), range(name), testValue(child(f, PaveParser::RuleTestValue))});
  }
  return in;
}

// testValue : mapLiteral | expr ; mapLiteral : LBRACE (mapEntry (COMMA mapEntry)* COMMA?)? RBRACE
ast::ExprId AstBuilder::testValue(Ctx* ctx) {
  if (Ctx* e = child(ctx, PaveParser::RuleExpr)) return expr(e);
  Ctx* m = child(ctx, PaveParser::RuleMapLiteral);
  std::vector<ExprId> kids;
  for (ParseTree* c : m->children) {
    if (isToken(c)) continue;
    auto* entry = static_cast<Ctx*>(c);  // mapEntry : STRING COLON expr
    antlr4::Token* key = childToken(entry, PaveParser::STRING);
    bool ok;
    std::string text = decodeStringToken(key, false, ok);
    kids.push_back(makeSym(ast::ExprKind::StringLit, range(key), sym(text)));
    kids.push_back(expr(child(entry, PaveParser::RuleExpr)));
  }
  return make(ast::ExprKind::MapLit, range(m), kids);
}

// testDecl : TEST ident LBRACE testItem* RBRACE
void AstBuilder::test(Ctx* ctx, ast::SourceFile& file) {
  ast::TestDecl t;
  for (ParseTree* c : ctx->children) {
    if (ruleOf(c) != PaveParser::RuleTestItem) continue;
    auto* item = static_cast<Ctx*>(c);
    Ctx* qn = child(item, PaveParser::RuleQualifiedName);
    Ctx* fields = child(item, PaveParser::RuleFieldList);
    if (is<PaveParser::TestRequestContext>(item)) {
      if (t.request.present) diags_.report(msg::TestTakesOneBlock, range(item), "request");
      t.request = testInput(item, qn, fields);
    } else if (is<PaveParser::TestPrincipalContext>(item)) {
      if (t.principal.present) diags_.report(msg::TestTakesOneBlock, range(item), "principal");
      t.principal = testInput(item, qn, fields);
    } else if (is<PaveParser::TestContextContext>(item)) {
      if (t.context.present) diags_.report(msg::TestTakesOneBlock, range(item), "context");
      t.context = testInput(item, nullptr, fields);
    } else {
      ast::Expect e;
      e.range = range(item);
      if (is<PaveParser::ExpectExceptionContext>(item)) {  // EXPECT EXCEPTION qualifiedName SEMI
        e.kind = ast::ExpectKind::Exception;
        e.rules.push_back(qname(qn));
      } else if (is<PaveParser::ExpectGrantContext>(item)) {  // EXPECT GRANT ident EQ testValue SEMI
        e.kind = ast::ExpectKind::Grant;
        Ctx* name = child(item, PaveParser::RuleIdent);
        e.grant = identSym(name);
        e.grantRange = range(name);
        e.value = testValue(child(item, PaveParser::RuleTestValue));
      } else if (is<PaveParser::ExpectErrorContext>(item)) {  // EXPECT ERROR STRING SEMI
        e.kind = ast::ExpectKind::Error;
        bool ok;
        e.errorCode = decodeStringToken(childToken(item, PaveParser::STRING), false, ok);
      } else {  // EXPECT (ALLOW | DENY | ident) (BY qualifiedName (COMMA qualifiedName)*)? SEMI
        e.kind = ast::ExpectKind::Decision;
        ParseTree* w = item->children[1];
        antlr4::Token* word = isToken(w) ? tokenOf(w) : static_cast<Ctx*>(w)->getStart();
        e.decision = std::string(textOf(word));
        e.decisionRange = range(word);
        for (ParseTree* q : item->children)
          if (ruleOf(q) == PaveParser::RuleQualifiedName) e.rules.push_back(qname(static_cast<Ctx*>(q)));
      }
      t.expects.push_back(std::move(e));
    }
  }
  ast_.tests.push_back(std::move(t));
  newDecl(ast::DeclKind::Test, static_cast<uint32_t>(ast_.tests.size() - 1), ctx, child(ctx, PaveParser::RuleIdent),
          ctx->getStart(), file);
}

// ---- expressions ---------------------------------------------------------------------------

/// Every `expr` child of `ctx`, converted.
void AstBuilder::exprs(Ctx* ctx, llvm::SmallVectorImpl<ExprId>& out) {
  for (ParseTree* c : ctx->children)
    if (ruleOf(c) == PaveParser::RuleExpr) out.push_back(expr(static_cast<Ctx*>(c)));
}

// expr : IF expr THEN expr ELSE expr | orExpr
ast::ExprId AstBuilder::expr(Ctx* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (is<PaveParser::IfExprContext>(ctx)) {
    llvm::SmallVector<ExprId, 3> parts;
    exprs(ctx, parts);
    return make(ast::ExprKind::If, range(ctx), parts);
  }
  return orExpr(static_cast<Ctx*>(ctx->children[0]));
}

/// `operand (OP operand)*`: the operand alone, or one node of `kind` over all of them.
template <ast::ExprId (AstBuilder::*Operand)(Ctx*)>
ast::ExprId AstBuilder::chain(Ctx* ctx, ast::ExprKind kind) {
  if (ctx->children.size() == 1) return (this->*Operand)(static_cast<Ctx*>(ctx->children[0]));
  llvm::SmallVector<ExprId, 4> kids;
  for (ParseTree* c : ctx->children)
    if (!isToken(c)) kids.push_back((this->*Operand)(static_cast<Ctx*>(c)));
  return make(kind, range(ctx), kids);
}

// orExpr : andExpr (OR andExpr)*
ast::ExprId AstBuilder::orExpr(Ctx* ctx) { return chain<&AstBuilder::andExpr>(ctx, ast::ExprKind::Or); }

// andExpr : notExpr (AND notExpr)*
ast::ExprId AstBuilder::andExpr(Ctx* ctx) { return chain<&AstBuilder::notExpr>(ctx, ast::ExprKind::And); }

// notExpr : NOT notExpr | cmpExpr
ast::ExprId AstBuilder::notExpr(Ctx* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (is<PaveParser::NotOpContext>(ctx)) {
    ExprId operand[] = {notExpr(static_cast<Ctx*>(ctx->children[1]))};
    return make(ast::ExprKind::Not, range(ctx), operand);
  }
  return cmpExpr(static_cast<Ctx*>(ctx->children[0]));
}

// cmpExpr : addExpr (cmpOp addExpr | IN addExpr | LIKE STRING | IS qualifiedName)?
ast::ExprId AstBuilder::cmpExpr(Ctx* ctx) {
  ExprId lhs = addExpr(static_cast<Ctx*>(ctx->children[0]));
  if (ctx->children.size() < 3) return lhs;
  ParseTree* op = ctx->children[1];
  ParseTree* rhs = ctx->children[2];
  if (!isToken(op)) {  // cmpOp : EQ | NE | LT | LE | GT | GE
    ast::ExprNode n{};
    n.kind = ast::ExprKind::Compare;
    n.range = range(ctx);
    switch (tokenOf(op->children[0])->getType()) {
      case PaveParser::EQ: n.op = static_cast<uint8_t>(ast::CompareOp::Eq); break;
      case PaveParser::NE: n.op = static_cast<uint8_t>(ast::CompareOp::Ne); break;
      case PaveParser::LT: n.op = static_cast<uint8_t>(ast::CompareOp::Lt); break;
      case PaveParser::LE: n.op = static_cast<uint8_t>(ast::CompareOp::Le); break;
      case PaveParser::GT: n.op = static_cast<uint8_t>(ast::CompareOp::Gt); break;
      default: n.op = static_cast<uint8_t>(ast::CompareOp::Ge); break;
    }
    ExprId kids[] = {lhs, addExpr(static_cast<Ctx*>(rhs))};
    return ast_.addExpr(n, kids);
  }
  switch (tokenOf(op)->getType()) {
    case PaveParser::IN: {
      ExprId kids[] = {lhs, addExpr(static_cast<Ctx*>(rhs))};
      return make(ast::ExprKind::In, range(ctx), kids);
    }
    case PaveParser::LIKE: {
      antlr4::Token* str = tokenOf(rhs);
      bool ok;
      std::string pattern = decodeStringToken(str, true, ok);
      ExprId kids[] = {lhs, makeSym(ast::ExprKind::LikePattern, range(str), sym(pattern))};
      return make(ast::ExprKind::Like, range(ctx), kids);
    }
    default: {  // IS
      ast::ExprNode n{};
      n.kind = ast::ExprKind::Is;
      n.range = range(ctx);
      n.name = qname(static_cast<Ctx*>(rhs));
      ExprId kids[] = {lhs};
      return ast_.addExpr(n, kids);
    }
  }
}

// addExpr : unaryExpr (addOp unaryExpr)*
ast::ExprId AstBuilder::addExpr(Ctx* ctx) {
  const auto& kids = ctx->children;
  ExprId acc = unaryExpr(static_cast<Ctx*>(kids[0]));
  if (kids.size() == 1) return acc;
  uint32_t begin = range(ctx).begin;
  size_t ops = 0;
  for (size_t i = 1; i + 1 < kids.size(); i += 2, ++ops) {
    bool plus = tokenOf(kids[i]->children[0])->getType() == PaveParser::PLUS;  // addOp : PLUS | MINUS
    ExprId rhs = unaryExpr(static_cast<Ctx*>(kids[i + 1]));
    SourceRange r{file_, begin, ast_.expr(rhs).range.end};
    ExprId operands[] = {acc, rhs};
    acc = make(plus ? ast::ExprKind::Add : ast::ExprKind::Sub, r, operands);
  }
  if (ops > limits_.maxNesting * 4 && !tooDeep_) {
    tooDeep_ = true;
    diags_.report(msg::ExpressionNestsTooDeeply, range(ctx));
  }
  return acc;
}

// unaryExpr : MINUS unaryExpr | postfixExpr
ast::ExprId AstBuilder::unaryExpr(Ctx* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  if (!is<PaveParser::NegOpContext>(ctx)) return postfixExpr(static_cast<Ctx*>(ctx->children[0]));
  auto* operand = static_cast<Ctx*>(ctx->children[1]);
  // `-9223372036854775808` and other negative literals fold here, so int64's minimum is
  // writable: the operand is a postfixExpr with no postfix operators around a literal.
  if (is<PaveParser::UnaryPassContext>(operand)) {
    auto* post = static_cast<Ctx*>(operand->children[0]);
    if (post->children.size() == 1) {
      auto* prim = static_cast<Ctx*>(post->children[0]);
      if (is<PaveParser::LiteralExprContext>(prim)) {
        auto* lit = static_cast<Ctx*>(prim->children[0]);
        size_t t = startType(lit);
        if (t == PaveParser::INT || t == PaveParser::DURATION) return literal(lit, true, range(ctx));
      }
    }
  }
  ExprId kids[] = {unaryExpr(operand)};
  return make(ast::ExprKind::Neg, range(ctx), kids);
}

// postfixExpr : primary postfixOp* ; postfixOp : DOT ident callArgs? | LBRACK expr RBRACK
ast::ExprId AstBuilder::postfixExpr(Ctx* ctx) {
  const auto& kids = ctx->children;
  ExprId acc = primary(static_cast<Ctx*>(kids[0]));
  if (kids.size() == 1) return acc;
  uint32_t begin = range(ctx).begin;
  for (size_t i = 1; i < kids.size(); ++i) {
    auto* op = static_cast<Ctx*>(kids[i]);
    SourceRange r{file_, begin, range(op).end};
    if (startType(op) == PaveParser::DOT) {
      ast::Symbol member = identSym(static_cast<Ctx*>(op->children[1]));
      if (Ctx* call = child(op, PaveParser::RuleCallArgs)) {
        llvm::SmallVector<ExprId, 4> args{acc};
        exprs(call, args);
        acc = makeSym(ast::ExprKind::MethodCall, r, member, args);
      } else {
        ExprId object[] = {acc};
        acc = makeSym(ast::ExprKind::Member, r, member, object);
      }
    } else {
      ExprId operands[] = {acc, expr(static_cast<Ctx*>(op->children[1]))};
      acc = make(ast::ExprKind::Index, r, operands);
    }
  }
  return acc;
}

ast::ExprId AstBuilder::primary(Ctx* ctx) {
  DepthGuard g(*this);
  if (!enter(ctx)) return make(ast::ExprKind::Error, range(ctx));
  // Every alternative starts with its own kind of token.
  switch (startType(ctx)) {
    case PaveParser::TRUE: case PaveParser::FALSE: case PaveParser::INT: case PaveParser::STRING:
    case PaveParser::DURATION: case PaveParser::TIMESTAMP:
      return literal(static_cast<Ctx*>(ctx->children[0]));
    case PaveParser::PRINCIPAL: return make(ast::ExprKind::Principal, range(ctx));
    case PaveParser::REQUEST: return make(ast::ExprKind::Request, range(ctx));
    case PaveParser::CONTEXT: return make(ast::ExprKind::Context, range(ctx));
    case PaveParser::LPAREN: return expr(static_cast<Ctx*>(ctx->children[1]));  // LPAREN expr RPAREN
    case PaveParser::LBRACK: {  // LBRACK (expr (COMMA expr)* COMMA?)? RBRACK
      llvm::SmallVector<ExprId, 8> kids;
      exprs(ctx, kids);
      return make(ast::ExprKind::SetLit, range(ctx), kids);
    }
    case PaveParser::HAS: {  // HAS LPAREN postfixExpr RPAREN
      ExprId kids[] = {postfixExpr(child(ctx, PaveParser::RulePostfixExpr))};
      return make(ast::ExprKind::Has, range(ctx), kids);
    }
    case PaveParser::ANY: case PaveParser::ALL: {  // (ANY | ALL) ident IN addExpr COLON expr
      ast::ExprKind kind = startType(ctx) == PaveParser::ANY ? ast::ExprKind::Any : ast::ExprKind::All;
      ast::Symbol var = identSym(child(ctx, PaveParser::RuleIdent));
      ExprId kids[] = {addExpr(child(ctx, PaveParser::RuleAddExpr)), expr(child(ctx, PaveParser::RuleExpr))};
      return makeSym(kind, range(ctx), var, kids);
    }
    default: {  // qualifiedName callArgs?
      ast::ExprNode node{};
      node.range = range(ctx);
      node.name = qname(static_cast<Ctx*>(ctx->children[0]));
      if (Ctx* call = child(ctx, PaveParser::RuleCallArgs)) {
        node.kind = ast::ExprKind::Call;
        llvm::SmallVector<ExprId, 4> args;
        exprs(call, args);
        return ast_.addExpr(node, args);
      }
      node.kind = ast::ExprKind::Name;
      return ast_.addExpr(node, {});
    }
  }
}

// literal : TRUE | FALSE | INT | STRING | DURATION | TIMESTAMP
ast::ExprId AstBuilder::literal(Ctx* ctx, bool negate, SourceRange negRange) {
  SourceRange r = negate ? negRange : range(ctx);
  antlr4::Token* tok = ctx->getStart();
  std::string_view text = textOf(tok);
  ast::ExprNode n{};
  n.range = r;
  switch (tok->getType()) {
    case PaveParser::TRUE:
    case PaveParser::FALSE:
      n.kind = ast::ExprKind::BoolLit;
      n.intValue = tok->getType() == PaveParser::TRUE ? 1 : 0;
      break;
    case PaveParser::INT: {
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
        diags_.report(msg::IntegerOutOfRange, r, text);
        v = 0;
      }
      n.intValue = negate ? static_cast<int64_t>(0ull - v) : static_cast<int64_t>(v);
      break;
    }
    case PaveParser::STRING: {
      n.kind = ast::ExprKind::StringLit;
      bool ok;
      n.symbol = sym(decodeStringToken(tok, false, ok));
      break;
    }
    case PaveParser::DURATION: {
      n.kind = ast::ExprKind::DurationLit;
      int64_t d = 0;
      if (!rt::parseDuration(text, d, false)) {
        diags_.report(msg::InvalidDuration, range(ctx), text);
      } else {
        n.intValue = negate ? -d : d;
      }
      break;
    }
    default: {
      n.kind = ast::ExprKind::TimestampLit;
      if (int64_t t = 0; !rt::parseTimestamp(text, t))
        diags_.report(msg::InvalidTimestamp, range(ctx), text);
      else
        n.intValue = t;
      if (negate) {
        ExprId kids[] = {ast_.addExpr(n, {})};
        return make(ast::ExprKind::Neg, negRange, kids);
      }
      break;
    }
  }
  return ast_.addExpr(n, {});
}


}  // namespace

bool buildAst(const ParsedFile& parsed, ast::Ast& ast, FileId file, DiagnosticEngine& diags, bool fromStdlib,
              const ParseLimits& limits) {
  AstBuilder builder(ast, parsed, file, diags, limits);
  builder.build(parsed.tree, fromStdlib);
  return !builder.tooDeep();
}

}  // namespace pave::syntax
