#include "lsp/Describe.h"

namespace pave::lsp {

using sema::CheckedProgram;

std::string mergeRule(sema::MergeOp op) {
  switch (op) {
    case sema::MergeOp::Min: return "the smallest value assigned by the matching rules wins";
    case sema::MergeOp::Max: return "the largest value assigned by the matching rules wins";
    case sema::MergeOp::Union: return "the union of the sets assigned by the matching rules";
    case sema::MergeOp::Intersect: return "the intersection of the sets assigned by the matching rules";
    case sema::MergeOp::And: return "true only when every assigning rule gives true";
    case sema::MergeOp::Or: return "true when any assigning rule gives true";
    case sema::MergeOp::Unique:
      return "every assigning rule must give the same value; different values deny with `grant-conflict`";
  }
  return {};
}

std::string attrLine(const CheckedProgram& p, const sema::AttrInfo& a) {
  return a.name + ": " + p.typeName(a.type) + (a.optional ? "?" : "");
}

std::string grantLine(const CheckedProgram& p, const sema::GrantInfo& g) {
  return "grant " + g.name + ": " + p.typeName(g.type) + " = " + p.formatValue(g.defaultValue) + " merge " +
         std::string(sema::mergeOpName(g.merge));
}

namespace {

template <typename Info>
const Info* byDecl(const std::vector<Info>& infos, ast::DeclId decl) {
  for (const Info& i : infos)
    if (i.decl == decl) return &i;
  return nullptr;
}

std::string ruleSignature(const CheckedProgram& p, const sema::RuleInfo& r) {
  std::string s = std::string(ast::effectName(r.effect)) + " " + r.name;
  if (r.exception) return s + " lifts " + p.rule(r.exception->lifts).name;
  if (r.onStar) return s + " on *";
  for (size_t i = 0; i < r.targets.size(); ++i) s += (i ? ", " : " on ") + p.requests[r.targets[i].value].name;
  return s;
}

std::string requestSignature(const CheckedProgram& p, const sema::RequestInfo& r) {
  std::string s = "request " + r.name;
  if (!r.hasFor) return s;
  for (size_t i = 0; i < r.principals.size(); ++i) s += (i ? ", " : " for ") + p.principals[r.principals[i].value].name;
  return s;
}

std::string defSignature(const CheckedProgram& p, const sema::DefInfo& d) {
  std::string s = "def " + d.name + "(";
  for (size_t i = 0; i < d.params.size(); ++i)
    s += (i ? ", " : "") + d.params[i].first + ": " + p.typeName(d.params[i].second);
  return s + "): " + p.typeName(d.result);
}

std::string attrList(const CheckedProgram& p, const std::vector<sema::AttrInfo>& attrs) {
  std::string s;
  for (const sema::AttrInfo& a : attrs) s += "\n- `" + attrLine(p, a) + "`";
  return s;
}

std::string ruleDetails(const CheckedProgram& p, const sema::RuleInfo& r) {
  std::string s;
  if (r.because) s += "\n\nbecause: " + *r.because;
  if (r.exception) {
    s += "\n\nuntil " + p.formatValue(sema::ConstValue::integer(sema::ConstValue::Kind::Timestamp,
                                                                   p.types.timestamp(), r.exception->until));
    s += ", owner `" + r.exception->owner + "`";
    if (r.exception->ticket) s += ", ticket `" + *r.exception->ticket + "`";
  }
  if (!r.controls.empty()) {
    s += "\n\ncontrols:";
    for (const std::string& c : r.controls) s += " `" + c + "`";
  }
  return s;
}

}  // namespace

std::string declSignature(const CheckedProgram& p, const ast::Ast& ast, ast::DeclId decl) {
  const ast::Decl& d = ast.decl(decl);
  switch (d.kind) {
    case ast::DeclKind::Enum:
      if (auto* e = byDecl(p.enums, decl)) return "enum " + e->name;
      break;
    case ast::DeclKind::Principal:
      if (auto* pr = byDecl(p.principals, decl)) return "principal " + pr->name;
      break;
    case ast::DeclKind::Request:
      if (auto* r = byDecl(p.requests, decl)) return requestSignature(p, *r);
      break;
    case ast::DeclKind::Context: return "context";
    case ast::DeclKind::Const:
      if (auto* c = byDecl(p.consts, decl)) return "const " + c->name + ": " + p.typeName(c->type) + " = " + p.formatValue(c->value);
      break;
    case ast::DeclKind::Def:
      if (auto* f = byDecl(p.defs, decl)) return defSignature(p, *f);
      break;
    case ast::DeclKind::Rule:
      if (auto* r = byDecl(p.rules, decl)) return ruleSignature(p, *r);
      break;
    case ast::DeclKind::Test:
      if (auto* t = byDecl(p.tests, decl)) return "test " + t->name;
      break;
    case ast::DeclKind::Record:
      if (auto* r = byDecl(p.records, decl)) return "record " + r->name;
      break;
    case ast::DeclKind::Table:
      if (auto* t = byDecl(p.tables, decl))
        return "table " + t->name + ": " + p.typeName(t->type) + " from \"" + t->path + "\"";
      break;
  }
  return std::string(ast::declKindName(d.kind)) + " " + std::string(ast.str(d.name));
}

std::string describeDecl(const CheckedProgram& p, const ast::Ast& ast, ast::DeclId decl) {
  const ast::Decl& d = ast.decl(decl);
  std::string s = "```pave\n" + declSignature(p, ast, decl) + "\n```";
  if (!d.doc.empty()) s += "\n\n" + d.doc;
  if (d.kind == ast::DeclKind::Enum) {
    if (auto* e = byDecl(p.enums, decl)) {
      s += "\n\nmembers:";
      for (const std::string& m : e->members) s += " `" + m + "`";
    }
  } else if (d.kind == ast::DeclKind::Principal) {
    if (auto* pr = byDecl(p.principals, decl)) s += "\n\nattributes:" + attrList(p, pr->attrs);
  } else if (d.kind == ast::DeclKind::Record) {
    if (auto* r = byDecl(p.records, decl)) s += "\n\nattributes:" + attrList(p, r->attrs);
  } else if (d.kind == ast::DeclKind::Table) {
    if (auto* t = byDecl(p.tables, decl); t && t->data)
      s += "\n\n" + std::to_string(t->data->rows.size()) + (t->data->rows.size() == 1 ? " row" : " rows");
  } else if (d.kind == ast::DeclKind::Context) {
    s += "\n\nattributes:" + attrList(p, p.context.attrs);
  } else if (d.kind == ast::DeclKind::Request) {
    if (auto* r = byDecl(p.requests, decl)) {
      s += "\n\nattributes:" + attrList(p, r->attrs);
      if (!r->grants.empty()) s += "\n\ngrants:";
      for (const sema::GrantInfo& g : r->grants) s += "\n- `" + grantLine(p, g) + "`: " + mergeRule(g.merge);
    }
  } else if (d.kind == ast::DeclKind::Rule) {
    if (auto* r = byDecl(p.rules, decl)) s += ruleDetails(p, *r);
  }
  return s;
}

}  // namespace pave::lsp
