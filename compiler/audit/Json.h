// A small JSON scanner for decision log records (SPEC §10.1): checks the syntax of a value
// and hands out the text spans of its members without building a document, so that a log
// line costs one pass over its bytes. Strings stay undecoded until asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pave::audit {

/// Skips whitespace from `p`.
const char* skipSpace(const char* p, const char* end);
/// Skips one JSON value starting at `p` (no leading whitespace); returns its end, or nullptr
/// when the text is not JSON (bad syntax, nesting deeper than 512, bad escape or control
/// character in a string).
const char* skipValue(const char* p, const char* end);
/// True when `text` is exactly one JSON value, surrounding whitespace allowed.
bool isJson(std::string_view text);

/// The body of a string value (`"..."` → `...`, still escaped), or nullopt when `value` is
/// not a string.
std::optional<std::string_view> stringBody(std::string_view value);
/// Decodes a string body's escapes (`\n`, `\uXXXX` with surrogate pairs) into UTF-8.
std::string unescape(std::string_view body);
/// A string value's decoded text; nullopt when `value` is not a string.
std::optional<std::string> stringValue(std::string_view value);

/// Walks the members of the object starting at `p`: `f(key_body, value_start)` returns the
/// end of the value it read (or skipped), or nullptr to fail. Returns the end of the
/// object, or nullptr when the text is not an object or `f` failed.
template <class F>
const char* scanObject(const char* p, const char* end, F&& f) {
  if (p == end || *p != '{') return nullptr;
  p = skipSpace(p + 1, end);
  if (p < end && *p == '}') return p + 1;
  while (p < end) {
    const char* k = skipValue(p, end);
    if (!k || *p != '"') return nullptr;
    std::string_view key(p + 1, size_t(k - p - 2));
    p = skipSpace(k, end);
    if (p == end || *p != ':') return nullptr;
    p = skipSpace(p + 1, end);
    p = f(key, p);
    if (!p) return nullptr;
    p = skipSpace(p, end);
    if (p < end && *p == ',') {
      p = skipSpace(p + 1, end);
      continue;
    }
    return p < end && *p == '}' ? p + 1 : nullptr;
  }
  return nullptr;
}

/// Calls `f(key_body, value)` for each member of an object value (already checked by
/// skipValue), in order; `f` returns false to stop. Returns false when `value` is not an
/// object.
template <class F>
bool forEachMember(std::string_view value, F&& f) {
  const char* end = value.data() + value.size();
  bool stopped = false;
  const char* done = scanObject(value.data(), end, [&](std::string_view key, const char* p) -> const char* {
    if (stopped) return skipValue(p, end);
    const char* v = skipValue(p, end);
    if (v && !f(key, std::string_view(p, size_t(v - p)))) stopped = true;
    return v;
  });
  return done || stopped;
}

/// Calls `f(element)` for each element of an array value; false when not an array.
template <class F>
bool forEachElement(std::string_view value, F&& f) {
  const char* p = value.data();
  const char* end = p + value.size();
  if (p == end || *p != '[') return false;
  p = skipSpace(p + 1, end);
  if (p < end && *p == ']') return true;
  while (p < end) {
    const char* v = skipValue(p, end);
    if (!v) return false;
    if (!f(std::string_view(p, size_t(v - p)))) return true;
    p = skipSpace(v, end);
    if (p < end && *p == ',') {
      p = skipSpace(p + 1, end);
      continue;
    }
    return p < end && *p == ']';
  }
  return false;
}

/// The value of member `key` of an object value, or nullopt.
std::optional<std::string_view> member(std::string_view object, std::string_view key);

/// True when some value inside `value` is a redaction, `{"redacted": "sha256:<hex>"}`
/// (SPEC §10.1).
bool containsRedaction(std::string_view value);

/// The text of a value without the whitespace outside strings (for display and hashing).
std::string compact(std::string_view value);

/// A log record's time, `YYYY-MM-DDThh:mm:ss[.fff…](Z|±hh:mm)`, as seconds since the epoch
/// (fractions dropped); nullopt when malformed.
std::optional<int64_t> parseLogTime(std::string_view text);

}  // namespace pave::audit
