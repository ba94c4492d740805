#include "audit/Json.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include <pave/literals.h>

namespace pave::audit {
namespace {

constexpr int kMaxDepth = 512;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const char* skipString(const char* p, const char* end) {
  ++p;  // the opening quote
  while (p < end) {
    // Most of a string is plain bytes: find the next quote or backslash at once.
    const char* q = p;
    // Eight bytes at a time while none of them can be a quote, a backslash or a control
    // character (the test may see one where there is none, never the reverse).
    for (;;) {
      while (end - q >= 8) {
        uint64_t v;
        std::memcpy(&v, q, 8);
        constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
        uint64_t quote = v ^ (kOnes * '"'), slash = v ^ (kOnes * '\\');
        uint64_t hit = ((quote - kOnes) & ~quote) | ((slash - kOnes) & ~slash) | ((v - kOnes * 0x20) & ~v);
        if (hit & kHigh) break;
        q += 8;
      }
      const char* stop = end - q > 8 ? q + 8 : end;  // byte by byte where the test hit
      while (q < stop && *q != '"' && *q != '\\' && static_cast<unsigned char>(*q) >= 0x20) ++q;
      if (q < stop || q == end) break;
    }
    if (q == end) return nullptr;
    if (*q == '"') return q + 1;
    if (*q != '\\') return nullptr;  // a control character
    if (q + 1 == end) return nullptr;
    char e = q[1];
    if (e == 'u') {
      if (end - q < 6) return nullptr;
      for (int i = 2; i < 6; ++i)
        if (hexValue(q[i]) < 0) return nullptr;
      p = q + 6;
    } else if (e != '\0' && std::strchr("\"\\/bfnrt", e)) {
      p = q + 2;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

const char* skipNumber(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') ++p;
  else if (isDigit(*p)) while (p < end && isDigit(*p)) ++p;
  else return nullptr;
  if (p < end && *p == '.') {
    ++p;
    if (p == end || !isDigit(*p)) return nullptr;
    while (p < end && isDigit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !isDigit(*p)) return nullptr;
    while (p < end && isDigit(*p)) ++p;
  }
  return p;
}

const char* skipLiteral(const char* p, const char* end, std::string_view word) {
  if (size_t(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) return nullptr;
  return p + word.size();
}

const char* skipAt(const char* p, const char* end, int depth) {
  if (p == end) return nullptr;
  switch (*p) {
    case '"': return skipString(p, end);
    case 't': return skipLiteral(p, end, "true");
    case 'f': return skipLiteral(p, end, "false");
    case 'n': return skipLiteral(p, end, "null");
    case '{':
    case '[': {
      if (depth >= kMaxDepth) return nullptr;
      char close = *p == '{' ? '}' : ']';
      bool object = *p == '{';
      p = skipSpace(p + 1, end);
      if (p < end && *p == close) return p + 1;
      while (p < end) {
        if (object) {
          if (*p != '"') return nullptr;
          p = skipString(p, end);
          if (!p) return nullptr;
          p = skipSpace(p, end);
          if (p == end || *p != ':') return nullptr;
          p = skipSpace(p + 1, end);
        }
        p = skipAt(p, end, depth + 1);
        if (!p) return nullptr;
        p = skipSpace(p, end);
        if (p == end) return nullptr;
        if (*p == close) return p + 1;
        if (*p != ',') return nullptr;
        p = skipSpace(p + 1, end);
      }
      return nullptr;
    }
    default: return skipNumber(p, end);
  }
}

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!isDigit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

const char* skipSpace(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  return p;
}

const char* skipValue(const char* p, const char* end) { return skipAt(p, end, 0); }

bool isJson(std::string_view text) {
  const char* end = text.data() + text.size();
  const char* p = skipValue(skipSpace(text.data(), end), end);
  return p && skipSpace(p, end) == end;
}

std::optional<std::string_view> stringBody(std::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
  return value.substr(1, value.size() - 2);
}

std::string unescape(std::string_view body) {
  if (body.find('\\') == std::string_view::npos) return std::string(body);
  // Rare (names and times have no escapes): the JSON library decodes them.
  std::string quoted;
  quoted.reserve(body.size() + 2);
  quoted.append("\"").append(body).append("\"");
  nlohmann::json v = nlohmann::json::parse(quoted, nullptr, false);
  return v.is_string() ? v.get<std::string>() : std::string(body);
}

std::optional<std::string> stringValue(std::string_view value) {
  auto body = stringBody(value);
  if (!body) return std::nullopt;
  return unescape(*body);
}

std::optional<std::string_view> member(std::string_view object, std::string_view key) {
  std::optional<std::string_view> found;
  forEachMember(object, [&](std::string_view k, std::string_view v) {
    if (k == key || (k.find('\\') != std::string_view::npos && unescape(k) == key)) {
      found = v;
      return false;
    }
    return true;
  });
  return found;
}

namespace {
bool redactionAt(std::string_view value, int depth) {
  if (value.empty() || depth > kMaxDepth) return false;
  if (value.front() == '[') {
    bool hit = false;
    forEachElement(value, [&](std::string_view e) { return !(hit = redactionAt(e, depth + 1)); });
    return hit;
  }
  if (value.front() != '{') return false;
  size_t members = 0;
  bool redaction = false, hit = false;
  forEachMember(value, [&](std::string_view k, std::string_view v) {
    ++members;
    if (k == "redacted") {
      auto body = stringBody(v);
      redaction = body && body->substr(0, 7) == "sha256:";
    }
    return !(hit = redactionAt(v, depth + 1));
  });
  return hit || (redaction && members == 1);
}
}  // namespace

bool containsRedaction(std::string_view value) {
  static constexpr std::string_view kKey = "\"redacted\"";
  if (std::string_view(value).find(kKey) == std::string_view::npos) return false;
  return redactionAt(value, 0);
}

std::string compact(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool inString = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (inString) {
      out += c;
      if (c == '\\' && i + 1 < value.size()) out += value[++i];
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
      out += c;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out += c;
    }
  }
  return out;
}

std::optional<int64_t> parseLogTime(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  if (!rt::validCivilDate(y, unsigned(mo), unsigned(d)) || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om) || oh > 23 ||
        om > 59)
      return std::nullopt;
    offset = (s[i] == '+' ? 1 : -1) * (int64_t(oh) * 3600 + om * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return rt::daysFromCivil(y, unsigned(mo), unsigned(d)) * 86400 + int64_t(h) * 3600 + mi * 60 + se - offset;
}

}  // namespace pave::audit
