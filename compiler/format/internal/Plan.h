// The formatter's layout plan: for every token, whether it starts a line and what spacing
// rules apply to it. Internal to compiler/format.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "syntax/Tokens.h"

namespace pave::format::internal {

struct TokenPlan {
  bool line = false;         // start a new line before this token
  uint16_t indent = 0;       // its indentation when `line`
  bool drop = false;         // a trailing comma that the layout removes
  bool commaAfter = false;   // a trailing comma that the layout adds after this token
  bool typeMode = false;     // inside a type: `<` and `>` are brackets, not operators
  bool keywordRole = false;  // a contextual word used as a keyword (`by`, `grant`, ...)
};

/// Tokens of one file with their plan.
struct Layout {
  std::string_view text;
  std::vector<syntax::Token> tokens;
  std::vector<TokenPlan> plan;

  std::string_view spelling(size_t i) const { return text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin); }
  bool comment(size_t i) const { return syntax::isComment(tokens[i].kind); }
  /// The previous/next token that is not a comment and not dropped; SIZE_MAX at either end.
  size_t prevCode(size_t i) const;
  size_t nextCode(size_t i) const;
};

/// Whether a space separates token `cur` from the code token `prev` before it on a line.
bool spaceBetween(const Layout& l, size_t prev, size_t cur);
/// The width in code points of token `i` as printed (a comma added after it included).
uint32_t printedWidth(const Layout& l, size_t i);
/// The width of tokens [first, last] printed on one line; `kNoFit` when a comment lies
/// between them.
uint32_t flatWidth(const Layout& l, size_t first, size_t last);
inline constexpr uint32_t kNoFit = UINT32_MAX / 2;

}  // namespace pave::format::internal
