#include "ast/AST.h"

#include <llvm/ADT/StringMap.h>

namespace pave::ast {

struct SymbolTable::Impl {
  llvm::StringMap<uint32_t> map;
};

SymbolTable::SymbolTable() : impl_(std::make_unique<Impl>()) {}
SymbolTable::~SymbolTable() = default;
SymbolTable::SymbolTable(SymbolTable&&) noexcept = default;
SymbolTable& SymbolTable::operator=(SymbolTable&&) noexcept = default;

SymbolTable::SymbolTable(const SymbolTable& other) : impl_(std::make_unique<Impl>()) {
  strings_.reserve(other.strings_.size());
  for (std::string_view s : other.strings_) intern(s);
}

SymbolTable& SymbolTable::operator=(const SymbolTable& other) {
  if (this != &other) *this = SymbolTable(other);
  return *this;
}

Symbol SymbolTable::intern(std::string_view s) {
  auto [it, inserted] = impl_->map.try_emplace(llvm::StringRef(s.data(), s.size()), 0);
  if (inserted) {
    it->second = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(it->first().data(), it->first().size());
  }
  return Symbol{it->second};
}

std::string_view compareOpSpelling(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return "==";
    case CompareOp::Ne: return "!=";
    case CompareOp::Lt: return "<";
    case CompareOp::Le: return "<=";
    case CompareOp::Gt: return ">";
    case CompareOp::Ge: return ">=";
  }
  return "?";
}

std::string_view effectName(Effect e) {
  switch (e) {
    case Effect::Allow: return "allow";
    case Effect::Approve: return "approve";
    case Effect::Deny: return "deny";
    case Effect::Exception: return "exception";
  }
  return "?";
}

std::string_view clauseKeyword(ClauseKind k) {
  switch (k) {
    case ClauseKind::When: return "when";
    case ClauseKind::Unless: return "unless";
    case ClauseKind::By: return "by";
    case ClauseKind::Grant: return "grant";
    case ClauseKind::Because: return "because";
    case ClauseKind::Lifts: return "lifts";
    case ClauseKind::Until: return "until";
    case ClauseKind::Owner: return "owner";
    case ClauseKind::Ticket: return "ticket";
  }
  return "?";
}

std::string_view declKindName(DeclKind k) {
  switch (k) {
    case DeclKind::Enum: return "enum";
    case DeclKind::Principal: return "principal";
    case DeclKind::Request: return "request";
    case DeclKind::Context: return "context";
    case DeclKind::Const: return "const";
    case DeclKind::Def: return "def";
    case DeclKind::Rule: return "rule";
    case DeclKind::Test: return "test";
    case DeclKind::Record: return "record";
    case DeclKind::Table: return "table";
  }
  return "?";
}

std::string Ast::nameText(NameId id) const {
  std::string out;
  const QualifiedName& n = names[id.value];
  for (uint32_t i = 0; i < n.numSegments; ++i) {
    if (i) out += '.';
    out += symbols.str(nameSegments[n.firstSegment + i].name);
  }
  return out;
}

ExprId Ast::addExpr(ExprNode node, std::span<const ExprId> children) {
  node.firstChild = static_cast<uint32_t>(exprChildren.size());
  node.numChildren = static_cast<uint32_t>(children.size());
  exprChildren.insert(exprChildren.end(), children.begin(), children.end());
  exprs.push_back(node);
  return ExprId{static_cast<uint32_t>(exprs.size() - 1)};
}

NameId Ast::addName(std::span<const NameSegment> segments, SourceRange range) {
  QualifiedName n{static_cast<uint32_t>(nameSegments.size()), static_cast<uint32_t>(segments.size()), range};
  nameSegments.insert(nameSegments.end(), segments.begin(), segments.end());
  names.push_back(n);
  return NameId{static_cast<uint32_t>(names.size() - 1)};
}

}  // namespace pave::ast
