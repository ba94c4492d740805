// Little-endian encoding helpers for the bundle format: fixed-width integers and LEB128
// varints. The reader never reads past its end; any problem sets `failed`.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace pave::rt {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { fixed(v, 2); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void var(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(uint8_t(v) | 0x80);
      v >>= 7;
    }
    out_.push_back(uint8_t(v));
  }
  void svar(int64_t v) { var((uint64_t(v) << 1) ^ uint64_t(v >> 63)); }
  // Optional index: kNone is written as 0, anything else as value + 1.
  void opt(uint32_t v) { var(v == 0xffffffffu ? 0 : uint64_t(v) + 1); }
  void bytes(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  size_t size() const { return out_.size(); }

 private:
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(uint8_t(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool failed = false;

  bool atEnd() const { return p_ == end_; }
  size_t remaining() const { return size_t(end_ - p_); }
  uint8_t u8() { return uint8_t(fixed(1)); }
  uint16_t u16() { return uint16_t(fixed(2)); }
  uint32_t u32() { return uint32_t(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  uint64_t var() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail();
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (b == 0 && shift > 0) return fail();  // only minimal encodings
        if (shift == 63 && b > 1) return fail();
        return v;
      }
    }
    return fail();
  }
  int64_t svar() {
    uint64_t u = var();
    return int64_t(u >> 1) ^ -int64_t(u & 1);
  }
  // A count or index that must fit 32 bits and stay below `limit`.
  uint32_t index(uint64_t limit) {
    uint64_t v = var();
    if (v >= limit) return uint32_t(fail());
    return uint32_t(v);
  }
  uint32_t opt(uint64_t limit) {
    uint64_t v = var();
    if (v == 0) return 0xffffffffu;
    if (v - 1 >= limit) return uint32_t(fail());
    return uint32_t(v - 1);
  }
  // A count of items each taking at least one byte: bounded by what is left.
  uint32_t count() { return index(uint64_t(remaining()) + 1); }
  std::string_view bytes(size_t n) {
    if (n > remaining()) {
      fail();
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }

  uint64_t fail() {
    failed = true;
    p_ = end_;
    return 0;
  }

 private:
  uint64_t fixed(int n) {
    if (remaining() < size_t(n)) return fail();
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(p_[i]) << (8 * i);
    p_ += n;
    return v;
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

// Section ids, in file order.
enum SectionId : uint32_t {
  SecStrings = 1,
  SecSchema = 2,
  SecRules = 3,
  SecCode = 4,
  SecSourceMap = 5,
  SecMeta = 6,
  SecData = 7
};
inline constexpr char kMagic[4] = {'P', 'A', 'V', 'B'};
inline constexpr size_t kHeaderSize = 16;    // magic, major, minor, flags, section count
inline constexpr size_t kDirEntrySize = 12;  // id, offset, size
inline constexpr uint32_t kFlagSigned = 1;
inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kSignatureSize = 64;

}  // namespace pave::rt
