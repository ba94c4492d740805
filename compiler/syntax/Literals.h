// Decoding of literal spellings shared by the parser, test inputs and tools.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pave::syntax {

/// `30s`, `1h30m`, `7d`: groups of <digits><unit>, units d h m s in that order, each at
/// most once. Returns seconds, or nullopt when malformed or out of int64 range.
std::optional<int64_t> parseDuration(std::string_view text);

/// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDThh:mm:ssZ`, checked against the calendar.
std::optional<int64_t> parseTimestamp(std::string_view text);

/// Days since 1970-01-01 for a proleptic Gregorian date (no validation).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);

/// Decodes the body of a string literal (without quotes). Escapes: \" \\ \n \t \r \u{X..}.
/// With `likePattern`, `\*` is also accepted and decoded to the byte 0x01 (a literal star).
/// On failure returns nullopt and sets `error` to a message and `errorOffset` to the
/// offset of the bad escape within `body`.
std::optional<std::string> decodeString(std::string_view body, bool likePattern, std::string& error,
                                        size_t& errorOffset);

/// Canonical duration text (SPEC §7.3): `1d2h`, `1m30s`, `0s`, `-5m`.
std::string formatDuration(int64_t seconds);
/// `YYYY-MM-DDThh:mm:ssZ`.
std::string formatTimestamp(int64_t seconds);

}  // namespace pave::syntax
