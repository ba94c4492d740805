// A bump allocator for per-decision scratch memory. `reset` keeps the largest chunk, so a
// decider that has warmed up does not touch the heap again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace pave::rt {

class Arena {
 public:
  void* alloc(size_t bytes, size_t align = alignof(std::max_align_t)) {
    size_t at = (used_ + align - 1) & ~(align - 1);
    if (at + bytes > cap_) return grow(bytes, align);
    used_ = at + bytes;
    return cur_ + at;
  }
  template <typename T>
  T* allocArray(size_t n) {
    return static_cast<T*>(alloc(n ? n * sizeof(T) : 1, alignof(T)));
  }
  std::string_view copy(std::string_view s) {
    char* p = allocArray<char>(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  void reset() {
    if (chunks_.size() > 1) {  // keep only the biggest (the last) chunk
      auto last = std::move(chunks_.back());
      chunks_.clear();
      chunks_.push_back(std::move(last));
    }
    used_ = 0;
  }

 private:
  void* grow(size_t bytes, size_t align) {
    size_t size = std::max<size_t>(cap_ * 2, std::max<size_t>(bytes + align, 4096));
    chunks_.push_back(std::make_unique<char[]>(size));
    cur_ = chunks_.back().get();
    cap_ = size;
    used_ = 0;
    return alloc(bytes, align);
  }
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* cur_ = nullptr;
  size_t cap_ = 0;
  size_t used_ = 0;
};

}  // namespace pave::rt
