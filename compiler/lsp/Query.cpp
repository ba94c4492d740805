#include "lsp/Query.h"

namespace pave::lsp {

const sema::Reference* referenceAt(const DocView& doc, uint32_t offset) {
  const sema::Reference* best = nullptr;
  for (const sema::Reference& r : doc.snap.program->references) {
    if (r.use.file != doc.file || !within(r.use, offset)) continue;
    if (!best || r.use.end - r.use.begin < best->use.end - best->use.begin) best = &r;
  }
  return best;
}

std::optional<std::pair<ast::ExprId, sema::TypeId>> exprAt(const DocView& doc, uint32_t offset) {
  const std::vector<sema::TypeId>& types = doc.snap.program->astExprTypes;
  std::optional<std::pair<ast::ExprId, sema::TypeId>> best;
  uint32_t bestSize = UINT32_MAX;
  for (uint32_t i = 0; i < doc.snap.ast.exprs.size() && i < types.size(); ++i) {
    const ast::ExprNode& e = doc.snap.ast.exprs[i];
    if (e.range.file != doc.file || !within(e.range, offset) || !types[i].valid()) continue;
    if (doc.snap.program->types.isError(types[i])) continue;
    if (e.range.end - e.range.begin < bestSize) {
      bestSize = e.range.end - e.range.begin;
      best = std::make_pair(ast::ExprId{i}, types[i]);
    }
  }
  return best;
}

std::optional<sema::TypeId> exprTypeAt(const DocView& doc, SourceRange r) {
  const std::vector<sema::TypeId>& types = doc.snap.program->astExprTypes;
  for (uint32_t i = 0; i < doc.snap.ast.exprs.size() && i < types.size(); ++i) {
    const ast::ExprNode& e = doc.snap.ast.exprs[i];
    if (e.range.file == r.file && e.range.begin == r.begin && e.range.end == r.end && types[i].valid()) return types[i];
  }
  return std::nullopt;
}

std::optional<RowLookup> constantRow(const DocView& doc, ast::ExprId index) {
  const ast::Ast& ast = doc.snap.ast;
  const sema::CheckedProgram& p = *doc.snap.program;
  if (!index.valid() || index.value >= ast.exprs.size()) return std::nullopt;
  const ast::ExprNode& e = ast.expr(index);
  if (e.kind != ast::ExprKind::Index || e.numChildren != 2) return std::nullopt;
  const ast::ExprNode& map = ast.expr(ast.child(index, 0));
  const ast::ExprNode& key = ast.expr(ast.child(index, 1));
  if (map.kind != ast::ExprKind::Name || key.kind != ast::ExprKind::StringLit) return std::nullopt;
  for (const sema::Reference& r : p.references) {
    if (r.kind != sema::RefKind::Decl || r.use.file != map.range.file || r.use.begin < map.range.begin ||
        r.use.end > map.range.end)
      continue;
    for (const sema::TableInfo& t : p.tables) {
      if (t.decl != r.decl) continue;
      RowLookup out{&t, std::string(ast.str(key.symbol)), key.range, nullptr};
      if (t.data) out.row = t.data->find(out.key);
      return out;
    }
  }
  return std::nullopt;
}

std::optional<RowLookup> constantRowAt(const DocView& doc, uint32_t offset) {
  const ast::Ast& ast = doc.snap.ast;
  std::optional<RowLookup> best;
  uint32_t bestSize = UINT32_MAX;
  for (uint32_t i = 0; i < ast.exprs.size(); ++i) {
    const ast::ExprNode& e = ast.exprs[i];
    if (e.kind != ast::ExprKind::Index || e.numChildren != 2 || e.range.file != doc.file || !within(e.range, offset))
      continue;
    if (e.range.end - e.range.begin >= bestSize) continue;
    if (within(ast.expr(ast.child(ast::ExprId{i}, 0)).range, offset)) continue;  // on the table's name
    if (std::optional<RowLookup> row = constantRow(doc, ast::ExprId{i})) {
      best = std::move(row);
      bestSize = e.range.end - e.range.begin;
    }
  }
  return best;
}

}  // namespace pave::lsp
