#include "syntax/Literals.h"

#include <cstdio>
#include <limits>

namespace pave::syntax {

std::optional<int64_t> parseDuration(std::string_view text) {
  static constexpr char kUnits[] = {'d', 'h', 'm', 's'};
  static constexpr int64_t kSeconds[] = {86400, 3600, 60, 1};
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  int nextUnit = 0;  // units must appear in order, each at most once
  __int128 total = 0;
  while (i < text.size()) {
    size_t start = i;
    __int128 n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > std::numeric_limits<int64_t>::max()) return std::nullopt;
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;
    int unit = -1;
    for (int u = 0; u < 4; ++u)
      if (text[i] == kUnits[u]) unit = u;
    if (unit < nextUnit) return std::nullopt;
    nextUnit = unit + 1;
    ++i;
    total += n * kSeconds[unit];
    if (total > std::numeric_limits<int64_t>::max()) return std::nullopt;
  }
  return static_cast<int64_t>(total);
}

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

static bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::optional<int64_t> parseTimestamp(std::string_view t) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (t.size() != 10 && t.size() != 20) return std::nullopt;
  if (!digits(t, 0, 4, y) || t[4] != '-' || !digits(t, 5, 2, mo) || t[7] != '-' || !digits(t, 8, 2, d))
    return std::nullopt;
  if (t.size() == 20) {
    if (t[10] != 'T' || !digits(t, 11, 2, h) || t[13] != ':' || !digits(t, 14, 2, mi) || t[16] != ':' ||
        !digits(t, 17, 2, s) || t[19] != 'Z')
      return std::nullopt;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int maxDay = kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
  if (d > maxDay || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + s;
}

static void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<std::string> decodeString(std::string_view body, bool likePattern, std::string& error,
                                        size_t& errorOffset) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    errorOffset = i;
    if (i + 1 >= body.size()) {
      error = "unfinished escape sequence";
      return std::nullopt;
    }
    char e = body[++i];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '*':
        if (!likePattern) {
          error = "`\\*` is an escape of `like` patterns only";
          return std::nullopt;
        }
        out += '\x01';
        break;
      case 'u': {
        size_t close = body.find('}', i);
        if (i + 1 >= body.size() || body[i + 1] != '{' || close == std::string_view::npos || close == i + 2 ||
            close - i - 2 > 6) {
          error = "expected `\\u{XXXX}` with 1 to 6 hex digits";
          return std::nullopt;
        }
        uint32_t cp = 0;
        for (size_t k = i + 2; k < close; ++k) {
          char h = body[k];
          int v = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
          if (v < 0) {
            error = "expected hex digits in `\\u{…}`";
            return std::nullopt;
          }
          cp = cp * 16 + static_cast<uint32_t>(v);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          error = "`\\u{…}` is not a Unicode scalar value";
          return std::nullopt;
        }
        appendUtf8(out, cp);
        i = close;
        break;
      }
      default:
        error = std::string("unknown escape `\\") + e + "`";
        return std::nullopt;
    }
  }
  return out;
}

std::string formatDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  unsigned __int128 v;
  if (seconds < 0) {
    out += '-';
    v = static_cast<unsigned __int128>(-(static_cast<__int128>(seconds)));
  } else {
    v = static_cast<unsigned __int128>(seconds);
  }
  static constexpr char kUnits[] = {'d', 'h', 'm', 's'};
  static constexpr uint64_t kSeconds[] = {86400, 3600, 60, 1};
  for (int u = 0; u < 4; ++u) {
    uint64_t n = static_cast<uint64_t>(v / kSeconds[u]);
    v %= kSeconds[u];
    if (n) out += std::to_string(n) + kUnits[u];
  }
  return out;
}

std::string formatTimestamp(int64_t t) {
  int64_t days = t / 86400, rem = t % 86400;
  if (rem < 0) rem += 86400, days -= 1;
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y0 = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = y0 + (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

}  // namespace pave::syntax
