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

}  // namespace pave::lsp
