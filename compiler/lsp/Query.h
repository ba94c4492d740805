// Lookups by position in a document's snapshot, shared by the features.
#pragma once

#include <optional>
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

}  // namespace pave::lsp
