// The adapters that put Pave's lexer in front of the ANTLR-generated parser: the text as
// ANTLR's character stream and Pave's tokens as its token source. Internal to syntax/.
#pragma once

#include <antlr4-runtime.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "syntax/Tokens.h"

namespace pave::syntax {

/// The ANTLR token type of a Pave token.
size_t antlrType(TokenKind k);

/// Comments the parser never sees (an unterminated one is an error it must report).
inline bool hiddenFromParser(TokenKind k) {
  return k == TokenKind::DocComment || k == TokenKind::LineComment || k == TokenKind::BlockComment;
}

/// The source text as ANTLR's character stream, indexed by bytes: tokens carry byte
/// offsets, and this is what turns them back into text.
class ByteCharStream final : public antlr4::CharStream {
 public:
  explicit ByteCharStream(std::string_view text) : text_(text) {}
  void consume() override {
    if (p_ < text_.size()) ++p_;
  }
  size_t LA(ssize_t i) override {
    if (i == 0) return 0;
    ssize_t at = i > 0 ? static_cast<ssize_t>(p_) + i - 1 : static_cast<ssize_t>(p_) + i;
    if (at < 0 || at >= static_cast<ssize_t>(text_.size())) return antlr4::IntStream::EOF;
    return static_cast<unsigned char>(text_[static_cast<size_t>(at)]);
  }
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  size_t index() override { return p_; }
  void seek(size_t index) override { p_ = std::min(index, text_.size()); }
  size_t size() override { return text_.size(); }
  std::string getSourceName() const override { return "<pave>"; }
  std::string getText(const antlr4::misc::Interval& interval) override {
    if (interval.a < 0 || interval.b < interval.a) return {};
    size_t a = static_cast<size_t>(interval.a), b = static_cast<size_t>(interval.b);
    if (a >= text_.size()) return {};
    return std::string(text_.substr(a, std::min(b, text_.size() - 1) - a + 1));
  }
  std::string toString() const override { return std::string(text_); }

 private:
  std::string_view text_;
  size_t p_ = 0;
};

/// Hands the parser Pave's tokens, comments left out, and remembers where each came from.
class TokenFeed final : public antlr4::TokenSource {
 public:
  TokenFeed(const std::vector<Token>& lexed, ByteCharStream& chars, size_t textSize)
      : lexed_(lexed), chars_(chars), textSize_(textSize) {}

  std::unique_ptr<antlr4::Token> nextToken() override;
  size_t getLine() const override { return 1; }
  size_t getCharPositionInLine() override { return 0; }
  antlr4::CharStream* getInputStream() override { return &chars_; }
  std::string getSourceName() override { return chars_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override {
    return antlr4::CommonTokenFactory::DEFAULT.get();
  }

  /// For each token handed out (ANTLR's token index), its index in `lexed`.
  std::vector<uint32_t> fed;

 private:
  const std::vector<Token>& lexed_;
  ByteCharStream& chars_;
  size_t textSize_;
  size_t next_ = 0;
};

}  // namespace pave::syntax
