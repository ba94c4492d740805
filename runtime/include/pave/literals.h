// Pave's value literals (SPEC §2.1, §7.3): the one implementation of reading and printing
// durations, timestamps, IP addresses and networks, with the civil-date and UTF-8 helpers
// they rest on. The runtime uses it for JSON input and output, loading and disassembly; the
// compiler for literals in source, data files, test inputs, witnesses and messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pave/bundle.h"

namespace pave::rt {

// ---- durations ------------------------------------------------------------------------------

// `30s`, `1h30m`, `7d`: groups of <digits><unit>, units d h m s largest first, each at most
// once; with `allowNegative` an optional leading `-` (the JSON form). False when malformed or
// out of int64 range.
bool parseDuration(std::string_view s, int64_t& out, bool allowNegative = true);
// Canonical text: `1d2h`, `1m30s`, `0s`, `-5m`. Into `out` (at least kDurationChars long),
// returning the length; appended to a string; or as a new string.
inline constexpr size_t kDurationChars = 32;
size_t formatDuration(int64_t secs, char* out);
void formatDuration(int64_t secs, std::string& out);
std::string formatDuration(int64_t secs);

// ---- timestamps -----------------------------------------------------------------------------

// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDThh:mm:ssZ`, checked against the calendar; four
// digits of year, so always within kMinTimestamp..kMaxTimestamp.
bool parseTimestamp(std::string_view s, int64_t& out);
// `YYYY-MM-DDThh:mm:ssZ`; a value outside kMinTimestamp..kMaxTimestamp (which no decision
// produces) is printed as the nearest end of the range, never in another form.
void formatTimestamp(int64_t secs, std::string& out);
std::string formatTimestamp(int64_t secs);

// Civil time (UTC, proleptic Gregorian; no validation): days since 1970-01-01 and back.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);
void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d);
inline constexpr int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
bool validCivilDate(int64_t y, unsigned m, unsigned d);  // month 1–12, day within it (leap years)

// The parts of a timestamp the built-ins `hour()`, `weekday()` and `date()` give: the hour
// (0–23), the ISO weekday (1 = Monday … 7 = Sunday) and midnight of its day, all UTC.
inline constexpr int64_t hourOf(int64_t secs) { return (secs - floorDiv(secs, 86400) * 86400) / 3600; }
inline constexpr int64_t weekdayOf(int64_t secs) { return ((floorDiv(secs, 86400) % 7 + 7) % 7 + 3) % 7 + 1; }
inline constexpr int64_t startOfDay(int64_t secs) { return floorDiv(secs, 86400) * 86400; }

// ---- IP addresses and networks --------------------------------------------------------------

// The address as written: dotted-decimal IPv4 (no leading zeros) or IPv6 text; an
// IPv4-mapped IPv6 address stays IPv6.
bool parseIpExact(std::string_view s, IpAddr& out);
bool isMappedIp4(const uint8_t* bytes16);  // the first 12 bytes are 0…0 ff ff
// An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is decoded as the IPv4 address it maps
// (SPEC §2.1).
bool parseIp(std::string_view s, IpAddr& out);

// `address/prefix`; a network of IPv4-mapped addresses (prefix ≥ 96) is the IPv4 network it
// maps. On HostBits `out` holds the network with the host bits cleared.
enum class CidrError : uint8_t { None, NoPrefix, BadAddress, BadPrefix, HostBits };
CidrError parseCidrChecked(std::string_view s, IpAddr& out);
bool parseCidr(std::string_view s, IpAddr& out);  // host bits are cleared, not an error
void formatIp(const IpAddr& ip, std::string& out);
void formatCidr(const IpAddr& ip, std::string& out);

// ---- UTF-8 ----------------------------------------------------------------------------------

// The length of the well-formed UTF-8 sequence starting at `at` (1 to 4), or 0 when none does
// (a stray or truncated byte, an overlong form, a surrogate, a code point above U+10FFFF).
size_t utf8SequenceAt(std::string_view s, size_t at);
// The offset of the first byte that starts no well-formed sequence, or npos.
size_t firstInvalidUtf8(std::string_view s);
bool validUtf8(std::string_view s);
void appendUtf8(std::string& out, uint32_t cp);  // cp is a Unicode scalar value

}  // namespace pave::rt
