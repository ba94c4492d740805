// Lookups by position in a document's snapshot, shared by the features.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "lsp/Features.h"

namespace pave::lsp {

/// Whether `offset` touches `r` (the cursor right after a name still counts).
inline bool within(SourceRange r, uint32_t offset) { return r.valid() && r.begin <= offset && offset <= r.end; }

/// The innermost name use or member access of the document at `offset`.
const sema::Reference* referenceAt(const DocView& doc, uint32_t offset);
/// The innermost typed expression of the document at `offset`.
std::optional<std::pair<ast::ExprId, sema::TypeId>> exprAt(const DocView& doc, uint32_t offset);
/// The type of the expression spanning exactly `r`.
std::optional<sema::TypeId> exprTypeAt(const DocView& doc, SourceRange r);

/// A lookup `t["key"]` of a table with a constant key.
struct RowLookup {
  const sema::TableInfo* table = nullptr;
  std::string key;
  SourceRange keyRange;
  const sema::TableRow* row = nullptr;  // null when the data is not loaded or has no such key
};
/// `index` as a lookup of a table with a constant key.
std::optional<RowLookup> constantRow(const DocView& doc, ast::ExprId index);
/// The innermost lookup of a table with a constant key at `offset` (not on the table's name).
std::optional<RowLookup> constantRowAt(const DocView& doc, uint32_t offset);

}  // namespace pave::lsp
