// Streaming reader of decision logs (SPEC §11): plain or gzip-compressed files (also
// rotated files of several gzip members), directories (every regular file below, by
// path) and `-` (the standard input), one line at a time through a fixed-size buffer, so
// that memory does not depend on the size of the log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pave::audit {

class LogReader {
 public:
  /// `sources`: files, directories or `-`. Directories are listed when reached.
  explicit LogReader(std::vector<std::string> sources);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  /// The next line (without `\n`, a trailing `\r` removed), valid until the next call.
  /// False at the end of the last source, or on an I/O error (then `error()` says which).
  bool next(std::string_view& line);
  /// Where the last line came from (the file, or `-`), and its 1-based number there.
  const std::string& file() const { return file_; }
  uint64_t line() const { return line_; }
  /// True when the last line had no `\n` at the end of its file (possibly cut short).
  bool unterminated() const { return unterminated_; }
  const std::string& error() const { return error_; }
  uint64_t files() const { return files_; }

 private:
  bool open();
  bool fill();

  std::vector<std::string> pending_;  // sources still to read, in reverse order
  void* gz_ = nullptr;                // gzFile
  std::string file_;
  uint64_t line_ = 0;
  uint64_t files_ = 0;
  bool unterminated_ = false;
  std::string buf_;
  size_t begin_ = 0, scan_ = 0, end_ = 0;
  bool eof_ = true;
  std::string error_;
};

}  // namespace pave::audit
