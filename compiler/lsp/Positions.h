// LSP positions (line, UTF-16 code unit) ↔ byte offsets, and file URIs ↔ paths.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pave::lsp {

struct Position {
  uint32_t line = 0;
  uint32_t character = 0;  // UTF-16 code units (the LSP default encoding)
};

/// Line starts of one text, for position conversions. Holds a view: the text must outlive it.
class LineIndex {
 public:
  LineIndex() = default;
  explicit LineIndex(std::string_view text);

  Position position(uint32_t offset) const;
  /// The byte offset of `p`; a character past the line's end clamps to the end of the line,
  /// a line past the last clamps to the end of the text.
  uint32_t offset(Position p) const;
  nlohmann::json range(uint32_t begin, uint32_t end) const;
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  std::vector<uint32_t> starts_;
};

/// Reads `{"line": …, "character": …}`; throws nlohmann::json exceptions when malformed.
Position positionFrom(const nlohmann::json& j);

/// `file:///a%20b/c.pave` → `/a b/c.pave`; empty for other schemes.
std::string uriToPath(std::string_view uri);
std::string pathToUri(std::string_view path);

}  // namespace pave::lsp
