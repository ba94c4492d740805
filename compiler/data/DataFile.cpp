#include "data/DataFile.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <iterator>
#include <vector>

namespace pave::data {

using nlohmann::json;

Format formatFor(std::string_view path) {
  auto endsWith = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  return endsWith(".jsonl") || endsWith(".ndjson") ? Format::JsonLines : Format::JsonObject;
}

namespace {

void appendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
      }
    } else {
      out += c;
    }
  }
}

std::string jsonQuoted(std::string_view s) {
  std::string out = "\"";
  appendEscaped(out, s);
  out += '"';
  return out;
}

bool identifierLike(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

const char* kindOf(const json& v) { return jsonKindName(v); }

// Where the lexer is, for line numbers. nlohmann's SAX events carry no positions, but its
// lexer pulls one byte at a time through the input iterator, so the iterator publishes how
// far it has read. The lexer reads at most one byte past a token (after a number), never a
// non-blank one on another line, so the line of the last non-blank byte consumed is the
// line of the token just read, and of the byte a syntax error stopped at. Lines are counted
// only when asked for (at each row and row key), over the bytes read since the last time.
class Position {
 public:
  explicit Position(std::string_view bytes) : consumed_(bytes.data()), counted_(bytes.data()) {}
  const char** consumed() { return &consumed_; }

  uint32_t tokenLine() {
    const char* last = consumed_;
    while (last > counted_ && isBlank(last[-1])) --last;  // `last` is one past the token's last byte
    if (last > counted_) {
      const char* token = last - 1;
      newlines_ += static_cast<uint64_t>(std::count(counted_, token, '\n'));
      counted_ = token;
    }
    uint64_t line = newlines_ + 1;
    return line > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(line);
  }

 private:
  static bool isBlank(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
  const char* consumed_;  // one past the last byte the lexer took
  const char* counted_;   // newlines_ counts the newlines before this byte
  uint64_t newlines_ = 0;
};

class PositionIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  PositionIterator(const char* p, const char** consumed) : p_(p), consumed_(consumed) {}
  reference operator*() const { return *p_; }
  PositionIterator& operator++() {
    *consumed_ = ++p_;
    return *this;
  }
  PositionIterator operator++(int) {
    PositionIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const PositionIterator& o) const { return p_ == o.p_; }
  bool operator!=(const PositionIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  const char** consumed_;
};

// The row keys seen so far and the line of each, for duplicate keys: an open-addressing
// table of hashes over one arena of key bytes (a million keys take two allocations and
// about one cache miss per lookup, where a node-based map took a fifth of the read time).
class KeySet {
 public:
  // Adds `key` first seen at `line` (≥ 1); returns 0, or the line where it was first seen.
  uint32_t insert(std::string_view key, uint32_t line) {
    if (line == 0) line = 1;
    if ((count_ + 1) * 2 > slots_.size()) grow();
    uint64_t hash = std::hash<std::string_view>{}(key);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.line == 0) {
        slot = Slot{hash, arena_.size(), key.size(), line};
        arena_.append(key);
        ++count_;
        return 0;
      }
      if (slot.hash == hash && std::string_view(arena_).substr(slot.offset, slot.length) == key) return slot.line;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    size_t offset = 0;
    size_t length = 0;
    uint32_t line = 0;  // 0: empty
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.line == 0) continue;
      size_t i = slot.hash & mask;
      while (slots_[i].line != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }
  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

// Builds one row's document at a time from SAX events, with the path of every open
// container for messages. In an object file the top-level object is never built: its
// members are handed over one by one as rows.
class RowBuilder {
 public:
  RowBuilder(Format format, const std::function<bool(Row&&)>& onRow, DataError& err,
             KeySet& seen)
      : format_(format), onRow_(onRow), err_(err), seen_(seen) {
    frames_.reserve(kMaxDepth + 1);
  }

  // Where lines come from: the lexer's position (object file) or one fixed line (a JSON Lines line).
  void startInput(Position* position, uint32_t fixedLine, size_t size) {
    position_ = position;
    fixedLine_ = fixedLine;
    size_ = size;
    frames_.clear();
    topDone_ = false;
  }
  bool stopped() const { return stopped_; }
  bool failed() const { return failed_; }

  // ---- SAX interface ----
  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) { return value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return value(json(v)); }
  bool string(json::string_t& v) { return value(json(std::move(v))); }
  bool binary(json::binary_t&) { return fail(line(), path(true), "unexpected binary value"); }
  bool start_object(std::size_t) { return startContainer(false); }
  bool start_array(std::size_t) { return startContainer(true); }
  bool end_object() { return endContainer(); }
  bool end_array() { return endContainer(); }
  bool key(json::string_t& k);
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex);

 private:
  struct Frame {
    json* node = nullptr;  // null: the top-level object of an object file (not built)
    bool array = false;
    bool pending = false;  // object: a member's name was read, its value is not complete
    json* slot = nullptr;  // object: where the pending member's value goes
    const std::string* name = nullptr;  // object: the pending (or last) member's name
  };

  uint32_t line() {
    return position_ ? position_->tokenLine() : fixedLine_;
  }
  bool fail(uint32_t line, std::string path, std::string message) {
    err_.line = line;
    err_.path = std::move(path);
    err_.message = std::move(message);
    failed_ = true;
    return false;
  }
  // The path of the innermost open value. `newElement`: the problem is at an element being
  // started in the innermost array (so its index is the array's size).
  std::string path(bool newElement) const;

  bool value(json&& v);
  bool startContainer(bool array);
  bool endContainer();
  bool emitRow(std::string key, uint32_t rowLine, std::string rowPath);
  bool finishLine();

  Format format_;
  const std::function<bool(Row&&)>& onRow_;
  DataError& err_;
  KeySet& seen_;  // row keys → their lines
  Position* position_ = nullptr;
  uint32_t fixedLine_ = 0;
  size_t size_ = 0;
  std::vector<Frame> frames_;
  json row_;
  std::string rowKey_;  // object file: the key of the row being read
  uint32_t rowLine_ = 0;
  bool topDone_ = false;
  bool stopped_ = false;
  bool failed_ = false;
};

