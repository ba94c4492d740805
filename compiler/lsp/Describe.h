// Human-readable renderings of declarations for hover and completion details.
#pragma once

#include <string>

#include "ast/AST.h"
#include "sema/Program.h"

namespace pave::lsp {

/// How a grant's values from several matching rules combine.
std::string mergeRule(sema::MergeOp op);
std::string attrLine(const sema::CheckedProgram& p, const sema::AttrInfo& a);
std::string grantLine(const sema::CheckedProgram& p, const sema::GrantInfo& g);

/// Markdown describing a declaration: its signature in a `pave` code block, its doc
/// comment, and for requests their attributes and grant merge rules. Empty when the
/// program does not know the declaration (it did not check).
std::string describeDecl(const sema::CheckedProgram& p, const ast::Ast& ast, ast::DeclId decl);
/// The one-line signature of a declaration (`request acme.CloudRole for acme.Human`).
std::string declSignature(const sema::CheckedProgram& p, const ast::Ast& ast, ast::DeclId decl);

}  // namespace pave::lsp
