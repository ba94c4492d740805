#include "format/internal/Printer.h"

#include <algorithm>

namespace pave::format::internal {

using syntax::TokenKind;

namespace {

uint32_t codePoints(std::string_view s) {
  uint32_t n = 0;
  for (char ch : s)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  return n;
}

/// A comment as printed: trailing blanks and carriage returns removed.
std::string commentText(std::string_view s) {
  std::string out;
  for (char ch : s)
    if (ch != '\r') out += ch;
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  return out;
}

class Printer {
 public:
  explicit Printer(const Layout& l) : l_(l) {}

  std::string run() {
    for (size_t i = 0; i < l_.tokens.size(); ++i) {
      if (l_.comment(i)) {
        comment(i);
      } else if (!l_.plan[i].drop) {
        code(i);
      }
      lastEnd_ = l_.tokens[i].end;
    }
    finishLine();
    alignTrailingComments();
    std::string out;
    for (const Line& line : lines_) out += line.text + "\n";
    return out;
  }

 private:
  struct Line {
    std::string text;
    size_t trailingComment = std::string::npos;  // byte offset of a trailing `//` comment
  };

  uint32_t newlinesBefore(size_t i) const {
    uint32_t n = 0;
    for (uint32_t p = lastEnd_; p < l_.tokens[i].begin; ++p) n += l_.text[p] == '\n';
    return n;
  }

  void finishLine() {
    if (!started_) return;
    while (!cur_.text.empty() && cur_.text.back() == ' ') cur_.text.pop_back();
    lines_.push_back(std::move(cur_));
    cur_ = Line{};
  }

  /// Starts a new line at `indent`, keeping one blank line where the source had one.
  void newLine(uint16_t indent, bool blank) {
    finishLine();
    if (blank && !lines_.empty() && !afterOpenBrace_) lines_.push_back(Line{});
    cur_.text.assign(indent, ' ');
    started_ = true;
    lineHasCode_ = false;
  }

  /// The indentation of a comment on its own line: that of the code line it precedes.
  uint16_t commentIndent(size_t i) const {
    size_t next = l_.nextCode(i);
    if (next == SIZE_MAX) return 0;
    if (!l_.plan[next].line) return static_cast<uint16_t>(planIndent_ + 4);
    bool closing = l_.tokens[next].kind == TokenKind::RBrace;
    return static_cast<uint16_t>(l_.plan[next].indent + (closing ? 2 : 0));
  }

  void comment(size_t i) {
    uint32_t newlines = newlinesBefore(i);
    bool ownLine = !started_ || newlines > 0 || !lineHasCode_;
    std::string text = commentText(l_.spelling(i));
    if (ownLine) {
      newLine(commentIndent(i), newlines >= 2);
    } else if (l_.tokens[i].kind == TokenKind::LineComment) {
      cur_.text += "  ";
      cur_.trailingComment = cur_.text.size();
    } else if (!cur_.text.empty() && cur_.text.back() != '(' && cur_.text.back() != '[') {
      cur_.text += ' ';  // a block comment within a line reads like a word
    }
    cur_.text += text;
    afterOpenBrace_ = false;
    lineHasCode_ = true;
    bool lineEnds = l_.tokens[i].kind != TokenKind::BlockComment;
    if (!lineEnds && i + 1 < l_.tokens.size()) {
      for (uint32_t p = l_.tokens[i].end; p < l_.tokens[i + 1].begin; ++p) lineEnds |= l_.text[p] == '\n';
    }
    pendingNewline_ = lineEnds;
    afterBlockComment_ = !lineEnds;
  }

  void code(size_t i) {
    const TokenPlan& p = l_.plan[i];
    if (p.line || pendingNewline_ || !started_) {
      uint16_t indent = p.line ? p.indent : static_cast<uint16_t>(planIndent_ + 4);
      if (p.line) planIndent_ = p.indent;
      newLine(indent, p.line && newlinesBefore(i) >= 2 && l_.tokens[i].kind != TokenKind::RBrace);
    } else if (afterBlockComment_ ? !closesOrSeparates(l_.tokens[i].kind)
                                  : prev_ != SIZE_MAX && spaceBetween(l_, prev_, i)) {
      cur_.text += ' ';
    }
    cur_.text += l_.spelling(i);
    if (p.commaAfter) cur_.text += ',';
    pendingNewline_ = false;
    afterBlockComment_ = false;
    lineHasCode_ = true;
    afterOpenBrace_ = l_.tokens[i].kind == TokenKind::LBrace;
    prev_ = i;
  }

  static bool closesOrSeparates(TokenKind k) {
    return k == TokenKind::Comma || k == TokenKind::Semi || k == TokenKind::RParen || k == TokenKind::RBrack ||
           k == TokenKind::Colon;
  }

  /// Aligns the trailing `//` comments of consecutive lines two spaces after the longest code.
  void alignTrailingComments() {
    for (size_t start = 0; start < lines_.size();) {
      size_t end = start;
      while (end < lines_.size() && lines_[end].trailingComment != std::string::npos) ++end;
      if (end == start) {
        ++start;
        continue;
      }
      uint32_t column = 0;
      for (size_t k = start; k < end; ++k)
        column = std::max(column, codePoints(std::string_view(lines_[k].text).substr(0, codeEnd(lines_[k]))));
      for (size_t k = start; k < end; ++k) {
        Line& line = lines_[k];
        std::string codePart = line.text.substr(0, codeEnd(line));
        std::string commentPart = line.text.substr(line.trailingComment);
        line.text = codePart + std::string(column - codePoints(codePart) + 2, ' ') + commentPart;
      }
      start = end;
    }
  }

  static size_t codeEnd(const Line& line) {
    size_t end = line.trailingComment;
    while (end > 0 && line.text[end - 1] == ' ') --end;
    return end;
  }

  const Layout& l_;
  std::vector<Line> lines_;
  Line cur_;
  bool started_ = false;
  bool pendingNewline_ = false;
  bool afterBlockComment_ = false;
  bool lineHasCode_ = false;
  bool afterOpenBrace_ = false;
  uint16_t planIndent_ = 0;
  uint32_t lastEnd_ = 0;
  size_t prev_ = SIZE_MAX;
};

}  // namespace

std::string print(const Layout& layout) { return Printer(layout).run(); }

}  // namespace pave::format::internal
