// Syntax errors worded for people: the first error ANTLR reports in a file becomes one
// `syntax` diagnostic (what was expected, what was found, a fix where one is clear).
// Internal to syntax/.
#pragma once

#include <antlr4-runtime.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pave::syntax {

/// Collects the first syntax error of a file, worded for people.
class ErrorListener : public antlr4::BaseErrorListener {
 public:
  explicit ErrorListener(std::string_view text) : text_(text) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t, size_t, const std::string&,
                   std::exception_ptr) override;

  /// The parse went further with `tok` taken as the token type retryAs: the error is
  /// reworded as that mistake (`tok` had type `originalType`).
  void explainRetry(antlr4::Token* tok, size_t originalType);

  void setRange(antlr4::Token* t) {
    begin = static_cast<uint32_t>(t->getStartIndex());
    end = t->getType() == antlr4::Token::EOF ? begin : static_cast<uint32_t>(t->getStopIndex() + 1);
  }

  struct Fix {
    std::string title;
    uint32_t begin = 0, end = 0;
    std::string replacement;
  };
  std::optional<Fix> fix;
  size_t tokenIndex = static_cast<size_t>(-1);
  size_t retryAs = 0;  // a token type the offending token may have been meant as, or 0
  bool missingSemi = false;
  bool hasError = false;
  std::string message;
  uint32_t begin = 0, end = 0;

 private:
  std::string_view text_;
};

}  // namespace pave::syntax
