// Internal: what the JSON input decoder and the decision writer precompute once per loaded
// bundle, so that a decision spends its time on the input's values and not on the schema.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "name_table.h"
#include "pave/runtime.h"

// The SSE2 code paths, unless PAVE_NO_SIMD (the PAVE_PORTABLE build, which CI runs so that
// the portable paths every other target takes are tested too).
#if defined(__SSE2__) && !defined(PAVE_NO_SIMD)
#define PAVE_SSE2 1
#include <emmintrin.h>
#else
#define PAVE_SSE2 0
#endif

namespace pave::rt {

struct JsonTables {
  // Input (SPEC §7.2). Type names resolve as TypeNames::find does; an attribute name to its
  // position in the schema's list (the first one when a name repeats, as the DOM path does).
  NameTable requestTypes, principalTypes;
  std::vector<NameTable> requestAttrs;    // per request type: index into RequestType::attrs
  std::vector<NameTable> principalAttrs;  // per principal type: attribute slot
  NameTable contextAttrs;                 // context slot
  // Output (SPEC §7.4): the JSON text of everything a decision only refers to.
  std::vector<std::string> ruleNames;               // per rule: its quoted name
  std::vector<std::string> requestTypeNames;        // per request type: its quoted name
  std::vector<std::vector<std::string>> grantKeys;  // per request type and grant: `"name":`
  std::vector<std::string> exceptions;  // per rule: its object in "exceptions" (exceptions only)
  // Per rule: for an approve rule whose approvers are constants, its groups (sorted, the
  // views RuleUse::groups holds) and the text after its name in "approvals":
  // `,"groups":[…],"quorum":N}`. Empty for the others.
  struct ConstApproval {
    std::vector<std::string_view> groups;
    uint32_t quorum = 0;
    std::string tail;
  };
  std::vector<ConstApproval> approvals;
  std::string bundle;                   // `"bundle":{…}`
  // Per rule, for `--explain` trace entries: `,"doc":…,"controls":[…],"severity":…` (each
  // member present when set; SPEC §3.2), and `"file":…,` for `failed` (with a source map
  // that names files; else empty).
  std::vector<std::string> traceMeta, traceFile;
};

// Fills `impl.json` from the rest of `impl` (the model and the type-name maps).
void buildJsonTables(LoadedBundle::Impl& impl);

// Appends `s` as a JSON string literal (`"`, `\` and control characters escaped).
void appendJsonQuoted(std::string_view s, std::string& out);
// Eight bytes from `p`, the first one in the low lane on any host.
inline uint64_t loadLanes(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

// The bytes a JSON string cannot hold as they are ('"', '\' and those below 0x20), among
// the eight bytes of `w` from loadLanes: the high bit of each such byte's lane is set, and
// the lowest set bit is exact (lanes above a hit may be set falsely, by the borrow).
inline uint64_t jsonSpecialBytes(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}

#if PAVE_SSE2
// The bytes a JSON string cannot hold as they are among the sixteen at `p`, bit i for byte i
// (exact, unlike jsonSpecialBytes); with `nonAscii`, every byte above 0x7f too.
inline uint32_t jsonSpecial16(const char* p, bool nonAscii) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  const __m128i low = nonAscii ? _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))  // signed: >= 0x80 too
                               : _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
  return uint32_t(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low)));
}

// The bytes of 16 at `p` that are not JSON whitespace (space, tab, newline, return), as a
// bit mask.
inline uint32_t jsonNonWhitespace16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i space = _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), newline = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
  const __m128i tab = _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), ret = _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'));
  const __m128i ws = _mm_or_si128(_mm_or_si128(space, newline), _mm_or_si128(tab, ret));
  return ~uint32_t(_mm_movemask_epi8(ws)) & 0xffff;
}
#endif

// Whether appendJsonQuoted would escape a byte of `s`. Inline: the decision writer asks
// for every string it writes.
inline bool needsJsonEscape(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size(), i = 0;
#if PAVE_SSE2
  for (; i + 16 <= n; i += 16)
    if (jsonSpecial16(p + i, false)) return true;
#endif
  for (; i + 8 <= n; i += 8) {
    if (jsonSpecialBytes(loadLanes(p + i))) return true;
  }
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c == '"' || c == '\\') return true;
  }
  return false;
}

}  // namespace pave::rt
