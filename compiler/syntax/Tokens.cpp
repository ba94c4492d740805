// The lexer: a direct transcription of the lexer rules of grammar/Pave.g4 (longest match,
// ties to the rule written first). It replaces ANTLR's generated lexer, which spent a
// quarter of `pave check` on table-driven matching and per-token allocation; the
// generated parser still reads its tokens. tests/unit/syntax/lexer_test.cpp checks that
// both lexers agree token for token on every policy file and on random text.
#include "syntax/Tokens.h"

#include <array>
#include <cstring>

namespace pave::syntax {

namespace {

constexpr bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool isIdentStart(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
constexpr bool isIdentChar(unsigned char c) { return isIdentStart(c) || isDigit(c); }

struct Keyword {
  std::string_view text;
  TokenKind kind;
};

// Every reserved and contextual word, in TokenKind order.
constexpr std::array<Keyword, 51> kKeywords{{
    {"namespace", TokenKind::Namespace}, {"use", TokenKind::Use},         {"as", TokenKind::As},
    {"enum", TokenKind::Enum},           {"principal", TokenKind::Principal}, {"request", TokenKind::Request},
    {"context", TokenKind::Context},     {"const", TokenKind::Const},     {"def", TokenKind::Def},
    {"allow", TokenKind::Allow},         {"approve", TokenKind::Approve}, {"deny", TokenKind::Deny},
    {"exception", TokenKind::Exception}, {"when", TokenKind::When},       {"unless", TokenKind::Unless},
    {"and", TokenKind::And},             {"or", TokenKind::Or},           {"not", TokenKind::Not},
    {"in", TokenKind::In},               {"is", TokenKind::Is},           {"like", TokenKind::Like},
    {"has", TokenKind::Has},             {"if", TokenKind::If},           {"then", TokenKind::Then},
    {"else", TokenKind::Else},           {"any", TokenKind::Any},         {"all", TokenKind::All},
    {"true", TokenKind::True},           {"false", TokenKind::False},     {"test", TokenKind::Test},
    {"on", TokenKind::On},               {"for", TokenKind::For},         {"by", TokenKind::By},
    {"quorum", TokenKind::Quorum},       {"grant", TokenKind::Grant},     {"because", TokenKind::Because},
    {"lifts", TokenKind::Lifts},         {"until", TokenKind::Until},     {"owner", TokenKind::Owner},
    {"ticket", TokenKind::Ticket},       {"merge", TokenKind::Merge},     {"expect", TokenKind::Expect},
    {"error", TokenKind::Error},         {"min", TokenKind::Min},         {"max", TokenKind::Max},
    {"union", TokenKind::Union},         {"intersect", TokenKind::Intersect}, {"unique", TokenKind::Unique},
    {"record", TokenKind::Record},       {"table", TokenKind::Table},     {"from", TokenKind::From},
}};

TokenKind wordKind(std::string_view word) {
  // Keywords are 2–9 lower-case letters; a first-letter filter keeps this a handful of compares.
  if (word.size() < 2 || word.size() > 9 || word[0] < 'a' || word[0] > 'z') return TokenKind::Ident;
  for (const Keyword& k : kKeywords)
    if (k.text[0] == word[0] && k.text == word) return k.kind;
  return TokenKind::Ident;
}

/// Length of a UTF-8 sequence from its lead byte (the text is valid UTF-8).
size_t codePointLength(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text), n_(text.size()) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    out.reserve(n_ / 4 + 4);
    size_t i = 0;
    while (i < n_) {
      unsigned char c = at(i);
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
        ++i;
        continue;
      }
      size_t end = i + 1;
      TokenKind kind = next(i, end);
      out.push_back({kind, static_cast<uint32_t>(i), static_cast<uint32_t>(end)});
      i = end;
    }
    return out;
  }

 private:
  unsigned char at(size_t i) const { return i < n_ ? static_cast<unsigned char>(s_[i]) : 0; }
  bool digitsAt(size_t i, size_t count) const {
    for (size_t k = 0; k < count; ++k)
      if (!isDigit(at(i + k))) return false;
    return i + count <= n_;
  }

