// Loading: header and section directory, digest, signature, decoding, verification, and
// the indexes a decision needs (per request type: the applicable rules, sorted by name).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "bundle_reader.h"
#include "bytes.h"
#include "crypto.h"
#include "program.h"

namespace pave::rt {

bool checkPublicKeys(std::string_view pem, size_t* count, std::string* error) {
  return ed25519ReadPublicKeys(pem, count, error);
}

namespace {

const char* sectionName(uint32_t id) {
  switch (id) {
    case kSecStrings: return "strings";
    case kSecSchema: return "schema";
    case kSecRules: return "rules";
    case kSecCode: return "code";
    case kSecSourceMap: return "source map";
    case kSecMeta: return "metadata";
    case kSecData: return "data";
  }
  return "?";
}

bool readContainer(std::span<const uint8_t> bytes, const LoadOptions& opts, LoadedBundle::Impl& impl,
                   std::string* error) {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  ByteReader hr(bytes.data(), bytes.size());
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, 4) != 0) return fail("not a Pave bundle (bad magic)");
  hr.bytes(4);
  uint16_t major = hr.u16(), minor = hr.u16();
  if (major != kFormatMajor || minor > kFormatMinor)
    return fail("unsupported bundle format " + std::to_string(major) + "." + std::to_string(minor));
  uint32_t flags = hr.u32(), count = hr.u32();
  if (flags & ~kFlagSigned) return fail("unknown header flags");
  if (count > 16 || bytes.size() < kHeaderSize + count * kDirEntrySize) return fail("truncated section directory");
  struct Entry { uint32_t id, offset, size; };
  std::vector<Entry> dir(count);
  uint64_t expect = kHeaderSize + uint64_t(count) * kDirEntrySize;
  uint32_t last_id = 0;
  for (Entry& e : dir) {
    e = {hr.u32(), hr.u32(), hr.u32()};
    if (e.id <= last_id || e.id > kSecData) return fail("invalid section directory");
    if (e.offset != expect || uint64_t(e.offset) + e.size > bytes.size()) return fail("section out of bounds");
    expect += e.size;
    last_id = e.id;
  }
  impl.is_signed = flags & kFlagSigned;
  impl.format_minor = minor;
  size_t content = size_t(expect);
  size_t total = content + kDigestSize + (impl.is_signed ? kSignatureSize : 0);
  if (bytes.size() != total) return fail(bytes.size() < total ? "truncated bundle" : "trailing bytes after the bundle");
  impl.digest = sha256(bytes.data(), content);
  if (std::memcmp(impl.digest.data(), bytes.data() + content, kDigestSize) != 0) return fail("digest mismatch");
  impl.digest_hex = toHex(impl.digest.data(), impl.digest.size());
  if (!opts.public_keys_pem.empty()) {
    // A configured key is never "no key": each must be a valid Ed25519 public key, checked
    // before anything else so that a bad key is reported as such whatever the bundle.
    std::string why;
    for (size_t i = 0; i < opts.public_keys_pem.size(); ++i)
      if (!ed25519ReadPublicKeys(opts.public_keys_pem[i], nullptr, &why))
        return fail(opts.public_keys_pem.size() == 1 ? why : "key text " + std::to_string(i + 1) + ": " + why);
    if (!impl.is_signed) return fail("the bundle is not signed");
    if (!ed25519Verify(opts.public_keys_pem, impl.digest.data(), kDigestSize, bytes.data() + content + kDigestSize, &why,
                       &impl.signer_key_hex))
      return fail(why);
  }
  for (uint32_t need : {kSecStrings, kSecSchema, kSecRules, kSecCode, kSecMeta})
    if (std::none_of(dir.begin(), dir.end(), [&](const Entry& e) { return e.id == need; }))
      return fail(std::string("missing section: ") + sectionName(need));
  for (const Entry& e : dir) {
    std::string why;
    if (!decodeSection(e.id, bytes.data() + e.offset, e.size, minor, impl.model, &why))
      return fail(std::string(sectionName(e.id)) + " section: " + why);
    impl.section_sizes.emplace_back(sectionName(e.id), e.size);
  }
  impl.file_size = bytes.size();
  return true;
}

