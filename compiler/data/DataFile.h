// The reader of table data files (SPEC §2.3): a JSON object of rows or a JSON Lines file of
// rows, read row by row (one row's document at a time, never the whole file's), with the
// line and JSON path of each row and of the first problem. It knows nothing of types: the
// caller checks each row against the table's record type.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace pave::data {

enum class Format { JsonObject, JsonLines };

/// `.jsonl` and `.ndjson` are JSON Lines; anything else is one JSON object.
Format formatFor(std::string_view path);

struct Row {
  std::string key;       // the row's key (object member name, or the "key" member in JSON Lines)
  nlohmann::json value;  // the row object; in JSON Lines without its "key" member
  uint32_t line = 0;     // 1-based line where the row's value starts
  std::string path;      // JSON path of the row: `$["123"]` (object file) or `$` (JSON Lines)
};

struct DataError {
  uint32_t line = 0;     // 1-based; 0 when not applicable (I/O)
  std::string path;      // JSON path where the problem is, e.g. `$["123"].owner`; may be empty
  std::string message;   // lowercase, no trailing period
};

/// Objects and arrays may nest this deep in a data file (the top-level object counts).
inline constexpr int kMaxDepth = 128;

/// Reads `bytes` (the file's content) in `format`; calls `onRow` for each row in file order.
/// `onRow` returns false to stop (the caller found a problem in the row): readRows then
/// returns false with `err` left empty. Returns false with `err` filled on the first
/// problem of the reader's own: malformed JSON or truncated input, invalid UTF-8, a top level
/// that is not an object, a row that is not an object, a JSON Lines line that is not an
/// object or lacks a string "key", a duplicate row key (line of the second), a duplicate
/// member inside any object, nesting deeper than kMaxDepth, non-empty content after the
/// top-level value. Blank lines in JSON Lines are skipped.
bool readRows(std::string_view bytes, Format format, const std::function<bool(Row&&)>& onRow, DataError& err);

/// Reads the file at `path` (an I/O error gives `err` with line 0), then readRows in the
/// format of formatFor(path).
bool readFile(const std::string& path, const std::function<bool(Row&&)>& onRow, DataError& err);

/// `name` as a JSON path step: `.name` when it is identifier-like, `["…"]` (JSON-escaped)
/// otherwise. `rowKey` as the step of a row in an object file: always `["…"]`.
std::string memberStep(std::string_view name);
/// What a JSON value is, for messages: `null`, `a string`, `a number with a fraction`, …
const char* jsonKindName(const nlohmann::json& v);
std::string rowStep(std::string_view rowKey);

}  // namespace pave::data