std::string RowBuilder::path(bool newElement) const {
  std::string p = "$";
  for (size_t i = 0; i < frames_.size(); ++i) {
    const Frame& f = frames_[i];
    bool innermost = i + 1 == frames_.size();
    if (!f.node) {
      if (!innermost || f.pending) p += rowStep(rowKey_);
    } else if (f.array) {
      if (!innermost && !f.node->empty())
        p += "[" + std::to_string(f.node->size() - 1) + "]";
      else if (innermost && newElement)
        p += "[" + std::to_string(f.node->size()) + "]";
    } else if ((!innermost || f.pending) && f.name) {
      p += memberStep(*f.name);
    }
  }
  return p;
}

bool RowBuilder::value(json&& v) {
  if (frames_.empty()) {
    if (format_ == Format::JsonLines)
      return fail(line(), "$", std::string("a line must be a JSON object, not ") + kindOf(v));
    return fail(line(), "$", std::string("the top level must be a JSON object, not ") + kindOf(v));
  }
  Frame& f = frames_.back();
  if (!f.node)
    return fail(line(), path(false), std::string("a row must be a JSON object, not ") + kindOf(v));
  if (f.array) {
    f.node->push_back(std::move(v));
  } else {
    *f.slot = std::move(v);
    f.pending = false;
  }
  return true;
}

bool RowBuilder::startContainer(bool array) {
  if (frames_.size() >= static_cast<size_t>(kMaxDepth))
    return fail(line(), path(true), "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  json* child = nullptr;
  if (frames_.empty()) {
    if (array) {
      if (format_ == Format::JsonLines) return fail(line(), "$", "a line must be a JSON object, not an array");
      return fail(line(), "$", "the top level must be a JSON object, not an array");
    }
    if (format_ == Format::JsonLines) {
      row_ = json::object();
      rowLine_ = line();
      child = &row_;
    }
  } else {
    Frame& f = frames_.back();
    if (!f.node) {
      if (array) return fail(line(), path(false), "a row must be a JSON object, not an array");
      row_ = json::object();
      rowLine_ = line();
      child = &row_;
    } else if (f.array) {
      f.node->push_back(array ? json::array() : json::object());
      child = &f.node->back();
    } else {
      *f.slot = array ? json::array() : json::object();
      child = f.slot;
    }
  }
  Frame frame;
  frame.node = child;
  frame.array = array;
  frames_.push_back(frame);
  return true;
}

bool RowBuilder::endContainer() {
  frames_.pop_back();
  if (frames_.empty()) {
    topDone_ = true;
    return format_ == Format::JsonLines ? finishLine() : true;
  }
  Frame& f = frames_.back();
  if (!f.array) f.pending = false;
  if (!f.node) {  // a row of an object file is complete
    std::string rowPath = "$" + rowStep(rowKey_);
    return emitRow(std::move(rowKey_), rowLine_, std::move(rowPath));
  }
  return true;
}

bool RowBuilder::key(json::string_t& k) {
  Frame& f = frames_.back();
  if (!f.node) {  // a row key of an object file
    rowKey_ = k;
    f.pending = true;
    if (uint32_t first = seen_.insert(k, line()))
      return fail(line(), "$" + rowStep(k),
                  "duplicate row key " + jsonQuoted(k) + " (first at line " + std::to_string(first) + ")");
    return true;
  }
  auto& members = f.node->get_ref<json::object_t&>();
  auto [it, inserted] = members.emplace(std::move(k), nullptr);
  f.slot = &it->second;
  f.name = &it->first;
  f.pending = true;
  if (!inserted) return fail(line(), path(false), "duplicate member " + jsonQuoted(it->first));
  return true;
}

bool RowBuilder::emitRow(std::string key, uint32_t rowLine, std::string rowPath) {
  Row row;
  row.key = std::move(key);
  row.value = std::move(row_);
  row.line = rowLine;
  row.path = std::move(rowPath);
  row_ = json();
  if (onRow_(std::move(row))) return true;
  stopped_ = true;
  return false;
}

bool RowBuilder::finishLine() {
  auto it = row_.find("key");
  if (it == row_.end()) return fail(rowLine_, "$", "the line has no `key` member");
  if (!it->is_string())
    return fail(rowLine_, "$.key", std::string("`key` must be a string, not ") + kindOf(*it));
  std::string key = std::move(it->get_ref<std::string&>());
  row_.erase(it);
  if (uint32_t first = seen_.insert(key, rowLine_))
    return fail(rowLine_, "$.key",
                "duplicate row key " + jsonQuoted(key) + " (first at line " + std::to_string(first) + ")");
  return emitRow(std::move(key), rowLine_, "$");
}

bool RowBuilder::parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) {
  // The parser's message reads "[json.exception.parse_error.101] parse error at …: syntax
  // error while parsing value - DETAIL; last read: 'TOKEN'". DETAIL is the lexer's or the
  // parser's fixed text; TOKEN holds raw input bytes and is never copied into a message.
  std::string what = ex.what();
  std::string detail;
  if (auto s = what.find("syntax error"); s != std::string::npos) {
    if (auto d = what.find(" - ", s); d != std::string::npos) detail = what.substr(d + 3);
  }
  if (auto cut = detail.find("; last read: '"); cut != std::string::npos) detail.resize(cut);
  const bool atEnd = position > size_;
  std::string message;
  if (ex.id == 406)
    message = "number out of range";
  else if (detail.find("UTF-8") != std::string::npos)
    message = "invalid UTF-8";
  else if (topDone_)
    message = format_ == Format::JsonLines ? "unexpected content after the line's object"
                                           : "unexpected content after the top-level object";
  else if (atEnd)
    message = format_ == Format::JsonLines ? "unexpected end of line" : "unexpected end of file";
  else if (!detail.empty())
    message = "malformed JSON: " + detail;
  else
    message = "malformed JSON";
  return fail(line(), topDone_ ? "$" : path(false), std::move(message));
}

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

