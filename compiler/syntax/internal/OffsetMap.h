// ANTLR counts code points; Pave's ranges count bytes. Internal to compiler/syntax.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pave::syntax::internal {

/// Maps ANTLR's code-point indexes back to byte offsets.
class OffsetMap {
 public:
  explicit OffsetMap(std::string_view text) {
    bool ascii = true;
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    if (ascii) return;
    for (uint32_t i = 0; i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts_.push_back(i);
    starts_.push_back(static_cast<uint32_t>(text.size()));
  }
  uint32_t byteOffset(size_t codePoint) const {
    if (starts_.empty()) return static_cast<uint32_t>(codePoint);
    return starts_[std::min(codePoint, starts_.size() - 1)];
  }

 private:
  std::vector<uint32_t> starts_;
};

}  // namespace pave::syntax::internal
