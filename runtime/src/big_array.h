// Large arrays made once at load (a table's rows, its element pool, its hash index).
// Memory comes from calloc, which for large sizes maps fresh pages that are already zero, so
// an array is written once (by its filler) rather than cleared first; and, where the system
// offers them, the pages are asked to be huge (2 MiB), so that filling 100 MB takes fifty
// page faults rather than 25,000. The element types are plain data whose all-zero bytes are
// their default value (Value: Absent; an empty index slot: 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pave::rt {

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};
template <class T>
using BigArray = std::unique_ptr<T[], FreeDeleter>;

// Advice only: the whole 2 MiB pages inside [p, p + bytes) may be backed by huge pages.
inline void adviseHugePages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = (uintptr_t(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (uintptr_t(p) + bytes) & ~(kHuge - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

// n elements, all bytes zero. Throws std::bad_alloc when the memory is not there.
template <class T>
BigArray<T> bigZeroArray(size_t n) {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  void* p = std::calloc(n ? n : 1, sizeof(T));
  if (!p) throw std::bad_alloc();
  adviseHugePages(p, n * sizeof(T));
  return BigArray<T>(static_cast<T*>(p));
}

// An array that grows at its end, by realloc: a large block is moved by remapping its pages,
// not by copying them. Elements are plain data (moved as bytes).
template <class T>
class BigVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  BigVector() = default;
  BigVector(BigVector&& o) noexcept : p_(std::move(o.p_)), size_(o.size_), cap_(o.cap_) { o.size_ = o.cap_ = 0; }
  BigVector& operator=(BigVector&& o) noexcept {
    p_ = std::move(o.p_);
    size_ = o.size_;
    cap_ = o.cap_;
    o.size_ = o.cap_ = 0;
    return *this;
  }
  void reserve(size_t n) {
    if (n <= cap_) return;
    void* q = std::realloc(p_.get(), n * sizeof(T));
    if (!q) throw std::bad_alloc();
    (void)p_.release();
    p_.reset(static_cast<T*>(q));
    cap_ = n;
    adviseHugePages(q, n * sizeof(T));
  }
  void push_back(const T& v) {
    if (size_ == cap_) reserve(cap_ ? 2 * cap_ : 16);
    p_[size_++] = v;
  }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  T& back() { return p_[size_ - 1]; }
  T* data() { return p_.get(); }
  size_t size() const { return size_; }

 private:
  BigArray<T> p_;
  size_t size_ = 0, cap_ = 0;
};

}  // namespace pave::rt
