// The walk by bitsets (RuleSet::walk): the rules of a set that the dispatch keys
// left in, matched one by one or decided by the keys and shared results, recorded in
// bitsets and turned into the decision's lists afterwards. The plain walk, one rule at a
// time, and what both run per rule (probes, matchGuarded) are in evaluation.h.
// Included once, by decide.cpp (see evaluation.h).
#pragma once
#include "evaluation.h"

namespace pave::rt {
namespace {

// Whether string `v` contains string `k`. Out of line: the search in line would stop GCC
// from inlining the probes into the walk.
[[gnu::noinline]] bool containsString(const Value& v, const Value& k) {
  return v.str().find(k.str()) != std::string_view::npos;
}

// GuardProbe::Size on `v` (before `negate`). Out of line, like containsString.
[[gnu::noinline]] Truth sizeProbe(const Conjunct& c, const Value& v) {
  if (v.kind != Kind::String && v.kind != Kind::Set && v.kind != Kind::Map)
    return v.kind == Kind::Absent && c.guarded ? Truth::False : Truth::Undecided;  // has(x) and …: false
  const int64_t n = v.n, k = c.k.i;
  switch (c.cmp) {
    case Op::EQ: return truth(n == k);
    case Op::NE: return truth(n != k);
    case Op::LT: return truth(n < k);
    case Op::LE: return truth(n <= k);
    case Op::GT: return truth(n > k);
    default: return truth(n >= k);
  }
}

// The walk of the other sets (RuleSet::walk), which records what matched in bitsets
// by position (`st.hit`: matched, `st.erred`: an error, reported as it is found) and takes
// the decision's lists from them afterwards, in the set's order:
// - a rule whose conjuncts the dispatch keys all decided (RuleSet::walk.decided) matched and
//   is not walked;
// - a rule that leads others with the same conjuncts (RuleUse::Share) gives them its
//   result when it is not an error, and they leave the walk (a follower comes after its
//   leader and has the same dispatch bits, so it is in the walk only with its leader);
//   after an error, each follower is walked for its own message.
// Out of line, so that the plain walk is not slowed down. Returns whether a matching
// rule is an approve rule. OneWord: an instance for sets of at most 64 rules (most),
// whose loops over words the compiler removes.
template <bool OneWord>
bool Evaluation::walkByBits(const RuleSet& set, uint32_t decided) {
  const uint32_t words = OneWord ? 1 : set.words;
  uint64_t* const bits = st.bits.data();
  uint64_t* const hit = st.hit.data();
  uint64_t* const erred = st.erred.data();
  const uint32_t undecided = set.walk.keysNeeded & ~decided;
  for (uint32_t w = 0; w < words; ++w) {
    uint64_t known = bits[w] & set.walk.decided[w];
    for (uint32_t u = undecided; u; u &= u - 1) known &= ~set.walk.keyNeeds[lowestBit(u) * words + w];
    hit[w] = known;
    erred[w] = 0;
    bits[w] &= ~known;
  }
  Value err;
  for (uint32_t w = 0; w < words; ++w)
    for (uint64_t x = bits[w]; x; x &= x - 1) {
      const uint64_t bit = x & -x;
      const RuleUse& use = set.rules[size_t(w) * 64 + lowestBit(x)];
      const Matched result = matchGuarded(use, decided, err);
      if (result == Matched::True) {
        hit[w] |= bit;
      } else if (result == Matched::Error) {
        erred[w] |= bit;
        evalError(use.rule, err);
        continue;
      }
      if (use.share != RuleUse::Share::Leads) continue;
      const uint64_t* followers = set.sharing.followers.data() + use.followers;
      if (result == Matched::True) hit[w] |= x & followers[w];
      x &= ~followers[w];
      for (uint32_t v = w + 1; v < words; ++v) {
        if (result == Matched::True) hit[v] |= bits[v] & followers[v];
        bits[v] &= ~followers[v];
      }
    }
  // Allow/approve rules that match are the decision's rules; matching (or erring) denies
  // are its deny rules unless an exception lifts them.
  const uint64_t *rules = set.bitsOf(RuleSet::Rules), *approves = set.bitsOf(RuleSet::Approves),
                 *denies = set.bitsOf(RuleSet::Denies), *exceptions = set.bitsOf(RuleSet::Exceptions),
                 *contributes = set.bitsOf(RuleSet::Contributes);
  // Appends the rules of `x` to `out`, through a pointer kept in a register (the stores
  // are of rule indices, which could alias the list's count in memory).
  auto append = [](DecisionList<uint32_t>& out, uint64_t x, const uint32_t* ids) {
    uint32_t* at = out.end();
    for (; x; x &= x - 1) *at++ = ids[lowestBit(x)];
    out.n = uint32_t(at - out.data());
  };
  bool anyApprove = false;
  for (uint32_t w = 0; w < words; ++w) {
    const uint64_t h = hit[w];
    const uint32_t* ids = set.walk.ruleIds.data() + size_t(w) * 64;
    append(st.rules, h & rules[w], ids);
    if (!set.grantTable.byBits)  // grantsByBits reads the bitsets instead
      for (uint64_t x = h & contributes[w]; x; x &= x - 1)
        st.matched[st.matchedN++] = &set.rules[size_t(w) * 64 + lowestBit(x)];
    anyApprove |= (h & approves[w]) != 0;
    append(st.denyRules, (h | erred[w]) & denies[w], ids);
    append(st.matching, h & exceptions[w], ids);
  }
  return anyApprove;
}

}  // namespace
}  // namespace pave::rt
