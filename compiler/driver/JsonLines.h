// JSON Lines in and out for `pave eval -`: blocks of whole lines read from a file
// descriptor, turned into output by several threads, written in input order.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace pave::driver {

/// Reads a file descriptor in large blocks, each ending at a line's end: every line is
/// whole in one block. A line is everything up to `\n` (a `\r` before it stays: JSON reads
/// it as whitespace); the last line needs no newline; a line longer than a block makes its
/// block longer.
class LineBlocks {
 public:
  static constexpr size_t kBlock = size_t(256) << 10;

  explicit LineBlocks(int fd) : fd_(fd) {}
  /// The next block of whole lines (its last `\n` included, if any) into `block`; false at
  /// the end of the input or on a read error (then `error()` says which).
  bool next(std::string& block);
  const std::string& error() const { return error_; }

 private:
  int fd_;
  std::string carry_;  // the start of a line the previous read cut off
  bool eof_ = false;
  std::string error_;
};

/// Calls `line(text)` for each non-blank line of `block` (blank: only spaces, tabs, `\r`).
/// Stops and returns false when `line` does.
template <typename Line>
bool forEachLine(std::string_view block, Line line) {
  size_t begin = 0;
  while (begin < block.size()) {
    size_t end = block.find('\n', begin);
    if (end == std::string_view::npos) end = block.size();
    std::string_view text = block.substr(begin, end - begin);
    begin = end + 1;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!line(text)) return false;
  }
  return true;
}

/// Collects output and writes it to a file descriptor in large blocks.
class BlockWriter {
 public:
  static constexpr size_t kBlock = size_t(1) << 20;

  explicit BlockWriter(int fd) : fd_(fd) { buf_.reserve(kBlock + 64 * 1024); }
  std::string& buffer() { return buf_; }
  /// Writes the buffer out once it holds a block; false on a write error.
  bool maybeFlush() { return buf_.size() < kBlock || flush(); }
  bool flush();
  const std::string& error() const { return error_; }

 private:
  int fd_;
  std::string buf_;
  std::string error_;
};

/// Turns one block of lines into its output (appended to `out`); false, with `error` set,
/// to stop everything.
using BlockWork = std::function<bool(std::string_view block, std::string& out, std::string& error)>;

/// The number of threads `--jobs 0` means: the CPUs this process may run on.
unsigned availableCpus();

/// Reads `in` to its end and writes, in input order, what `work` makes of each block.
/// With `jobs` > 1, `jobs` threads decide, each with its own `BlockWork` from one call of
/// `makeWork()` (a decider is not shared between threads): `jobs - 1` workers, and this
/// thread, which also reads and writes, whenever the next block to write is not ready;
/// with 1, all is done here. Returns false with `error` set on the first read, work or write error
/// (the output of the blocks before it is written).
bool runBlocks(LineBlocks& in, BlockWriter& out, unsigned jobs, const std::function<BlockWork()>& makeWork,
               std::string& error);

}  // namespace pave::driver
