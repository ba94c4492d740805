// Source files, byte ranges and line tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pave {

/// Index of a file in the SourceManager.
struct FileId {
  uint32_t value = UINT32_MAX;
  bool valid() const { return value != UINT32_MAX; }
  friend bool operator==(FileId a, FileId b) { return a.value == b.value; }
};

/// A half-open byte range [begin, end) in one file.
struct SourceRange {
  FileId file;
  uint32_t begin = 0;
  uint32_t end = 0;
  bool valid() const { return file.valid(); }
  /// The smallest range that covers both (same file assumed).
  SourceRange to(SourceRange other) const { return {file, begin, other.end > end ? other.end : end}; }
};

/// 1-based line and column; columns count Unicode code points (SPEC §7.5).
struct LineCol {
  uint32_t line = 0;
  uint32_t column = 0;
};

class SourceManager {
 public:
  /// Adds a file; `path` is how diagnostics name it.
  FileId add(std::string path, std::string text);

  size_t size() const { return files_.size(); }
  const std::string& path(FileId id) const { return files_[id.value].path; }
  std::string_view text(FileId id) const { return files_[id.value].text; }
  LineCol lineCol(FileId id, uint32_t offset) const;
  /// The text of a 1-based line without its line terminator.
  std::string_view lineText(FileId id, uint32_t line) const;
  std::string_view slice(SourceRange r) const { return text(r.file).substr(r.begin, r.end - r.begin); }

 private:
  struct File {
    std::string path;
    std::string text;
    std::vector<uint32_t> lineStarts;
  };
  std::vector<File> files_;
};

}  // namespace pave
