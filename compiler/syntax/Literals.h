// Decoding of string literals. The value literals (durations, timestamps, addresses) are
// read and printed by pave/literals.h, shared with the runtime.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pave::syntax {

/// Decodes the body of a string literal (without quotes). Escapes: \" \\ \n \t \r \u{X..}.
/// With `likePattern`, `\*` is also accepted and decoded to the byte 0x01 (a literal star).
/// On failure returns nullopt and sets `error` to a message and `errorOffset` to the
/// offset of the bad escape within `body`.
std::optional<std::string> decodeString(std::string_view body, bool likePattern, std::string& error,
                                        size_t& errorOffset);

}  // namespace pave::syntax
