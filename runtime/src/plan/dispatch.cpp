// Dispatch keys (DispatchKey): per Enum, Bool or String input attribute that guards of a
// rule set compare with constants, and per value of it, the bitset of the rules that can
// still match. A decision ANDs the rows of the input's values before walking any rule.
#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "plan/build.h"

namespace pave::rt {
namespace {

// Whether a guard that survives a dispatch key's bitset is true, not merely undecided,
// when the input's value is one the key names: fastCompare gives a definite answer for
// these forms on Enum, Bool and String values.
bool decidedByKey(const FastTest& t, Kind keyKind) {
  if (t.form == FastTest::Form::Load) return keyKind == Kind::Bool;
  if (t.form != FastTest::Form::Compare || t.size || t.guarded) return false;
  switch (t.op) {
    case Op::EQ:
    case Op::NE:
    case Op::IN_SET:
    case Op::LIKE:
    case Op::STARTS_WITH:
    case Op::ENDS_WITH:
    case Op::CONTAINS_STR: return true;
    default: return false;
  }
}

bool sameKey(const DispatchKey& key, const FastTest& t) {
  return key.root == t.root && key.slot == t.slot && key.entry == t.entry && key.entryKey == t.entryKey;
}

constexpr size_t kMaxDispatchKeys = 8;  // Conjunct::keyBit is a byte

}  // namespace

// Dispatch keys of one rule list (see DispatchKey): per Enum, Bool or String attribute
// (or map entry) that some guard tests, the rules each of its values leaves.
void buildDispatch(const PlanContext& ctx, uint32_t pt, RuleSet& set) {
  const size_t n = set.rules.size();
  set.words = uint32_t((n + 63) / 64);
  set.lastMask = n % 64 ? (uint64_t(1) << (n % 64)) - 1 : ~uint64_t(0);
  if (n == 0) return;
  struct Candidate {
    DispatchKey key;
    std::vector<std::vector<const FastTest*>> guards;  // per rule, its guards on the key
    size_t pruned = 0;                                 // rules left out, summed over values
    uint32_t enumIndex = 0;
  };
  std::vector<Candidate> cands;
  for (size_t k = 0; k < n; ++k) {
    for (const Conjunct& g : set.rules[k].guards) {
      const FastTest& t = ctx.plan.fns[g.fn].fast;
      if (t.form != FastTest::Form::Compare && t.form != FastTest::Form::Load) continue;
      if (t.size || t.guarded) continue;  // not a test of the attribute's value alone
      const TypeDesc* type = attrType(ctx, t, pt);
      if (!type || (type->kind != TypeKind::Enum && type->kind != TypeKind::Bool && type->kind != TypeKind::String))
        continue;
      auto it = std::find_if(cands.begin(), cands.end(), [&](const Candidate& c) { return sameKey(c.key, t); });
      if (it == cands.end()) {
        Candidate c;
        c.key.root = t.root;
        c.key.slot = t.slot;
        c.key.entry = t.entry;
        c.key.entryKey = t.entryKey;
        c.key.kind = kindOf(type->kind);
        c.enumIndex = type->kind == TypeKind::Enum ? type->enumIndex : 0;
        c.key.values = type->kind == TypeKind::Enum   ? uint32_t(ctx.model.schema.enums[type->enumIndex].members.size())
                       : type->kind == TypeKind::Bool ? 2
                                                      : 0;
        c.guards.resize(n);
        cands.push_back(std::move(c));
        it = cands.end() - 1;
      }
      it->guards[k].push_back(&t);
    }
  }
  for (Candidate& c : cands) {
    DispatchKey& key = c.key;
    std::vector<Value> values;
    if (key.kind == Kind::String) {
      // The string constants the guards name; any other string is the last row.
      std::unordered_map<std::string_view, int32_t> named;
      std::vector<std::pair<std::string_view, int32_t>> entries;
      auto name = [&](std::string_view str) {
        if (named.emplace(str, int32_t(entries.size())).second) entries.emplace_back(str, int32_t(entries.size()));
      };
      for (const auto& gs : c.guards)
        for (const FastTest* g : gs) {
          if (g->form != FastTest::Form::Compare) continue;
          if (g->k.kind == Kind::String && (g->op == Op::EQ || g->op == Op::NE)) name(g->k.str());
          if (g->k.kind == Kind::Set && g->op == Op::IN_SET)
            for (uint32_t e = 0; e < g->k.n; ++e)
              if (g->k.elems[e].kind == Kind::String) name(g->k.elems[e].str());
        }
      key.strings = NameTable(entries);
      key.values = uint32_t(entries.size());
      for (const auto& entry : entries) values.push_back(Value::string(entry.first));
    } else {
      for (uint32_t v = 0; v < key.values; ++v)
        values.push_back(key.kind == Kind::Bool ? Value::boolean(v != 0) : Value::enumMember(c.enumIndex, v));
    }
    const uint32_t rows = key.values + (key.kind == Kind::String ? 1 : 0);
    key.bits.assign(size_t(rows) * set.words, 0);
    for (uint32_t v = 0; v < rows; ++v) {
      uint64_t* row = key.bits.data() + size_t(v) * set.words;
      for (size_t k = 0; k < n; ++k) {
        bool canHold = true;
        for (const FastTest* g : c.guards[k]) {
          if (v < key.values) {
            canHold &= fastCompare(*g, values[v]) != Truth::False;
          } else {
            // A string no guard names: EQ and IN_SET (their constants are all named) fail.
            canHold &= !(g->form == FastTest::Form::Compare && !g->negate && (g->op == Op::EQ || g->op == Op::IN_SET));
          }
        }
        if (canHold) row[k / 64] |= uint64_t(1) << (k % 64);
      }
      for (uint32_t w = 0; w < set.words; ++w) {
        uint64_t full = w + 1 == set.words ? set.lastMask : ~uint64_t(0);
        c.pruned += size_t(__builtin_popcountll(full & ~row[w]));
      }
    }
    c.pruned = rows ? c.pruned / rows : 0;  // rules left out by an average value
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& x, const Candidate& y) { return x.pruned > y.pruned; });
  for (Candidate& c : cands)
    if (c.pruned > 0 && set.keys.size() < kMaxDispatchKeys) set.keys.push_back(std::move(c.key));
  // The guards each key decides (see Conjunct::key).
  for (RuleUse& use : set.rules)
    for (Conjunct& g : use.guards) {
      const FastTest& t = ctx.plan.fns[g.fn].fast;
      for (uint32_t k = 0; k < set.keys.size(); ++k)
        if (sameKey(set.keys[k], t) && attrType(ctx, t, pt) && decidedByKey(t, set.keys[k].kind)) {
          g.keyBit = uint8_t(1u << k);
          break;
        }
    }
}

}  // namespace pave::rt
