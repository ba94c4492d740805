#include "audit/LogReader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace pave::audit {
namespace {
constexpr size_t kBlock = size_t(1) << 20;
// A line longer than this is not a decision log record (inputs are bounded by the
// service's body limit); it is skipped in blocks rather than held whole.
constexpr size_t kMaxLine = size_t(64) << 20;
}  // namespace

LogReader::LogReader(std::vector<std::string> sources) : pending_(std::move(sources)) {
  std::reverse(pending_.begin(), pending_.end());
  buf_.resize(kBlock);
}

LogReader::~LogReader() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

bool LogReader::open() {
  namespace fs = std::filesystem;
  while (!pending_.empty()) {
    std::string path = std::move(pending_.back());
    pending_.pop_back();
    int fd;
    if (path == "-") {
      fd = ::dup(STDIN_FILENO);
    } else {
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        std::vector<std::string> files;
        for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
          if (it->is_regular_file(ec) && it->path().filename().string().front() != '.') files.push_back(it->path().string());
        if (ec) {
          error_ = path + ": " + ec.message();
          return false;
        }
        std::sort(files.begin(), files.end(), std::greater<>());
        pending_.insert(pending_.end(), files.begin(), files.end());
        continue;
      }
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
      error_ = path + ": " + std::strerror(errno);
      return false;
    }
    // zlib reads plain files as they are and gzip files (of one or more members) inflated.
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
      ::close(fd);
      error_ = path + ": cannot open";
      return false;
    }
    gzbuffer(gz, 256 * 1024);
    gz_ = gz;
    file_ = path;
    line_ = 0;
    ++files_;
    begin_ = scan_ = end_ = 0;
    eof_ = false;
    return true;
  }
  return false;
}

bool LogReader::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < kBlock / 2) {
    if (buf_.size() >= kMaxLine) {  // drop the middle of an endless line, keep counting it
      end_ = scan_ = std::min<size_t>(end_, 64);
    } else {
      buf_.resize(buf_.size() * 2);
    }
  }
  int n = gzread(static_cast<gzFile>(gz_), buf_.data() + end_, unsigned(std::min<size_t>(buf_.size() - end_, 1u << 30)));
  if (n < 0) {
    int code = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &code);
    error_ = file_ + ": " + (code == Z_ERRNO ? std::strerror(errno) : msg);
    return false;
  }
  if (n == 0) {
    int code = 0;
    gzerror(static_cast<gzFile>(gz_), &code);
    if (code != Z_OK && code != Z_BUF_ERROR) {
      error_ = file_ + ": " + gzerror(static_cast<gzFile>(gz_), &code);
      return false;
    }
    eof_ = true;
  }
  end_ += size_t(n);
  return true;
}

bool LogReader::next(std::string_view& line) {
  for (;;) {
    if (!gz_) {
      if (!error_.empty() || !open()) return false;
    }
    if (const void* nl = std::memchr(buf_.data() + scan_, '\n', end_ - scan_)) {
      size_t at = size_t(static_cast<const char*>(nl) - buf_.data());
      line = std::string_view(buf_.data() + begin_, at - begin_);
      begin_ = scan_ = at + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++line_;
      unterminated_ = false;
      return true;
    }
    scan_ = end_;
    if (eof_) {
      if (begin_ < end_) {
        line = std::string_view(buf_.data() + begin_, end_ - begin_);
        begin_ = scan_ = end_;
        ++line_;
        unterminated_ = true;
        return true;
      }
      gzclose(static_cast<gzFile>(gz_));
      gz_ = nullptr;
      continue;
    }
    if (!fill()) return false;
  }
}

}  // namespace pave::audit
