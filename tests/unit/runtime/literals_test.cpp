// The value literals of pave/literals.h (SPEC §2.1, §7.3), shared by the runtime and the
// compiler: round trips and the edges of each form.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

#include "pave/literals.h"

namespace pave::rt::test {
namespace {

std::optional<int64_t> duration(std::string_view s, bool allowNegative = true) {
  int64_t v = 0;
  if (!parseDuration(s, v, allowNegative)) return std::nullopt;
  return v;
}

std::optional<int64_t> timestamp(std::string_view s) {
  int64_t v = 0;
  if (!parseTimestamp(s, v)) return std::nullopt;
  return v;
}

TEST(Literals, DurationParse) {
  EXPECT_EQ(duration("0s"), 0);
  EXPECT_EQ(duration("90s"), 90);
  EXPECT_EQ(duration("1h30m"), 5400);
  EXPECT_EQ(duration("1d2h3m4s"), 86400 + 7200 + 180 + 4);
  EXPECT_EQ(duration("-5m"), -300);
  EXPECT_EQ(duration("-5m", false), std::nullopt);  // the source and config form has no sign
  EXPECT_EQ(duration("5m", false), 300);
  for (const char* bad : {"", "-", "5", "m", "1m1h", "1h1h", "1x", "1h 2m", "+1h", "--1h", "1.5h", "1hm"})
    EXPECT_EQ(duration(bad), std::nullopt) << bad;
  // int64 range: the largest number of seconds parses, one more does not.
  EXPECT_EQ(duration("9223372036854775807s"), INT64_MAX);
  EXPECT_EQ(duration("9223372036854775808s"), std::nullopt);
  EXPECT_EQ(duration("106751991167300d15h30m7s"), INT64_MAX);
  EXPECT_EQ(duration("106751991167300d15h30m8s"), std::nullopt);
  EXPECT_EQ(duration("-9223372036854775807s"), -INT64_MAX);
}

TEST(Literals, DurationFormatRoundTrips) {
  EXPECT_EQ(formatDuration(0), "0s");
  EXPECT_EQ(formatDuration(90), "1m30s");
  EXPECT_EQ(formatDuration(86400 + 7200), "1d2h");
  EXPECT_EQ(formatDuration(-300), "-5m");
  EXPECT_EQ(formatDuration(INT64_MAX), "106751991167300d15h30m7s");
  EXPECT_EQ(formatDuration(INT64_MIN), "-106751991167300d15h30m8s");
  for (int64_t v : {int64_t(0), int64_t(1), int64_t(59), int64_t(60), int64_t(3599), int64_t(86400), int64_t(-86401),
                    int64_t(123456789), INT64_MAX, -INT64_MAX}) {
    std::string text = formatDuration(v);
    EXPECT_EQ(duration(text), v) << text;
    char buf[kDurationChars];
    EXPECT_EQ(std::string(buf, formatDuration(v, buf)), text);
    std::string appended = "x";
    formatDuration(v, appended);
    EXPECT_EQ(appended, "x" + text);
  }
}

TEST(Literals, TimestampParseAndCalendar) {
  EXPECT_EQ(timestamp("1970-01-01"), 0);
  EXPECT_EQ(timestamp("1970-01-01T00:00:01Z"), 1);
  EXPECT_EQ(timestamp("1969-12-31T23:59:59Z"), -1);
  EXPECT_EQ(timestamp("0000-01-01T00:00:00Z"), kMinTimestamp);
  EXPECT_EQ(timestamp("9999-12-31T23:59:59Z"), kMaxTimestamp);
  // Leap days: every fourth year, not centuries, but every fourth century (year 0 is one).
  EXPECT_TRUE(timestamp("2024-02-29"));
  EXPECT_TRUE(timestamp("2000-02-29"));
  EXPECT_TRUE(timestamp("0000-02-29"));
  EXPECT_FALSE(timestamp("1900-02-29"));
  EXPECT_FALSE(timestamp("2023-02-29"));
  EXPECT_EQ(*timestamp("2024-03-01") - *timestamp("2024-02-28"), 2 * 86400);
  for (const char* bad : {"", "2024-1-01", "2024-00-10", "2024-13-01", "2024-04-31", "2024-01-00", "2024-01-01T24:00:00Z",
                          "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z",
                          "2024-01-01T00:00:00+00:00", "-001-01-01", "10000-01-01", "2024/01/01"})
    EXPECT_FALSE(timestamp(bad)) << bad;
}

TEST(Literals, TimestampFormatRoundTripsAndClampsToRange) {
  EXPECT_EQ(formatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatTimestamp(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(formatTimestamp(kMinTimestamp), "0000-01-01T00:00:00Z");
  EXPECT_EQ(formatTimestamp(kMaxTimestamp), "9999-12-31T23:59:59Z");
  EXPECT_EQ(formatTimestamp(kMinTimestamp - 1), "0000-01-01T00:00:00Z");
  EXPECT_EQ(formatTimestamp(INT64_MAX), "9999-12-31T23:59:59Z");
  for (const char* text : {"2024-02-29T12:34:56Z", "2000-02-29T00:00:00Z", "1900-03-01T23:59:59Z", "0004-02-29T01:02:03Z",
                           "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    auto t = timestamp(text);
    ASSERT_TRUE(t) << text;
    EXPECT_EQ(formatTimestamp(*t), text);
  }
}

TEST(Literals, CivilDays) {
  EXPECT_EQ(daysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(daysFromCivil(0, 1, 1) * 86400, kMinTimestamp);
  EXPECT_EQ(daysFromCivil(9999, 12, 31) * 86400 + 86399, kMaxTimestamp);
  for (int64_t z : {int64_t(-719528), int64_t(-1), int64_t(0), int64_t(11016), int64_t(2932896)}) {
    int64_t y;
    unsigned m, d;
    civilFromDays(z, y, m, d);
    EXPECT_EQ(daysFromCivil(y, m, d), z);
  }
  EXPECT_TRUE(validCivilDate(2024, 2, 29));
  EXPECT_TRUE(validCivilDate(2000, 2, 29));
  EXPECT_FALSE(validCivilDate(2100, 2, 29));
  EXPECT_TRUE(validCivilDate(2023, 12, 31));
  EXPECT_FALSE(validCivilDate(2023, 4, 31));
  EXPECT_FALSE(validCivilDate(2023, 0, 1));
  EXPECT_FALSE(validCivilDate(2023, 13, 1));
  EXPECT_FALSE(validCivilDate(2023, 1, 0));
  EXPECT_EQ(floorDiv(-1, 86400), -1);
  EXPECT_EQ(floorDiv(86399, 86400), 0);
}

// The canonical text of an address (or, with `cidr`, a network), or "invalid".
TEST(Literals, TimestampParts) {
  // 1970-01-01 was a Thursday; before it the day still starts at midnight (floor, not truncation).
  EXPECT_EQ(weekdayOf(0), 4);
  EXPECT_EQ(hourOf(0), 0);
  EXPECT_EQ(weekdayOf(-1), 3);
  EXPECT_EQ(hourOf(-1), 23);
  EXPECT_EQ(startOfDay(-1), -86400);
  int64_t t = 0;
  ASSERT_TRUE(parseTimestamp("2024-02-29T13:45:00Z", t));  // a Thursday
  EXPECT_EQ(hourOf(t), 13);
  EXPECT_EQ(weekdayOf(t), 4);
  EXPECT_EQ(formatTimestamp(startOfDay(t)), "2024-02-29T00:00:00Z");
  ASSERT_TRUE(parseTimestamp("2026-11-29T23:59:59Z", t));  // a Sunday
  EXPECT_EQ(weekdayOf(t), 7);
  EXPECT_EQ(weekdayOf(t + 1), 1);
  EXPECT_EQ(weekdayOf(kMinTimestamp), 6);  // 0000-01-01 (proleptic Gregorian) was a Saturday
  EXPECT_EQ(weekdayOf(kMaxTimestamp), 5);  // 9999-12-31 is a Friday
  EXPECT_EQ(hourOf(kMaxTimestamp), 23);
  EXPECT_EQ(startOfDay(kMinTimestamp), kMinTimestamp);
}

std::string ipText(std::string_view s, bool cidr = false) {
  IpAddr ip;
  if (!(cidr ? parseCidr(s, ip) : parseIp(s, ip))) return "invalid";
  std::string out;
  if (cidr) formatCidr(ip, out);
  else formatIp(ip, out);
  return out;
}
std::string cidrText(std::string_view s) { return ipText(s, true); }

TEST(Literals, IpRoundTrips) {
  const std::pair<const char*, const char*> canonical[] = {
      {"10.1.2.3", "10.1.2.3"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
      {"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"},  // the longest run of zeros
      {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},          // the first of two equal runs
      {"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},       // a single zero group stays
      {"::", "::"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
      {"::102:304", "::1.2.3.4"},  // the IPv4-compatible form is printed with its IPv4 tail
  };
  for (auto [in, want] : canonical) EXPECT_EQ(ipText(in), want) << in;
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", " 1.2.3.4", "1::2::3", ":1::",
                          "1::2:", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::g", "1.2.3.4::", "::1.2.3.04",
                          "fe80::1%eth0"})
    EXPECT_EQ(ipText(bad), "invalid") << bad;
}

TEST(Literals, MappedAddressesAreIpv4) {
  IpAddr ip;
  ASSERT_TRUE(parseIp("::ffff:10.1.2.3", ip));
  EXPECT_EQ(ip.family, 4);
  EXPECT_EQ(ipText("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(ipText("::FFFF:a01:203"), "10.1.2.3");
  ASSERT_TRUE(parseIpExact("::ffff:10.1.2.3", ip));  // as written
  EXPECT_EQ(ip.family, 6);
  EXPECT_TRUE(isMappedIp4(ip.bytes.data()));
  // Not mapped: the IPv4-compatible form and a near miss of the prefix stay IPv6.
  ASSERT_TRUE(parseIp("::fffe:10.1.2.3", ip));
  EXPECT_EQ(ip.family, 6);
  // A network of mapped addresses is the IPv4 network when its prefix covers the mapping.
  EXPECT_EQ(cidrText("::ffff:10.0.0.0/104"), "10.0.0.0/8");
  EXPECT_EQ(cidrText("::ffff:0.0.0.0/96"), "0.0.0.0/0");
  EXPECT_EQ(cidrText("::ffff:10.1.2.3/128"), "10.1.2.3/32");
  EXPECT_EQ(cidrText("::ffff:0:0/80"), "::/80");  // the prefix is shorter than the mapping: host bits cleared
}

TEST(Literals, CidrErrorsAndHostBits) {
  IpAddr ip;
  EXPECT_EQ(parseCidrChecked("10.0.0.0/8", ip), CidrError::None);
  EXPECT_EQ(ip.prefix, 8);
  EXPECT_EQ(parseCidrChecked("10.0.0.0", ip), CidrError::NoPrefix);
  EXPECT_EQ(parseCidrChecked("10.0.0/8", ip), CidrError::BadAddress);
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/1234", "10.0.0.0/x", "::/129", "::/-1"})
    EXPECT_EQ(parseCidrChecked(bad, ip), CidrError::BadPrefix) << bad;
  EXPECT_EQ(parseCidrChecked("::/128", ip), CidrError::None);
  EXPECT_EQ(parseCidrChecked("10.1.2.3/8", ip), CidrError::HostBits);
  // parseCidr clears them.
  const std::pair<const char*, const char*> cleared[] = {
      {"10.1.2.3/8", "10.0.0.0/8"},   {"10.1.2.3/13", "10.0.0.0/13"},         {"10.15.2.3/13", "10.8.0.0/13"},
      {"10.1.2.3/0", "0.0.0.0/0"},    {"10.1.2.3/32", "10.1.2.3/32"},         {"2001:db8::ff/120", "2001:db8::/120"},
      {"2001:db8::ff/121", "2001:db8::80/121"}};
  for (auto [in, want] : cleared) EXPECT_EQ(cidrText(in), want) << in;
}

TEST(Literals, Utf8) {
  EXPECT_TRUE(validUtf8(""));
  EXPECT_TRUE(validUtf8("plain ascii"));
  EXPECT_TRUE(validUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(validUtf8(std::string_view("a\0b", 3)));  // NUL is well-formed (the parser rejects it itself)
  EXPECT_TRUE(validUtf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF
  EXPECT_TRUE(validUtf8("\xed\x9f\xbf"));              // U+D7FF, below the surrogates
  struct Bad {
    const char* text;
    size_t offset;
  };
  for (Bad b : {Bad{"\x80", 0}, Bad{"ab\xc3", 2}, Bad{"ab\xc3(", 2}, Bad{"\xc0\xaf", 0}, Bad{"\xc1\xbf", 0},
                Bad{"x\xe0\x80\xaf", 1}, Bad{"\xed\xa0\x80", 0}, Bad{"\xed\xbf\xbf", 0}, Bad{"ok\xf0\x8f\xbf\xbf", 2},
                Bad{"\xf4\x90\x80\x80", 0}, Bad{"\xf5\x80\x80\x80", 0}, Bad{"\xff", 0}, Bad{"\xe2\x82", 0},
                Bad{"\xc3\xa9\xf0\x9f\x98", 2}}) {
    EXPECT_FALSE(validUtf8(b.text)) << b.text;
    EXPECT_EQ(firstInvalidUtf8(b.text), b.offset) << b.text;
    EXPECT_EQ(utf8SequenceAt(b.text, b.offset), 0u) << b.text;
  }
  EXPECT_EQ(firstInvalidUtf8("fine \xe2\x82\xac"), std::string_view::npos);
  EXPECT_EQ(utf8SequenceAt("\xf0\x9f\x98\x80", 0), 4u);
  EXPECT_EQ(utf8SequenceAt("a\xc3\xa9", 1), 2u);
}

TEST(Literals, AppendUtf8RoundTrips) {
  for (uint32_t cp : {0x0u, 0x41u, 0x7fu, 0x80u, 0x7ffu, 0x800u, 0xd7ffu, 0xe000u, 0xfffdu, 0xffffu, 0x10000u, 0x10ffffu}) {
    std::string s;
    appendUtf8(s, cp);
    EXPECT_EQ(utf8SequenceAt(s, 0), s.size()) << cp;
    EXPECT_EQ(s.size(), cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u);
  }
  std::string euro;
  appendUtf8(euro, 0x20ac);
  EXPECT_EQ(euro, "\xe2\x82\xac");
}

}  // namespace
}  // namespace pave::rt::test
