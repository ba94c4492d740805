// Internal: bit tricks shared by the decision procedure and binding.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pave::rt {

// The position of the lowest set bit of `x` (not 0), for the loops over bitsets. GCC 12
// surrounds its `tzcnt` for __builtin_ctzll with a zeroing `xor` and a sign extension,
// two of the seven instructions of a loop that lists rules; written out, it is the one
// instruction. `tzcnt` runs as `bsf` on x86-64 processors without BMI1, the same for a
// non-zero operand. Elsewhere, and in the portable build (so that CI tests it too), the
// builtin.
[[gnu::always_inline]] inline size_t lowestBit(uint64_t x) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PAVE_NO_SIMD)
  size_t i;
  asm("tzcnt %1, %0" : "=r"(i) : "r"(x) : "cc");
  return i;
#else
  return size_t(__builtin_ctzll(x));
#endif
}

}  // namespace pave::rt
