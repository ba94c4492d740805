#include "pave/literals.h"

#include <algorithm>

#include <arpa/inet.h>

#include <cstring>
#include <limits>

namespace pave::rt {

// Howard Hinnant's civil-date algorithms.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = floorDiv(y, 400);
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = floorDiv(z, 146097);
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool validCivilDate(int64_t y, unsigned m, unsigned d) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool parseDuration(std::string_view s, int64_t& out, bool allowNegative) {
  bool neg = false;
  if (allowNegative && !s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  static constexpr char kUnits[] = {'d', 'h', 'm', 's'};
  static constexpr int64_t kScale[] = {86400, 3600, 60, 1};
  int nextUnit = 0;
  __int128 total = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') return false;
    __int128 n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > std::numeric_limits<int64_t>::max()) return false;
      ++i;
    }
    if (i == s.size()) return false;  // a number needs its unit
    int u = nextUnit;
    while (u < 4 && kUnits[u] != s[i]) ++u;
    if (u == 4) return false;  // unknown unit, or units out of order / repeated
    total += n * kScale[u];
    if (total > std::numeric_limits<int64_t>::max()) return false;
    nextUnit = u + 1;
    ++i;
  }
  out = neg ? -int64_t(total) : int64_t(total);
  return true;
}

size_t formatDuration(int64_t secs, char* out) {
  char* p = out;
  if (secs == 0) {
    *p++ = '0', *p++ = 's';
    return 2;
  }
  uint64_t v = secs < 0 ? uint64_t(0) - uint64_t(secs) : uint64_t(secs);
  if (secs < 0) *p++ = '-';
  static constexpr char kUnits[] = {'d', 'h', 'm', 's'};
  static constexpr uint64_t kScale[] = {86400, 3600, 60, 1};
  for (int u = 0; u < 4; ++u) {
    uint64_t n = v / kScale[u];
    v %= kScale[u];
    if (n) {
      char digits[20];
      int k = 0;
      for (; n; n /= 10) digits[k++] = char('0' + n % 10);
      while (k) *p++ = digits[--k];
      *p++ = kUnits[u];
    }
  }
  return size_t(p - out);
}

void formatDuration(int64_t secs, std::string& out) {
  char buf[kDurationChars];
  out.append(buf, formatDuration(secs, buf));
}

std::string formatDuration(int64_t secs) {
  char buf[kDurationChars];
  return std::string(buf, formatDuration(secs, buf));
}

static bool digits(std::string_view s, size_t at, size_t len, unsigned& out) {
  if (at + len > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + unsigned(s[i] - '0');
  }
  return true;
}

bool parseTimestamp(std::string_view s, int64_t& out) {
  unsigned y, mo, d, h = 0, mi = 0, se = 0;
  if (s.size() != 10 && s.size() != 20) return false;
  if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d)) return false;
  if (s.size() == 20) {
    if (s[10] != 'T' || !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, se) || s[19] != 'Z')
      return false;
  }
  if (!validCivilDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return false;
  out = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return true;
}

static void pad(std::string& out, int64_t v, int width) {
  std::string t = std::to_string(v < 0 ? -v : v);
  if (v < 0) out += '-';
  for (int i = int(t.size()); i < width; ++i) out += '0';
  out += t;
}

void formatTimestamp(int64_t secs, std::string& out) {
  secs = std::clamp(secs, kMinTimestamp, kMaxTimestamp);
  int64_t days = floorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civilFromDays(days, y, m, d);
  pad(out, y, 4);
  out += '-';
  pad(out, m, 2);
  out += '-';
  pad(out, d, 2);
  out += 'T';
  pad(out, rem / 3600, 2);
  out += ':';
  pad(out, rem / 60 % 60, 2);
  out += ':';
  pad(out, rem % 60, 2);
  out += 'Z';
}

std::string formatTimestamp(int64_t secs) {
  std::string out;
  formatTimestamp(secs, out);
  return out;
}