std::string memberStep(std::string_view name) {
  if (identifierLike(name)) return "." + std::string(name);
  return rowStep(name);
}

std::string rowStep(std::string_view rowKey) {
  std::string out = "[\"";
  appendEscaped(out, rowKey);
  out += "\"]";
  return out;
}

bool readRows(std::string_view bytes, Format format, const std::function<bool(Row&&)>& onRow, DataError& err) {
  err = DataError{};
  KeySet seen;
  RowBuilder builder(format, onRow, err, seen);
  if (format == Format::JsonObject) {
    if (blank(bytes)) {
      err = DataError{1, "$", "the file is empty; expected a JSON object"};
      return false;
    }
    Position position(bytes);
    builder.startInput(&position, 0, bytes.size());
    const char* begin = bytes.data();
    bool ok = json::sax_parse(PositionIterator(begin, position.consumed()),
                              PositionIterator(begin + bytes.size(), position.consumed()), &builder);
    if (!ok && !builder.failed() && !builder.stopped()) err = DataError{1, "$", "malformed JSON"};
    return ok;
  }
  uint32_t lineNo = 0;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    ++lineNo;
    std::string_view text = bytes.substr(start, end - start);
    start = end + 1;
    if (blank(text)) continue;
    if (lineNo > 1 && text.substr(0, 3) == "\xEF\xBB\xBF") {  // the parser would skip it on any line
      err = DataError{lineNo, "$", "malformed JSON: a byte-order mark is only allowed at the start of the file"};
      return false;
    }
    builder.startInput(nullptr, lineNo, text.size());
    if (!json::sax_parse(text.data(), text.data() + text.size(), &builder)) {
      if (!builder.failed() && !builder.stopped()) err = DataError{lineNo, "$", "malformed JSON"};
      return false;
    }
  }
  return true;
}

bool readFile(const std::string& path, const std::function<bool(Row&&)>& onRow, DataError& err) {
  err = DataError{};
  auto ioError = [&](const std::string& why) {
    err = DataError{0, "", "cannot read `" + path + "`: " + why};
    return false;
  };
  auto systemError = [&](int code) {
    std::string why = std::strerror(code);
    if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z') why[0] = static_cast<char>(why[0] - 'A' + 'a');
    return ioError(why);
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return systemError(errno);
  std::string bytes;
  int readError = 0;
  try {
    struct stat info {};
    if (::fstat(::fileno(f), &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0)
      bytes.reserve(static_cast<size_t>(info.st_size));
    char buffer[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) bytes.append(buffer, n);
    readError = std::ferror(f) ? errno : 0;
  } catch (const std::bad_alloc&) {
    std::fclose(f);
    return ioError("the file is too large to hold in memory");
  }
  std::fclose(f);
  if (readError) return systemError(readError);
  return readRows(bytes, formatFor(path), onRow, err);
}

const char* jsonKindName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a number with a fraction";
    default: return "a number";
  }
}

}  // namespace pave::data
