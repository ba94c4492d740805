// Result sharing and the walk by bitsets: rules of a rule set with the same conjuncts share
// one result (RuleUse::Share), and the sets where sharing or the dispatch keys decide
// rules are walked by bitsets (RuleSet::walk), whose index this makes.
#include <algorithm>
#include <map>
#include <vector>

#include "plan/build.h"

namespace pave::rt {

// Rules of a set whose conjuncts are the same (RuleUse::share): the functions are
// interned, so the same functions in the same order, with the same dispatch keys deciding
// them, give the same result for any input. Such rules also have the same bits in every
// dispatch key, so a decision walks the first whenever it walks a later one.
void shareResults(RuleSet& set) {
  auto key = [](const RuleUse& use) {
    std::vector<uint64_t> k;
    for (const Conjunct& c : use.guards) k.push_back(uint64_t(c.fn) << 32 | uint64_t(c.index) << 8 | c.keyBit);
    k.push_back(~uint64_t(0));  // guards, then the others
    for (const Conjunct& c : use.others) k.push_back(uint64_t(c.fn) << 32 | uint64_t(c.index) << 8);
    return k;
  };
  std::map<std::vector<uint64_t>, uint32_t> first;
  for (uint32_t pos = 0; pos < set.rules.size(); ++pos) {
    auto [it, inserted] = first.emplace(key(set.rules[pos]), pos);
    if (inserted) continue;
    set.rules[pos].share = RuleUse::Share::Follows;
    set.rules[pos].sameAs = it->second;
    set.rules[it->second].share = RuleUse::Share::Leads;
    set.rules[it->second].sameAs = it->second;
    set.sharing.any = true;
  }
  for (RuleUse& use : set.rules) {
    if (use.share == RuleUse::Share::Leads) {
      use.followers = uint32_t(set.sharing.followers.size());
      set.sharing.followers.resize(set.sharing.followers.size() + set.words);
    } else if (use.share == RuleUse::Share::Follows) {
      const uint32_t pos = uint32_t(&use - set.rules.data());
      set.sharing.followers[set.rules[use.sameAs].followers + pos / 64] |= uint64_t(1) << (pos % 64);
    }
  }
}

// The bitsets of a walk by bitsets (RuleSet::walk), made for
// the sets that walk so.
void indexEffects(RuleSet& set) {
  const size_t words = set.words;
  set.walk.decided.assign(words, 0);
  set.walk.keyNeeds.assign(set.keys.size() * words, 0);
  set.walk.of.assign(RuleSet::OfCount * words, 0);
  set.walk.ruleIds.clear();
  for (uint32_t pos = 0; pos < set.rules.size(); ++pos) {
    const RuleUse& use = set.rules[pos];
    const uint64_t bit = uint64_t(1) << (pos % 64);
    const size_t w = pos / 64;
    set.walk.ruleIds.push_back(use.rule);
    auto mark = [&](RuleSet::Of which) { set.walk.of[size_t(which) * words + w] |= bit; };
    switch (use.effect) {
      case Effect::Approve: mark(RuleSet::Approves); [[fallthrough]];
      case Effect::Allow:
        mark(RuleSet::Rules);
        if (use.contributes) mark(RuleSet::Contributes);
        break;
      case Effect::Deny: mark(RuleSet::Denies); break;
      case Effect::Exception: mark(RuleSet::Exceptions); break;
    }
    const bool decided = use.others.empty() &&
                         std::all_of(use.guards.begin(), use.guards.end(), [](const Conjunct& g) { return g.keyBit; });
    if (!decided) continue;
    set.walk.decided[w] |= bit;
    set.walk.byBits = true;
    for (const Conjunct& g : use.guards) {
      const uint32_t k = uint32_t(__builtin_ctz(g.keyBit));
      set.walk.keyNeeds[k * words + w] |= bit;
      set.walk.keysNeeded |= uint32_t(g.keyBit);
    }
  }
  set.walk.byBits |= set.sharing.any;
  if (!set.walk.byBits) {  // walked one rule at a time: none of it is read
    set.walk.decided.clear(), set.walk.keyNeeds.clear(), set.walk.of.clear(), set.walk.ruleIds.clear();
    set.walk.keysNeeded = 0;
  }
}

}  // namespace pave::rt
