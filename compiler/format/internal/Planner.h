// Decides the layout of one file from its AST: which tokens start lines, at what
// indentation, and which trailing commas come and go. Internal to compiler/format.
#pragma once

#include <utility>
#include <vector>

#include "ast/AST.h"
#include "format/Format.h"
#include "format/internal/Plan.h"

namespace pave::format::internal {

class Planner {
 public:
  Planner(Layout& layout, const ast::Ast& ast, const FormatOptions& options)
      : l_(layout), ast_(ast), width_(options.width), fillWidth_(options.fillWidth) {}
  void run(const ast::SourceFile& file);

 private:
  using Span = std::pair<size_t, size_t>;  // first and last token of an item
  enum class BlockMode { OneLineIfFits, OnePerLine, Fill };

  size_t tokenAt(uint32_t offset) const;    // the first token starting at or after offset
  size_t lastBefore(uint32_t end) const;    // the last token ending at or before end
  bool hasComment(size_t first, size_t last) const;
  void lineBreak(size_t i, uint16_t indent);
  void markTypes();
  void markKeywords();

  void decl(const ast::Decl& d);
  void rule(const ast::RuleDecl& r, size_t keyword);
  void conjunction(const ast::Clause& c, size_t keyword);
  /// Breaks the `and`/`or` chain `e` before each operator at `indent`, then breaks each
  /// operand whose line does not fit; `lineEnd` is the last token on the last operand's line.
  void logical(ast::ExprId e, uint16_t indent, size_t lineEnd);
  /// Breaks an operand that does not fit: a logical chain (possibly under `not`, `any`,
  /// `all`) with a hanging indent, the operators under its first token.
  void nested(ast::ExprId e, size_t lineEnd);
  size_t operatorAfter(ast::ExprId operand, syntax::TokenKind op) const;
  /// The column where token `i` is printed, from the line breaks planned so far.
  uint32_t column(size_t i) const;
  bool fitsLine(size_t first, size_t last) const;
  void valueDecl(size_t keyword, size_t last, ast::ExprId value);
  void test(const ast::TestDecl& t, size_t keyword, size_t close);
  void block(size_t lineStart, size_t open, size_t close, uint16_t indent, BlockMode mode);
  std::vector<Span> items(size_t open, size_t close) const;
  void fill(const std::vector<Span>& list, uint16_t indent);

  Layout& l_;
  const ast::Ast& ast_;
  uint32_t width_;
  uint32_t fillWidth_;
};

}  // namespace pave::format::internal