void addName(TypeNames& names, std::string_view qualified, int32_t index) {
  names.qualified[qualified] = index;
  size_t dot = qualified.rfind('.');
  std::string_view short_name = dot == std::string_view::npos ? qualified : qualified.substr(dot + 1);
  auto [it, added] = names.short_names.emplace(short_name, index);
  if (!added) it->second = -1;  // ambiguous short name
}

// The type of the value a fast test reads for principal type `pt`: the attribute's, or for
// a test on a map entry, the map's value type.
const TypeDesc* attrType(const LoadedBundle::Impl& impl, const FastTest& t, uint32_t pt) {
  const Schema& s = impl.model.schema;
  TypeId type = kNone;
  switch (t.root) {
    case FastTest::Root::Principal:
      if (t.ptype == pt && t.slot < s.principals[pt].attrs.size()) type = s.principals[pt].attrs[t.slot].type;
      break;
    case FastTest::Root::Request:
      if (t.slot < s.request_slots.size()) type = s.request_slots[t.slot].type;
      break;
    case FastTest::Root::Context:
      if (t.slot < s.context.size()) type = s.context[t.slot].type;
      break;
  }
  if (type == kNone) return nullptr;
  if (!t.entry) return &s.types[type];
  return s.types[type].kind == TypeKind::Map ? &s.types[s.types[type].elem] : nullptr;
}

// Whether a guard that survives a dispatch key's bitset is true, not merely undecided,
// when the input's value is one the key names: fastCompare gives a definite answer for
// these forms on Enum, Bool and String values.
bool decidedByKey(const FastTest& t, Kind key_kind) {
  if (t.form == FastTest::Form::Load) return key_kind == Kind::Bool;
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
  return key.root == t.root && key.slot == t.slot && key.entry == t.entry && key.entry_key == t.entry_key;
}

constexpr size_t kMaxDispatchKeys = 8;  // Conjunct::key_bit is a byte