  /// Lexes the token at `i`; sets `end` past it.
  TokenKind next(size_t i, size_t& end) {
    unsigned char c = at(i);
    if (isIdentStart(c)) {
      end = i + 1;
      while (end < n_ && isIdentChar(at(end))) ++end;
      return wordKind(s_.substr(i, end - i));
    }
    if (isDigit(c)) return number(i, end);
    switch (c) {
      case '"': return string(i, end);
      case '=': return pair(i, end, '=', TokenKind::Eq, TokenKind::Assign);
      case '!':
        if (at(i + 1) == '=') {
          end = i + 2;
          return TokenKind::Ne;
        }
        return TokenKind::BadChar;
      case '<': return pair(i, end, '=', TokenKind::Le, TokenKind::Lt);
      case '>': return pair(i, end, '=', TokenKind::Ge, TokenKind::Gt);
      case '+': return TokenKind::Plus;
      case '-': return TokenKind::Minus;
      case '*': return TokenKind::Star;
      case '.': return TokenKind::Dot;
      case ',': return TokenKind::Comma;
      case ':': return TokenKind::Colon;
      case ';': return TokenKind::Semi;
      case '?': return TokenKind::Question;
      case '@': return TokenKind::At;
      case '(': return TokenKind::LParen;
      case ')': return TokenKind::RParen;
      case '{': return TokenKind::LBrace;
      case '}': return TokenKind::RBrace;
      case '[': return TokenKind::LBrack;
      case ']': return TokenKind::RBrack;
      case '/':
        if (at(i + 1) == '/') {
          end = i + 2;
          while (end < n_ && at(end) != '\r' && at(end) != '\n') ++end;
          return at(i + 2) == '/' ? TokenKind::DocComment : TokenKind::LineComment;
        }
        if (at(i + 1) == '*') {
          // The shortest `/* … */`, or everything to the end of the text.
          size_t close = s_.find("*/", i + 2);
          if (close == std::string_view::npos) {
            end = n_;
            return TokenKind::UnterminatedComment;
          }
          end = close + 2;
          return TokenKind::BlockComment;
        }
        return TokenKind::BadChar;
      default:
        end = i + codePointLength(c);
        if (end > n_) end = n_;
        return TokenKind::BadChar;
    }
  }

  TokenKind pair(size_t i, size_t& end, char second, TokenKind both, TokenKind single) {
    if (at(i + 1) == static_cast<unsigned char>(second)) {
      end = i + 2;
      return both;
    }
    return single;
  }

  /// TIMESTAMP, DURATION, BAD_NUMBER or INT, whichever is longest (earliest on a tie).
  TokenKind number(size_t i, size_t& end) {
    size_t digits = i;
    while (digits < n_ && isDigit(at(digits))) ++digits;
    // TIMESTAMP: DDDD-DD-DD ( T DD:DD:DD Z )?
    if (digits - i == 4 && at(i + 4) == '-' && digitsAt(i + 5, 2) && at(i + 7) == '-' && digitsAt(i + 8, 2)) {
      end = i + 10;
      size_t t = end;
      if (at(t) == 'T' && digitsAt(t + 1, 2) && at(t + 3) == ':' && digitsAt(t + 4, 2) && at(t + 6) == ':' &&
          digitsAt(t + 7, 2) && at(t + 9) == 'Z')
        end = t + 10;
      return TokenKind::Timestamp;
    }
    if (!isIdentStart(at(digits))) {
      end = digits;
      return TokenKind::Int;
    }
    // BAD_NUMBER: digits, a letter, then any identifier characters.
    size_t bad = digits + 1;
    while (bad < n_ && isIdentChar(at(bad))) ++bad;
    // DURATION: (DIGIT+ [dhms])+, as long as possible.
    size_t dur = i, p = i;
    for (;;) {
      size_t q = p;
      while (q < n_ && isDigit(at(q))) ++q;
      if (q == p) break;
      unsigned char u = at(q);
      if (u != 'd' && u != 'h' && u != 'm' && u != 's') break;
      p = dur = q + 1;
    }
    end = bad;
    return dur == bad ? TokenKind::Duration : TokenKind::BadNumber;
  }

  /// STRING, or UNTERMINATED_STRING when the line or the text ends first.
  TokenKind string(size_t i, size_t& end) {
    size_t p = i + 1;
    while (p < n_) {
      unsigned char c = at(p);
      if (c == '"') {
        end = p + 1;
        return TokenKind::String;
      }
      if (c == '\r' || c == '\n') break;
      if (c == '\\') {
        unsigned char e = at(p + 1);
        if (p + 1 >= n_ || e == '\r' || e == '\n') break;
        p += 1 + codePointLength(e);
        continue;
      }
      p += codePointLength(c);
    }
    end = p > n_ ? n_ : p;
    return TokenKind::UnterminatedString;
  }

  std::string_view s_;
  size_t n_;
};

}  // namespace

bool isComment(TokenKind k) {
  return k == TokenKind::DocComment || k == TokenKind::LineComment || k == TokenKind::BlockComment ||
         k == TokenKind::UnterminatedComment;
}

bool isWord(TokenKind k) { return k <= TokenKind::From; }
bool isContextualWord(TokenKind k) { return k >= TokenKind::On && k <= TokenKind::From; }
bool isNameToken(TokenKind k) { return k == TokenKind::Ident || isContextualWord(k); }

std::vector<Token> lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace pave::syntax