namespace {
// Dotted-decimal IPv4 as the compiler and inet_pton take it: four parts of at most three
// digits, each at most 255, without leading zeros.
bool parseIp4(std::string_view s, uint8_t* out) {
  unsigned part = 0, value = 0, digits = 0;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') {
      if (digits && value == 0) return false;  // a leading zero
      value = value * 10 + unsigned(ch - '0');
      if (value > 255) return false;
      ++digits;
    } else if (ch == '.' && digits && part < 3) {
      out[part++] = uint8_t(value);
      value = digits = 0;
    } else {
      return false;
    }
  }
  if (part != 3 || !digits) return false;
  out[3] = uint8_t(value);
  return true;
}
}  // namespace

bool parseIpExact(std::string_view s, IpAddr& out) {
  out = IpAddr{};
  if (s.find(':') == std::string_view::npos) {
    out.family = 4;
    return parseIp4(s, out.bytes.data());
  }
  char buf[64];  // inet_pton reads a C string: no NUL inside
  if (s.size() >= sizeof buf || s.find('\0') != std::string_view::npos) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  out.family = 6;
  return inet_pton(AF_INET6, buf, out.bytes.data()) == 1;
}

bool isMappedIp4(const uint8_t* b) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kPrefix, sizeof kPrefix) == 0;
}

bool parseIp(std::string_view s, IpAddr& out) {
  if (!parseIpExact(s, out)) return false;
  if (out.family == 6 && isMappedIp4(out.bytes.data())) {  // ::ffff:a.b.c.d is a.b.c.d (SPEC §2.1)
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    std::memset(out.bytes.data() + 4, 0, 12);
    out.family = 4;
  }
  return true;
}

CidrError parseCidrChecked(std::string_view s, IpAddr& out) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return CidrError::NoPrefix;
  if (!parseIpExact(s.substr(0, slash), out)) return CidrError::BadAddress;
  std::string_view len = s.substr(slash + 1);
  unsigned prefix = 0;
  if (len.empty() || len.size() > 3 || (len.size() > 1 && len[0] == '0') || !digits(len, 0, len.size(), prefix))
    return CidrError::BadPrefix;
  if (prefix > (out.family == 4 ? 32u : 128u)) return CidrError::BadPrefix;
  // A network of IPv4-mapped addresses (`::ffff:10.0.0.0/104`) is the IPv4 network it maps.
  if (out.family == 6 && prefix >= 96 && isMappedIp4(out.bytes.data())) {
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    std::memset(out.bytes.data() + 4, 0, 12);
    out.family = 4;
    prefix -= 96;
  }
  out.prefix = uint8_t(prefix);
  uint8_t hostBits = 0;
  for (unsigned i = prefix / 8; i < 16; ++i) {
    uint8_t keep = i == prefix / 8 ? uint8_t(0xff00u >> (prefix % 8)) : uint8_t(0);
    hostBits |= out.bytes[i] & uint8_t(~keep);
    out.bytes[i] &= keep;
  }
  return hostBits ? CidrError::HostBits : CidrError::None;
}

bool parseCidr(std::string_view s, IpAddr& out) {
  CidrError e = parseCidrChecked(s, out);
  return e == CidrError::None || e == CidrError::HostBits;
}

void formatIp(const IpAddr& ip, std::string& out) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(ip.family == 4 ? AF_INET : AF_INET6, ip.bytes.data(), buf, sizeof buf)) out += buf;
}

void formatCidr(const IpAddr& ip, std::string& out) {
  formatIp(ip, out);
  out += '/';
  out += std::to_string(ip.prefix);
}

size_t utf8SequenceAt(std::string_view s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + at;
  size_t n = s.size() - at;
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07;
  else return 0;
  if (len > n) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((p[k] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[k] & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

size_t firstInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = utf8SequenceAt(s, i);
    if (!len) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool validUtf8(std::string_view s) { return firstInvalidUtf8(s) == std::string_view::npos; }

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | cp >> 6);
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3f));
    out += char(0x80 | (cp >> 6 & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

}  // namespace pave::rt