// Dispatch keys of one rule list (see DispatchKey): per Enum, Bool or String attribute
// (or map entry) that some guard tests, the rules each of its values leaves.
void buildDispatch(const LoadedBundle::Impl& impl, uint32_t pt, RuleSet& set) {
  const size_t n = set.rules.size();
  set.words = uint32_t((n + 63) / 64);
  set.last_mask = n % 64 ? (uint64_t(1) << (n % 64)) - 1 : ~uint64_t(0);
  if (n == 0) return;
  struct Candidate {
    DispatchKey key;
    std::vector<std::vector<const FastTest*>> guards;  // per rule, its guards on the key
    size_t pruned = 0;                                 // rules left out, summed over values
    uint32_t enum_index = 0;
  };
  std::vector<Candidate> cands;
  for (size_t k = 0; k < n; ++k) {
    for (const Conjunct& g : set.rules[k].guards) {
      const FastTest& t = impl.fns[g.fn].fast;
      if (t.form != FastTest::Form::Compare && t.form != FastTest::Form::Load) continue;
      if (t.size || t.guarded) continue;  // not a test of the attribute's value alone
      const TypeDesc* type = attrType(impl, t, pt);
      if (!type || (type->kind != TypeKind::Enum && type->kind != TypeKind::Bool && type->kind != TypeKind::String))
        continue;
      auto it = std::find_if(cands.begin(), cands.end(), [&](const Candidate& c) { return sameKey(c.key, t); });
      if (it == cands.end()) {
        Candidate c;
        c.key.root = t.root;
        c.key.slot = t.slot;
        c.key.entry = t.entry;
        c.key.entry_key = t.entry_key;
        c.key.kind = kindOf(type->kind);
        c.enum_index = type->kind == TypeKind::Enum ? type->enum_index : 0;
        c.key.values = type->kind == TypeKind::Enum ? uint32_t(impl.model.schema.enums[type->enum_index].members.size())
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
        values.push_back(key.kind == Kind::Bool ? Value::boolean(v != 0) : Value::enumMember(c.enum_index, v));
    }
    const uint32_t rows = key.values + (key.kind == Kind::String ? 1 : 0);
    key.bits.assign(size_t(rows) * set.words, 0);
    for (uint32_t v = 0; v < rows; ++v) {
      uint64_t* row = key.bits.data() + size_t(v) * set.words;
      for (size_t k = 0; k < n; ++k) {
        bool can_hold = true;
        for (const FastTest* g : c.guards[k]) {
          if (v < key.values) {
            can_hold &= fastCompare(*g, values[v]) != 0;
          } else {
            // A string no guard names: EQ and IN_SET (their constants are all named) fail.
            can_hold &= !(g->form == FastTest::Form::Compare && !g->negate && (g->op == Op::EQ || g->op == Op::IN_SET));
          }
        }
        if (can_hold) row[k / 64] |= uint64_t(1) << (k % 64);
      }
      for (uint32_t w = 0; w < set.words; ++w) {
        uint64_t full = w + 1 == set.words ? set.last_mask : ~uint64_t(0);
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
      const FastTest& t = impl.fns[g.fn].fast;
      for (uint32_t k = 0; k < set.keys.size(); ++k)
        if (sameKey(set.keys[k], t) && attrType(impl, t, pt) && decidedByKey(t, set.keys[k].kind)) {
          g.key_bit = uint8_t(1u << k);
          break;
        }
    }
}

// Rules of a set whose conjuncts are the same (RuleUse::share): the functions are
// interned, so the same functions in the same order, with the same dispatch keys deciding
// them, give the same result for any input. Such rules also have the same bits in every
// dispatch key, so a decision walks the first whenever it walks a later one.
void shareResults(RuleSet& set) {
  auto key = [](const RuleUse& use) {
    std::vector<uint64_t> k;
    for (const Conjunct& c : use.guards) k.push_back(uint64_t(c.fn) << 32 | uint64_t(c.index) << 8 | c.key_bit);
    k.push_back(~uint64_t(0));  // guards, then the others
    for (const Conjunct& c : use.others) k.push_back(uint64_t(c.fn) << 32 | uint64_t(c.index) << 8);
    return k;
  };
  std::map<std::vector<uint64_t>, uint32_t> first;
  for (uint32_t pos = 0; pos < set.rules.size(); ++pos) {
    auto [it, inserted] = first.emplace(key(set.rules[pos]), pos);
    if (inserted) continue;
    set.rules[pos].share = RuleUse::Share::Follows;
    set.rules[pos].same_as = it->second;
    set.rules[it->second].share = RuleUse::Share::Leads;
    set.rules[it->second].same_as = it->second;
    set.shares = true;
  }
  for (RuleUse& use : set.rules) {
    if (use.share == RuleUse::Share::Leads) {
      use.followers = uint32_t(set.followers.size());
      set.followers.resize(set.followers.size() + set.words);
    } else if (use.share == RuleUse::Share::Follows) {
      const uint32_t pos = uint32_t(&use - set.rules.data());
      set.followers[set.rules[use.same_as].followers + pos / 64] |= uint64_t(1) << (pos % 64);
    }
  }
}

// The bitsets of a walk by bitsets (RuleSet::by_bits, decided, key_needs, of), made for
// the sets that walk so.
void indexEffects(RuleSet& set) {
  const size_t words = set.words;
  set.decided.assign(words, 0);
  set.key_needs.assign(set.keys.size() * words, 0);
  set.of.assign(RuleSet::kOfCount * words, 0);
  set.rule_ids.clear();
  for (uint32_t pos = 0; pos < set.rules.size(); ++pos) {
    const RuleUse& use = set.rules[pos];
    const uint64_t bit = uint64_t(1) << (pos % 64);
    const size_t w = pos / 64;
    set.rule_ids.push_back(use.rule);
    auto mark = [&](RuleSet::Of which) { set.of[size_t(which) * words + w] |= bit; };
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
                         std::all_of(use.guards.begin(), use.guards.end(), [](const Conjunct& g) { return g.key_bit; });
    if (!decided) continue;
    set.decided[w] |= bit;
    set.by_bits = true;
    for (const Conjunct& g : use.guards) {
      const uint32_t k = uint32_t(__builtin_ctz(g.key_bit));
      set.key_needs[k * words + w] |= bit;
      set.keys_needed |= uint32_t(g.key_bit);
    }
  }
  set.by_bits |= set.shares;
  if (!set.by_bits) {  // walked one rule at a time: none of it is read
    set.decided.clear(), set.key_needs.clear(), set.of.clear(), set.rule_ids.clear();
    set.keys_needed = 0;
  }
}

// Grants by bitsets (RuleSet::grants_by_bits), for the sets walked by bitsets where every
// contributing rule names constant approvers (if any) and assigns constants or attributes
// every valid input has (never an error): the rules that assign each grant, and where.
void indexGrants(const Schema& s, const RequestType& rt, RuleSet& set) {
  set.grants_by_bits = false;
  if (!set.by_bits) return;
  // The tables take 16 bytes per grant and rule and 32 per rule: a set with more than
  // RuleSet::kMaxGrantTable of those entries (about 1 MB) takes its grants rule by rule.
  if ((rt.grants.size() + 2) * set.rules.size() > RuleSet::kMaxGrantTable) return;
  auto required = [&](const RuleUse::Grant& g) {
    switch (g.form) {
      case RuleUse::Grant::Form::Constant: return true;
      case RuleUse::Grant::Form::Load:
        if (g.root == uint8_t(FastTest::Root::Context)) return g.slot < s.context.size() && !s.context[g.slot].optional;
        if (g.root != uint8_t(FastTest::Root::Request)) return false;
        return std::any_of(rt.attrs.begin(), rt.attrs.end(),
                           [&](const RequestAttr& a) { return a.slot == g.slot && !a.optional; });
      case RuleUse::Grant::Form::Run: return false;
    }
    return false;
  };
  for (const RuleUse& use : set.rules) {
    if (!use.contributes) continue;
    if (use.effect == Effect::Approve && !use.approvers_const) return;
    for (size_t i = 0; i < use.grants.size(); ++i) {
      const RuleUse::Grant& g = use.grants[i];  // sorted by grant: one value per grant
      if (g.grant >= rt.grants.size() || !required(g) || (i > 0 && use.grants[i - 1].grant == g.grant)) return;
    }
  }
  const size_t grants = rt.grants.size(), n = set.rules.size();
  set.grant_rules.assign(grants * set.words, 0);
  set.grant_src.assign(grants * n, {});
  set.grant_pool.clear();
  set.approval_at.assign(n, {});
  for (const RuleUse& use : set.rules)
    for (const RuleUse::Grant& g : use.grants)
      if (use.contributes && g.form == RuleUse::Grant::Form::Constant) set.grant_pool.push_back(g.k);
  const Value* k = set.grant_pool.data();  // not resized below: pointers stay valid
  for (uint32_t pos = 0; pos < n; ++pos) {
    const RuleUse& use = set.rules[pos];
    if (!use.contributes) continue;
    if (use.effect == Effect::Approve) set.approval_at[pos] = {use.rule, use.groups, use.quorum};
    for (const RuleUse::Grant& g : use.grants) {
      set.grant_rules[size_t(g.grant) * set.words + pos / 64] |= uint64_t(1) << (pos % 64);
      RuleSet::GrantSource& src = set.grant_src[size_t(g.grant) * n + pos];
      if (g.form == RuleUse::Grant::Form::Constant)
        src.k = k++;
      else
        src.root = g.root, src.slot = g.slot;
    }
  }
  set.grants_by_bits = true;
}

// The probe of a guard in the rule set of principal type `pt` (see GuardProbe).
void specializeGuard(const LoadedBundle::Impl& impl, uint32_t pt, Conjunct& c) {
  const FastTest& t = impl.fns[c.fn].fast;
  const TypeDesc* type = attrType(impl, t, pt);
  if (t.entry || !type || (t.root == FastTest::Root::Request && t.slot >= impl.max_request_slot)) return;
  c.root = uint8_t(t.root);
  c.slot = t.slot;
  c.negate = t.negate;
  if (t.form == FastTest::Form::Compare && t.size) {
    c.k = t.k;
    c.cmp = t.op;
    c.guarded = t.guarded;
    c.probe = GuardProbe::Size;
    return;
  }
  if (t.guarded) return;  // others are left to the fast test
  if (t.form == FastTest::Form::Has) {
    c.probe = GuardProbe::Has;
    return;
  }
  if (t.form == FastTest::Form::Load) {
    if (type->kind == TypeKind::Bool) c.probe = GuardProbe::Bool;
    return;
  }
  if (t.form != FastTest::Form::Compare) return;
  const Value& k = t.k;
  const bool int_like = k.kind == Kind::Int || k.kind == Kind::Duration || k.kind == Kind::Timestamp;
  switch (t.op) {
    case Op::EQ:
    case Op::NE:
      c.negate = t.negate != (t.op == Op::NE);
      c.k = k;
      c.probe = k.kind == Kind::Enum     ? GuardProbe::EnumEq
                : k.kind == Kind::String ? GuardProbe::StrEq
                : int_like || k.kind == Kind::Bool ? GuardProbe::Eq
                                                   : GuardProbe::Generic;
      return;
    case Op::IN_SET: {
      if (type->kind != TypeKind::Enum) return;
      uint64_t mask = 0;
      for (uint32_t e = 0; e < k.n; ++e) {
        const Value& m = k.elems[e];
        if (m.kind != Kind::Enum || m.n != type->enum_index || uint64_t(m.i) >= 64) return;
        mask |= uint64_t(1) << m.i;
      }
      c.k = Value::enumMember(type->enum_index, int64_t(mask));
      c.probe = GuardProbe::EnumIn;
      return;
    }
    case Op::IN_MAP:
      if (k.kind != Kind::String) return;
      c.k = k;
      c.probe = GuardProbe::MapHas;
      return;
    case Op::STARTS_WITH:
    case Op::ENDS_WITH:
    case Op::CONTAINS_STR:  // `like "p*"`, `like "*s"`, `like "*x*"` too (recognizeFastTest)
      if (k.kind != Kind::String) return;
      c.k = k;
      c.probe = t.op == Op::STARTS_WITH ? GuardProbe::StrPrefix
                : t.op == Op::ENDS_WITH ? GuardProbe::StrSuffix
                                        : GuardProbe::StrContains;
      return;
    case Op::LT:
    case Op::LE:
    case Op::GT:
    case Op::GE:
      if (!int_like) return;
      c.k = k;
      c.probe = GuardProbe(uint8_t(GuardProbe::Lt) + (uint8_t(t.op) - uint8_t(Op::LT)));
      return;
    default: return;
  }
}

BindSlot bindSlot(const Schema& s, TypeId t) {
  const TypeDesc& d = s.types[t];
  BindSlot b;
  b.type = t;
  b.kind = kindOf(d.kind);
  switch (d.kind) {
    case TypeKind::Int:
    case TypeKind::String:
    case TypeKind::Duration:
    case TypeKind::Timestamp: b.check = BindSlot::Check::Kind; break;
    case TypeKind::Bool:
      b.check = BindSlot::Check::Bool;
      break;
    case TypeKind::Enum:
      b.check = BindSlot::Check::Enum;
      b.enum_index = d.enum_index;
      b.enum_max = s.enums[d.enum_index].members.size() - 1;  // an enum has at least one member
      break;
    case TypeKind::Ip:
    case TypeKind::Cidr: b.check = BindSlot::Check::Address; break;
    case TypeKind::Set:
      b.check = s.types[d.elem].kind == TypeKind::String ? BindSlot::Check::StringSet : BindSlot::Check::Full;
      break;
    case TypeKind::Map:
      b.check = s.types[d.elem].kind == TypeKind::String ? BindSlot::Check::StringMap : BindSlot::Check::Full;
      break;
    case TypeKind::Record: b.check = BindSlot::Check::Full; break;  // never an input attribute type
  }
  return b;
}

// Tracks which attributes binding sets when the object's range spans at most 64 slots
// (see BindObject).
void trackPresence(BindObject& o) {
  o.count = uint32_t(o.slots.size());
  const uint32_t span = o.end - o.first;
  o.tracked = span <= 64;
  if (!o.tracked) return;
  auto bit = [&](uint32_t slot) { return uint64_t(1) << (slot - o.first); };
  o.all = span == 64 ? ~uint64_t(0) : (uint64_t(1) << span) - 1;
  for (uint32_t slot = o.first; slot < o.end; ++slot) o.slots[slot].bit = bit(slot);
  for (uint32_t slot : o.required) o.required_mask |= bit(slot);
}

// The function `fn` specialized for principal type `pt` (specializeForPrincipal), or `fn`
// itself when nothing folds; made once per pair.
uint32_t specializedFn(LoadedBundle::Impl& impl, uint32_t fn, uint32_t pt) {
  auto [it, added] = impl.specialized.emplace(std::make_pair(fn, pt), fn);
  if (!added) return it->second;
  const Function& f = impl.model.functions[fn];
  std::vector<Instr> code = specializeForPrincipal(f, pt);
  if (code.empty()) return fn;
  Function view{f.num_regs, std::move(code), f.consts};
  CompiledFn c;
  c.consts = impl.fns[fn].consts;
  c.tables = impl.fns[fn].tables;
  c.table_index = impl.fns[fn].table_index;
  c.fast = recognizeFastTest(view, c.consts);
  const bool costly = c.fast.form == FastTest::Form::None || c.fast.form == FastTest::Form::Compare;
  c.memo = impl.fns[fn].memo != kNone && costly ? impl.memo_count++ : kNone;
  impl.specialized_code.push_back(std::move(view.code));
  c.code = impl.specialized_code.back().data();
  c.size = uint32_t(impl.specialized_code.back().size());
  c.num_regs = f.num_regs;
  impl.fns.push_back(std::move(c));
  return it->second = uint32_t(impl.fns.size() - 1);
}

// The conjuncts of a rule in the rule set of principal type `pt`: each specialized for the
// type, those that became `true` dropped, those that became one test moved to the guards.
void specializeConjuncts(LoadedBundle::Impl& impl, uint32_t pt, RuleUse& use) {
  std::vector<Conjunct> all;
  for (const auto* list : {&use.guards, &use.others}) all.insert(all.end(), list->begin(), list->end());
  std::sort(all.begin(), all.end(), [](const Conjunct& x, const Conjunct& y) { return x.index < y.index; });
  use.guards.clear();
  use.others.clear();
  for (Conjunct c : all) {
    c.fn = specializedFn(impl, c.fn, pt);
    const FastTest& t = impl.fns[c.fn].fast;
    if (t.form == FastTest::Form::Constant && t.k.isTrue()) continue;  // holds for this type
    (t.form != FastTest::Form::None ? use.guards : use.others).push_back(c);
  }
}

// A rule as one request type sees it: its conjuncts split into guards and the others, its
// grant assignments for the type, and its approvers when they are constants.
RuleUse ruleUse(const LoadedBundle::Impl& impl, const RequestType& rt, uint32_t r) {
  const Rule& rule = impl.model.rules[r];
  RuleUse use{r, rule.effect, {}, {}, {}, false, {}};
  for (const GrantAssign& g : rule.grants)
    for (uint32_t k = 0; k < rt.grants.size(); ++k)
      if (rt.grants[k].name == g.grant) {
        const FastTest& t = impl.fns[g.function].fast;
        RuleUse::Grant grant;
        grant.grant = k;
        grant.fn = g.function;
        if (t.form == FastTest::Form::Constant) {
          grant.form = RuleUse::Grant::Form::Constant;
          grant.k = t.k;
        } else if (t.form == FastTest::Form::Load && t.root != FastTest::Root::Principal) {
          grant.form = RuleUse::Grant::Form::Load;
          grant.root = uint8_t(t.root);
          grant.slot = t.slot;
        }
        use.grants.push_back(grant);
      }
  std::stable_sort(use.grants.begin(), use.grants.end(), [](auto& x, auto& y) { return x.grant < y.grant; });
  for (uint32_t i = 0; i < rule.conjuncts.size(); ++i) {
    Conjunct c;
    c.index = i;
    c.fn = rule.conjuncts[i];
    (impl.fns[c.fn].fast.form != FastTest::Form::None ? use.guards : use.others).push_back(c);
  }
  use.contributes = rule.effect == Effect::Approve || !use.grants.empty();
  if (rule.effect == Effect::Approve) {
    use.quorum = rule.quorum;
    use.approvers_const = std::all_of(rule.approvers.begin(), rule.approvers.end(), [&](uint32_t fn) {
      const FastTest& t = impl.fns[fn].fast;
      return t.form == FastTest::Form::Constant && t.k.kind == Kind::String;
    });
    if (use.approvers_const) {
      for (uint32_t fn : rule.approvers) use.groups.push_back(impl.fns[fn].fast.k.str());
      std::sort(use.groups.begin(), use.groups.end());
      use.groups.erase(std::unique(use.groups.begin(), use.groups.end()), use.groups.end());
    }
  }
  return use;
}

void buildIndexes(LoadedBundle::Impl& impl) {
  const Bundle& m = impl.model;
  const Schema& s = m.schema;
  // Only the functions rules use are verified (and only they can run): the others are
  // left as they are, neither materialized nor looked at.
  std::vector<bool> used(m.functions.size(), false);
  for (const Rule& r : m.rules) {
    for (uint32_t fn : r.conjuncts) used[fn] = true;
    for (uint32_t fn : r.approvers) used[fn] = true;
    for (const GrantAssign& g : r.grants) used[g.function] = true;
  }
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const Function& f = m.functions[i];
    CompiledFn fn;
    if (used[i]) {
      fn.code = f.code.data();
      fn.size = uint32_t(f.code.size());
      fn.num_regs = f.num_regs;
      for (const Const& c : f.consts) fn.consts.push_back(materialize(impl, c));
      fn.fast = recognizeFastTest(f, fn.consts);
      fn.tables = impl.tables.data();
      fn.table_index = impl.table_index.data();
      impl.max_regs = std::max(impl.max_regs, f.num_regs);
    }
    impl.fns.push_back(std::move(fn));
  }
  // Conjuncts several rules share are memoized, unless their fast test costs no more than
  // looking the memo up.
  std::vector<uint32_t> uses(m.functions.size());
  for (const Rule& r : m.rules)
    for (uint32_t fn : r.conjuncts) ++uses[fn];
  for (uint32_t f = 0; f < m.functions.size(); ++f) {
    FastTest::Form form = impl.fns[f].fast.form;
    if (uses[f] > 1 && (form == FastTest::Form::None || form == FastTest::Form::Compare))
      impl.fns[f].memo = impl.memo_count++;
  }
  impl.rules_by_name.resize(m.rules.size());
  for (uint32_t i = 0; i < m.rules.size(); ++i) impl.rules_by_name[i] = i;
  std::sort(impl.rules_by_name.begin(), impl.rules_by_name.end(),
            [&](uint32_t x, uint32_t y) { return m.strings[m.rules[x].name] < m.strings[m.rules[y].name]; });
  for (const PrincipalType& pt : s.principals) {
    BindObject& o = impl.principal_bind.emplace_back();
    for (uint32_t a = 0; a < pt.attrs.size(); ++a) {
      o.slots.push_back(bindSlot(s, pt.attrs[a].type));
      if (!pt.attrs[a].optional) o.required.push_back(a);
    }
    o.end = uint32_t(pt.attrs.size());
    trackPresence(o);
  }
  for (uint32_t a = 0; a < s.context.size(); ++a) {
    impl.context_bind.slots.push_back(bindSlot(s, s.context[a].type));
    if (!s.context[a].optional) impl.context_bind.required.push_back(a);
  }
  impl.context_bind.end = uint32_t(s.context.size());
  trackPresence(impl.context_bind);

  impl.request_count = uint32_t(s.requests.size());
  impl.principal_count = uint32_t(s.principals.size());
  impl.requests.resize(s.requests.size());
  for (uint32_t t = 0; t < s.requests.size(); ++t) {
    const RequestType& rt = s.requests[t];
    RequestIndex& ri = impl.requests[t];
    ri.allows.assign(s.principals.size(), rt.principals.empty());
    for (uint32_t pt : rt.principals) ri.allows[pt] = 1;
    for (const GrantDecl& g : rt.grants) ri.grant_defaults.push_back(materialize(impl, g.default_value));
    BindObject& o = ri.bind;
    for (const RequestAttr& a : rt.attrs) {
      impl.max_request_slot = std::max(impl.max_request_slot, a.slot + 1);
      if (o.slots.size() <= a.slot) o.slots.resize(a.slot + 1);
      o.slots[a.slot] = bindSlot(s, s.request_slots[a.slot].type);
      o.first = o.end == 0 ? a.slot : std::min(o.first, a.slot);
      o.end = std::max(o.end, a.slot + 1);
      if (!a.optional) o.required.push_back(a.slot);
    }
    trackPresence(o);
    for (uint32_t r : impl.rules_by_name) {
      const Rule& rule = m.rules[r];
      const Rule& targeting = rule.effect == Effect::Exception ? m.rules[rule.lifts] : rule;
      bool applies = targeting.all_targets ||
                     std::find(targeting.targets.begin(), targeting.targets.end(), t) != targeting.targets.end();
      if (!applies) continue;
      ri.has_approve |= rule.effect == Effect::Approve;
      ri.rules.push_back(ruleUse(impl, rt, r));
    }
    ri.by_principal.resize(s.principals.size());
    for (uint32_t pt = 0; pt < s.principals.size(); ++pt) {
      RuleSet& set = ri.by_principal[pt];
      for (const RuleUse& use : ri.rules) {
        bool ruled_out = std::any_of(use.guards.begin(), use.guards.end(), [&](const Conjunct& g) {
          const FastTest& ft = impl.fns[g.fn].fast;
          return ft.form == FastTest::Form::IsPrincipal && ft.ptype != pt;
        });
        if (ruled_out) continue;
        set.rules.push_back(use);
        specializeConjuncts(impl, pt, set.rules.back());  // e.g. `principal is T` holds here
      }
      buildDispatch(impl, pt, set);
      for (RuleUse& use : set.rules)
        for (Conjunct& g : use.guards) specializeGuard(impl, pt, g);
      shareResults(set);
      indexEffects(set);
      indexGrants(s, rt, set);
    }
    addName(impl.request_names, m.strings[rt.name], int32_t(t));
  }
  for (uint32_t p = 0; p < s.principals.size(); ++p) {
    addName(impl.principal_names, m.strings[s.principals[p].name], int32_t(p));
    impl.max_principal_attrs = std::max(impl.max_principal_attrs, uint32_t(s.principals[p].attrs.size()));
  }
  for (uint32_t c = 0; c < s.context.size(); ++c)
    if (m.strings[s.context[c].name] == "time") impl.time_slot = c;
  buildJsonTables(impl);
}

}  // namespace

namespace {
std::atomic<size_t> g_live_bundles{0};
}  // namespace

// Internal, for tests: how many LoadedBundle objects exist in the process.
size_t liveBundleCount() { return g_live_bundles.load(); }

LoadedBundle::LoadedBundle(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { ++g_live_bundles; }
LoadedBundle::~LoadedBundle() { --g_live_bundles; }

std::shared_ptr<const LoadedBundle> LoadedBundle::load(std::span<const uint8_t> bytes, const LoadOptions& opts,
                                                       std::string* error) {
  auto impl = std::make_unique<Impl>();
  if (!readContainer(bytes, opts, *impl, error)) return nullptr;
  std::string why;
  if (!verifyBundle(impl->model, &why) || !materializeTables(*impl, &why)) {
    if (error) *error = "invalid bundle: " + why;
    return nullptr;
  }
  buildIndexes(*impl);
  return std::shared_ptr<const LoadedBundle>(new LoadedBundle(std::move(impl)));
}

std::shared_ptr<const LoadedBundle> LoadedBundle::loadFile(const std::string& path, const LoadOptions& opts,
                                                           std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot open " + path;
    return nullptr;
  }
  // One read of the file's size (a bundle with a large table is tens of megabytes).
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes;
  if (size > 0) {
    bytes.resize(size_t(size));
    in.read(reinterpret_cast<char*>(bytes.data()), size);
  }
  if (size < 0 || !in) {
    if (error) *error = "cannot read " + path;
    return nullptr;
  }
  return load(bytes, opts, error);
}

const Bundle& LoadedBundle::model() const { return impl_->model; }
std::string_view LoadedBundle::digestHex() const { return impl_->digest_hex; }
bool LoadedBundle::isSigned() const { return impl_->is_signed; }
std::string_view LoadedBundle::signerKeyHex() const { return impl_->signer_key_hex; }

int32_t LoadedBundle::findRequestType(std::string_view name) const {
  return impl_->request_names.find(name);
}
int32_t LoadedBundle::findPrincipalType(std::string_view name) const {
  return impl_->principal_names.find(name);
}

}  // namespace pave::rt
