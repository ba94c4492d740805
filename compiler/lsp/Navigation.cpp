// textDocument/definition, textDocument/documentSymbol and textDocument/formatting.
#include <filesystem>

#include "format/Format.h"
#include "lsp/Describe.h"
#include "lsp/Features.h"
#include "lsp/Query.h"

namespace fs = std::filesystem;

namespace pave::lsp {

using json = nlohmann::json;

namespace {

/// A location in a table's data file: 1-based `line`, or its start when 0.
json dataLocation(const DocView& doc, const sema::TableInfo& t, uint32_t line) {
  std::string root = doc.snap.root;
  if (fs::path(root).extension() == ".pave") root = fs::path(root).parent_path().string();  // a single-file unit
  std::string file = t.data ? t.data->file : (fs::path(root.empty() ? "." : root) / t.path).lexically_normal().string();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return nullptr;
  json at = {{"line", line ? line - 1 : 0}, {"character", 0}};
  return {{"uri", pathToUri(fs::absolute(file).lexically_normal().string())}, {"range", {{"start", at}, {"end", at}}}};
}

}  // namespace

json definition(const DocView& doc, Position pos) {
  if (!doc.current() || !doc.snap.program) return nullptr;
  uint32_t offset = doc.lines().offset(pos);
  const sema::Reference* ref = referenceAt(doc, offset);
  if (ref && ref->target.valid()) return locationJson(doc.snap, ref->target);
  // `from "path"` of a table: its data file; `t["key"]`: the row in the data file.
  for (const sema::TableInfo& t : doc.snap.program->tables)
    if (t.pathRange.file == doc.file && within(t.pathRange, offset)) return dataLocation(doc, t, 0);
  if (std::optional<RowLookup> row = constantRowAt(doc, offset))
    if (row->row) return dataLocation(doc, *row->table, row->row->line);
  return nullptr;
}

namespace {

enum SymbolKind {
  Class = 5,
  Property = 7,
  Field = 8,
  Enum = 10,
  Function = 12,
  Constant = 14,
  EnumMember = 22,
  Struct = 23,
  Event = 24,
  Method = 6
};

int symbolKind(ast::DeclKind k) {
  switch (k) {
    case ast::DeclKind::Enum: return Enum;
    case ast::DeclKind::Principal:
    case ast::DeclKind::Request: return Class;
    case ast::DeclKind::Context: return Struct;
    case ast::DeclKind::Const: return Constant;
    case ast::DeclKind::Def: return Function;
    case ast::DeclKind::Rule: return Event;
    case ast::DeclKind::Test: return Method;
    case ast::DeclKind::Record: return Struct;
    case ast::DeclKind::Table: return Constant;
  }
  return Event;
}

json symbol(const LineIndex& lines, const std::string& name, const std::string& detail, int kind, SourceRange range,
            SourceRange selection) {
  if (!selection.valid()) selection = range;
  return {{"name", name}, {"detail", detail}, {"kind", kind}, {"range", lines.range(range.begin, range.end)},
          {"selectionRange", lines.range(selection.begin, selection.end)}};
}

json children(const DocView& doc, const ast::Decl& d) {
  const ast::Ast& ast = doc.snap.ast;
  const LineIndex& lines = doc.lines();
  json out = json::array();
  auto attrs = [&](const std::vector<ast::Attr>& list) {
    for (const ast::Attr& a : list)
      out.push_back(symbol(lines, std::string(ast.str(a.name)),
                           std::string(doc.snap.sources.slice(ast.type(a.type).range)), Field, a.range, a.nameRange));
  };
  switch (d.kind) {
    case ast::DeclKind::Enum:
      for (const ast::EnumMember& m : ast.enums[d.index].members)
        out.push_back(symbol(lines, std::string(ast.str(m.name)), "", EnumMember, m.range, m.range));
      break;
    case ast::DeclKind::Principal: attrs(ast.principals[d.index].attrs); break;
    case ast::DeclKind::Context: attrs(ast.contexts[d.index].attrs); break;
    case ast::DeclKind::Record: attrs(ast.records[d.index].attrs); break;
    case ast::DeclKind::Request:
      attrs(ast.requests[d.index].attrs);
      for (const ast::GrantDecl& g : ast.requests[d.index].grants)
        out.push_back(symbol(lines, std::string(ast.str(g.name)), "grant merge " + std::string(ast.str(g.mergeOp)),
                             Property, g.range, g.nameRange));
      break;
    default: break;
  }
  return out;
}

}  // namespace

json documentSymbols(const DocView& doc) {
  json out = json::array();
  const ast::SourceFile* file = doc.current() ? doc.snap.astFile(doc.file) : nullptr;
  if (!file) return out;
  const ast::Ast& ast = doc.snap.ast;
  for (ast::DeclId id : file->decls) {
    const ast::Decl& d = ast.decl(id);
    std::string name = d.kind == ast::DeclKind::Context ? "context" : std::string(ast.str(d.name));
    std::string detail = doc.snap.program ? declSignature(*doc.snap.program, ast, id) : std::string(ast::declKindName(d.kind));
    SourceRange range = d.range;
    if (d.kind == ast::DeclKind::Rule && !ast.rules[d.index].annotations.empty())
      range.begin = ast.rules[d.index].annotations.front().range.begin;
    json s = symbol(doc.lines(), name, detail, symbolKind(d.kind), range, d.nameRange);
    json kids = children(doc, d);
    if (!kids.empty()) s["children"] = kids;
    out.push_back(std::move(s));
  }
  return out;
}

json formatting(const DocView& doc) {
  format::FormatResult result = format::formatText(doc.snap.sources.path(doc.file), std::string(doc.text()));
  if (!result.ok) return nullptr;
  if (result.text == doc.text()) return json::array();
  uint32_t end = static_cast<uint32_t>(doc.text().size());
  return json::array({{{"range", doc.lines().range(0, end)}, {"newText", result.text}}});
}

}  // namespace pave::lsp
