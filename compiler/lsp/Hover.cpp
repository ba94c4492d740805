// textDocument/hover: declarations, references, attribute and grant details, and the
// type of the expression under the cursor.
#include "lsp/Describe.h"
#include "lsp/Features.h"
#include "lsp/Query.h"

namespace pave::lsp {

using json = nlohmann::json;

namespace {

std::string code(const std::string& text) { return "```pave\n" + text + "\n```"; }

std::string describeAttribute(const sema::CheckedProgram& p, const sema::Reference& ref) {
  const sema::AttrInfo* a = nullptr;
  std::string owner = "context";
  for (const sema::PrincipalInfo& pr : p.principals)
    if (pr.decl == ref.decl && ref.index < pr.attrs.size()) a = &pr.attrs[ref.index], owner = pr.name;
  for (const sema::RequestInfo& r : p.requests)
    if (r.decl == ref.decl && ref.index < r.attrs.size()) a = &r.attrs[ref.index], owner = r.name;
  bool record = false;
  for (const sema::RecordInfo& r : p.records)
    if (r.decl == ref.decl && ref.index < r.attrs.size()) a = &r.attrs[ref.index], owner = r.name, record = true;
  if (!a && (p.context.decl == ref.decl || !ref.decl.valid()) && ref.index < p.context.attrs.size())
    a = &p.context.attrs[ref.index];
  if (!a) return {};
  std::string s = code(attrLine(p, *a)) + "\n\nattribute of " + (record ? "record " : "") + "`" + owner + "`";
  if (a->optional) s += "; optional: guard it with `has(…)` before use";
  return s;
}

/// For `t["k"].attr`, the attribute's value in the row of the table's data.
std::string rowValue(const DocView& doc, const sema::Reference& ref) {
  const ast::Ast& ast = doc.snap.ast;
  for (uint32_t i = 0; i < ast.exprs.size(); ++i) {
    const ast::ExprNode& e = ast.exprs[i];
    if (e.kind != ast::ExprKind::Member || e.range.file != ref.use.file || e.range.end != ref.use.end || !e.numChildren)
      continue;
    std::optional<RowLookup> row = constantRow(doc, ast.child(ast::ExprId{i}, 0));
    if (!row || !row->row || ref.index >= row->row->fields.size()) return {};
    const std::optional<sema::ConstValue>& v = row->row->fields[ref.index];
    return "\n\nin the row `\"" + row->row->key + "\"`: " + (v ? "`" + doc.snap.program->formatValue(*v) + "`" : "absent");
  }
  return {};
}

std::string describeGrant(const sema::CheckedProgram& p, const sema::RequestInfo& r, const sema::GrantInfo& g) {
  return code(grantLine(p, g)) + "\n\ngrant of `" + r.name + "`: " + mergeRule(g.merge);
}

std::string describeReference(const DocView& doc, const sema::Reference& ref) {
  const sema::CheckedProgram& p = *doc.snap.program;
  switch (ref.kind) {
    case sema::RefKind::Decl: return describeDecl(p, doc.snap.ast, ref.decl);
    case sema::RefKind::EnumMember:
      for (const sema::EnumInfo& e : p.enums)
        if (e.decl == ref.decl && ref.index < e.members.size())
          return code(e.name + "." + e.members[ref.index]) + "\n\nmember of enum `" + e.name + "`" +
                 (e.doc.empty() ? "" : "\n\n" + e.doc);
      return {};
    case sema::RefKind::Attribute: {
      std::string s = describeAttribute(p, ref);
      return s.empty() ? s : s + rowValue(doc, ref);
    }
    case sema::RefKind::Grant:
      for (const sema::RequestInfo& r : p.requests)
        if (r.decl == ref.decl && ref.index < r.grants.size()) return describeGrant(p, r, r.grants[ref.index]);
      return {};
    case sema::RefKind::Param:
    case sema::RefKind::Variable: {
      std::string name(doc.snap.sources.slice(ref.use));
      std::optional<sema::TypeId> t = exprTypeAt(doc, ref.use);
      std::string what = ref.kind == sema::RefKind::Param ? "parameter" : "quantifier variable";
      return code(name + (t ? ": " + p.typeName(*t) : "")) + "\n\n" + what;
    }
    case sema::RefKind::Namespace: return code("namespace " + std::string(doc.snap.sources.slice(ref.use)));
  }
  return {};
}

/// Hover over a name where it is declared: declarations, members, attributes, grants.
std::string describeDeclarationSite(const DocView& doc, uint32_t offset, SourceRange& range) {
  const sema::CheckedProgram& p = *doc.snap.program;
  const ast::Ast& ast = doc.snap.ast;
  const ast::SourceFile* file = doc.snap.astFile(doc.file);
  if (!file) return {};
  for (ast::DeclId id : file->decls) {
    const ast::Decl& d = ast.decl(id);
    if (!within(d.range, offset) && !within(d.nameRange, offset)) continue;
    if (within(d.nameRange, offset)) return range = d.nameRange, describeDecl(p, ast, id);
    if (d.kind == ast::DeclKind::Record) {
      for (const sema::RecordInfo& r : p.records) {
        if (r.decl != id) continue;
        for (const ast::Attr& a : ast.records[d.index].attrs)
          if (const sema::AttrInfo* info = within(a.nameRange, offset) ? r.attr(ast.str(a.name)) : nullptr) {
            sema::Reference ref{a.nameRange, sema::RefKind::Attribute, id, uint32_t(info - r.attrs.data()), a.nameRange};
            return range = a.nameRange, describeAttribute(p, ref);
          }
      }
    }
    if (d.kind == ast::DeclKind::Request) {
      const sema::RequestInfo* r = nullptr;
      for (const sema::RequestInfo& info : p.requests)
        if (info.decl == id) r = &info;
      if (!r) return {};
      for (const ast::GrantDecl& g : ast.requests[d.index].grants)
        if (within(g.nameRange, offset))
          if (const sema::GrantInfo* gi = r->grant(ast.str(g.name))) return range = g.nameRange, describeGrant(p, *r, *gi);
    }
  }
  return {};
}

/// Hover over `t["key"]`: the row of the table's data.
std::string describeRow(const DocView& doc, const RowLookup& lookup) {
  const sema::CheckedProgram& p = *doc.snap.program;
  const sema::TableInfo& t = *lookup.table;
  if (!t.data) return {};
  const sema::RecordInfo& rec = p.records[t.record.value];
  std::string key = "`\"" + lookup.key + "\"`";
  if (!lookup.row) return code(rec.name) + "\n\nno row " + key + " in table `" + t.name + "`";
  std::string s = code(rec.name) + "\n\nrow " + key + " of table `" + t.name + "` (line " +
                  std::to_string(lookup.row->line) + " of `" + t.path + "`):";
  for (size_t i = 0; i < rec.attrs.size() && i < lookup.row->fields.size(); ++i) {
    const std::optional<sema::ConstValue>& v = lookup.row->fields[i];
    s += "\n- `" + rec.attrs[i].name + "`: " + (v ? "`" + p.formatValue(*v) + "`" : "absent");
  }
  return s;
}

}  // namespace

json hover(const DocView& doc, Position pos) {
  if (!doc.current() || !doc.snap.program) return nullptr;
  uint32_t offset = doc.lines().offset(pos);
  SourceRange range;
  std::string text;
  if (const sema::Reference* ref = referenceAt(doc, offset)) {
    text = describeReference(doc, *ref);
    range = ref->use;
  }
  if (text.empty())
    if (std::optional<RowLookup> row = constantRowAt(doc, offset)) {
      text = describeRow(doc, *row);
      range = row->keyRange;
    }
  if (text.empty()) text = describeDeclarationSite(doc, offset, range);
  if (text.empty()) {
    if (std::optional<std::pair<ast::ExprId, sema::TypeId>> e = exprAt(doc, offset)) {
      range = doc.snap.ast.expr(e->first).range;
      text = code(doc.snap.program->typeName(e->second));
    }
  }
  if (text.empty()) return nullptr;
  return {{"contents", {{"kind", "markdown"}, {"value", text}}},
          {"range", doc.lines().range(range.begin, range.end)}};
}

}  // namespace pave::lsp
