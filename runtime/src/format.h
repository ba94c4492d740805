// Parsing and canonical printing of Pave's value forms (SPEC §1.1, §7.3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pave/bundle.h"

namespace pave::rt {

bool parseDuration(std::string_view s, int64_t& out);   // "1h30m", optional leading '-'
void formatDuration(int64_t secs, std::string& out);     // "1d2h", "0s", "-1m30s"
// The same into `out` (at least kDurationChars long); returns the length.
inline constexpr size_t kDurationChars = 32;
size_t formatDuration(int64_t secs, char* out);
bool parseTimestamp(std::string_view s, int64_t& out);  // "YYYY-MM-DD[Thh:mm:ssZ]"
// "YYYY-MM-DDThh:mm:ssZ"; a value outside the range (which no decision produces) is printed
// as the nearest end of the range, never in another form.
void formatTimestamp(int64_t secs, std::string& out);
// An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is decoded as the IPv4 address it maps, and
// a network of them (prefix ≥ 96) as the IPv4 network (SPEC §2.1).
bool parseIp(std::string_view s, IpAddr& out);
bool isMappedIp4(const uint8_t* bytes16);                 // the first 12 bytes are 0…0 ff ff
bool parseCidr(std::string_view s, IpAddr& out);         // host bits are cleared
void formatIp(const IpAddr& ip, std::string& out);
void formatCidr(const IpAddr& ip, std::string& out);

// Civil time helpers (UTC, proleptic Gregorian).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);
void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d);
int64_t floorDiv(int64_t a, int64_t b);

bool validUtf8(std::string_view s);

}  // namespace pave::rt
