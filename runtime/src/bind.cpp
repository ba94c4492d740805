// Binding without JSON (Decider::bind, InputBuilder, decideBound): the input set slot by
// slot with the checks of the plan's bind slots (plan/bind_slots.cpp), then settled and
// decided.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "bits.h"
#include "decider_state.h"
#include "pave/decision_errors.h"
#include "pave/literals.h"

namespace pave::rt {
using Err = DecisionErrorCode;
namespace {

// Whether an Ip or Cidr has a family, and a Cidr a prefix, in range.
inline bool addressFits(const Value& v) {
  return v.kind == Kind::Ip ? v.family == 4 || v.family == 6
                            : (v.family == 4 && v.prefix <= 32) || (v.family == 6 && v.prefix <= 128);
}

bool fitsScalar(const LoadedBundle::Impl& p, const TypeDesc& t, const Value& v) {
  if (v.kind != kindOf(t.kind)) return false;
  switch (t.kind) {
    case TypeKind::Bool: return v.i == 0 || v.i == 1;
    case TypeKind::Enum:
      return v.n == t.enumIndex && v.i >= 0 && uint64_t(v.i) < p.model.schema.enums[t.enumIndex].members.size();
    case TypeKind::Ip:
    case TypeKind::Cidr: return addressFits(v);
    default: return true;
  }
}

// An Ip or Cidr built by hand may carry leftover bytes past its family's length, a prefix
// on an Ip, or host bits on a Cidr: this stores `v` (which fits) into `out` (not `v`) the
// way the JSON decoder would have made it. The words are masked in registers and stored
// once (a Value taken by value and changed in place went through the stack twice).
[[gnu::always_inline]] inline void storeCanonicalAddr(const Value& v, Value& out) {
  const Kind kind = v.kind;
  const uint8_t family = v.family, prefix = kind == Kind::Cidr ? v.prefix : 0;
  const unsigned keep = kind == Kind::Cidr ? prefix : family == 4 ? 32 : 128;  // bits that count (≤ 128)
  // The 16 bytes as two words, each masked to its first bits (in address order).
  auto masked = [](const uint8_t* at, unsigned bits) {
    uint64_t w;
    std::memcpy(&w, at, 8);
    if (bits >= 64) return w;
    if (bits == 0) return uint64_t(0);
    uint64_t mask = ~uint64_t(0) << (64 - bits);  // the first bits, most significant first
    if constexpr (std::endian::native == std::endian::little) mask = __builtin_bswap64(mask);
    return w & mask;
  };
  const uint64_t w0 = masked(v.ip, keep), w1 = masked(v.ip + 8, keep > 64 ? keep - 64 : 0);
  if (family == 6 && w0 == 0 && keep >= 96) [[unlikely]] {
    uint8_t bytes[16];
    std::memcpy(bytes, &w0, 8);
    std::memcpy(bytes + 8, &w1, 8);
    if (isMappedIp4(bytes)) {  // ::ffff:a.b.c.d is a.b.c.d (SPEC §2.1), as the JSON decoder makes it
      out.kind = kind;
      out.family = 4;
      out.prefix = uint8_t(prefix ? prefix - 96 : 0);
      out.pad = 0;
      out.n = 0;
      std::memset(out.ip, 0, sizeof out.ip);
      std::memcpy(out.ip, bytes + 12, 4);
      return;
    }
  }
  out.kind = kind;
  out.family = family;
  out.prefix = prefix;
  out.pad = 0;
  out.n = 0;
  std::memcpy(out.ip, &w0, 8);
  std::memcpy(out.ip + 8, &w1, 8);
}

bool isAddr(TypeKind k) { return k == TypeKind::Ip || k == TypeKind::Cidr; }

// A bound collection (that fits `type`) as the decider stores it: a set of addresses is
// copied into the arena with each address canonical, and re-sorted (the schema allows
// addresses in sets, not in maps; scalar addresses take InputBuilder::setAddress).
Value canonicalBound(const LoadedBundle::Impl& p, TypeId type, const Value& v, Arena& arena) {
  const auto& types = p.model.schema.types;
  const TypeDesc& t = types[type];
  if (t.kind != TypeKind::Set || !isAddr(types[t.elem].kind)) return v;
  Value* elems = arena.allocArray<Value>(v.n);
  for (uint32_t i = 0; i < v.n; ++i) storeCanonicalAddr(v.elems[i], elems[i]);
  Value out = v;
  out.elems = elems;
  out.n = sortUnique(elems, v.n);
  return out;
}

}  // namespace

bool valueFits(const LoadedBundle::Impl& p, TypeId type, const Value& v) {
  const auto& types = p.model.schema.types;
  const TypeDesc& t = types[type];
  if (t.kind != TypeKind::Set && t.kind != TypeKind::Map) return fitsScalar(p, t, v);
  if (v.kind != kindOf(t.kind) || (v.n && !v.elems)) return false;
  const bool map = t.kind == TypeKind::Map;
  const size_t stride = map ? 2 : 1;
  const TypeDesc& elem = types[t.elem];
  if (elem.kind == TypeKind::String) {  // the common Set<String> and Map<String, String>
    for (uint32_t i = 0; i < v.n; ++i) {
      const Value& key = v.elems[stride * i];
      if (key.kind != Kind::String || (map && v.elems[2 * i + 1].kind != Kind::String)) return false;
      if (i > 0 && compareValues(v.elems[stride * (i - 1)], key) >= 0) return false;
    }
    return true;
  }
  for (uint32_t i = 0; i < v.n; ++i) {
    const Value& key = v.elems[stride * i];
    if (map ? key.kind != Kind::String : !fitsScalar(p, elem, key)) return false;
    if (map && !fitsScalar(p, elem, v.elems[2 * i + 1])) return false;
    if (i > 0 && compareValues(v.elems[stride * (i - 1)], key) >= 0) return false;
  }
  return true;
}

InputBuilder Decider::bind(uint32_t requestType, uint32_t principalType) {
  const auto& p = bundle_->impl();
  State& st = *st_;
  st.scratch.arena.reset();  // only the input: decideBound clears the decision
  if (requestType >= p.plan.requestCount || principalType >= p.plan.principalCount) {
    st.bound = false;
    return InputBuilder(*this);
  }
  st.bound = true;
  st.input.requestType = requestType;
  st.input.principalType = principalType;
  st.decision.requestType = requestType;
  // No attribute set yet. A tracked object's unset slots are cleared by decideBound; an
  // untracked one is cleared here, the whole range (only the kind counts in an absent
  // value; in the request's range, slots of other request types too: no rule of this type
  // reads them).
  auto start = [&](const BindObject& o, std::vector<Value>& values, FastTest::Root root) {
    uint64_t* present = &st.present[size_t(root)];
    *present = 0;
    if (!o.tracked)
      for (uint32_t i = o.first; i < o.end; ++i) values[i].kind = Kind::Absent;
    return detail::BindTarget{o.slots.data(), values.data(), o.count, present};
  };
  return InputBuilder(*this, start(p.plan.principalBind[principalType], st.principal, FastTest::Root::Principal),
                      start(p.plan.requests[requestType].bind, st.request, FastTest::Root::Request),
                      start(p.plan.contextBind, st.context, FastTest::Root::Context));
}

const Decision& Decider::decideBound(bool explain) {
  const auto& p = bundle_->impl();
  State& st = *st_;
  Decision& d = st.decision;
  st.clearDecision(explain);
  if (!st.bound) {
    d.requestType = kNone;
    st.errors.push_back({std::string(errorCode(Err::UnknownRequestType)), "$.type", kNone, "no request type bound"});
    st.publish();
    return d;
  }
  const Schema& s = p.model.schema;
  const RequestType& rt = s.requests[st.input.requestType];
  const PrincipalType& pt = s.principals[st.input.principalType];
  if (!p.plan.requests[st.input.requestType].allows[st.input.principalType])
    st.errors.push_back(
        {std::string(errorCode(Err::PrincipalNotAllowed)), "$.principal.type", kNone, "principal type not allowed"});
  // Clears what binding left unset (tracked objects), and tells whether every required
  // attribute is set.
  auto settle = [](const BindObject& o, uint64_t present, std::vector<Value>& values) {
    if (o.tracked) {
      for (uint64_t unset = o.all & ~present; unset; unset &= unset - 1)
        values[o.first + lowestBit(unset)].kind = Kind::Absent;
      return (o.requiredMask & ~present) == 0;
    }
    for (uint32_t a : o.required)
      if (values[a].kind == Kind::Absent) return false;
    return true;
  };
  // Every object is settled (each clears its own unset slots), whatever the others give.
  const bool requestSet =
      settle(p.plan.requests[st.input.requestType].bind, st.present[size_t(FastTest::Root::Request)], st.request);
  const bool principalSet =
      settle(p.plan.principalBind[st.input.principalType], st.present[size_t(FastTest::Root::Principal)], st.principal);
  const bool contextSet = settle(p.plan.contextBind, st.present[size_t(FastTest::Root::Context)], st.context);
  if (!(requestSet & principalSet & contextSet)) {  // rare: name the missing attributes
    auto missing = [&](const char* root, StrId name) {
      st.errors.push_back({std::string(errorCode(Err::MissingAttribute)),
                           std::string("$.") + root + "." + std::string(p.str(name)), kNone,
                           "missing attribute '" + std::string(p.str(name)) + "'"});
    };
    for (size_t a = 0; a < pt.attrs.size(); ++a)
      if (!pt.attrs[a].optional && st.principal[a].kind == Kind::Absent) missing("principal", pt.attrs[a].name);
    for (const RequestAttr& a : rt.attrs)
      if (!a.optional && st.request[a.slot].kind == Kind::Absent) missing("request", s.requestSlots[a.slot].name);
    for (size_t a = 0; a < s.context.size(); ++a)
      if (!s.context[a].optional && st.context[a].kind == Kind::Absent) missing("context", s.context[a].name);
  }
  if (st.errors.empty()) evaluate(p, st, explain);
  st.publish();
  return d;
}

// ---- InputBuilder ----

// The kinds InputBuilder::set does not store inline: collections must be sorted and
// duplicate-free with elements of their type, and addresses are made canonical. Scalar
// addresses (setAddress) and Set<String> and Map<String, String>, the common collections
// (setStrings), have their own functions; the rest takes the general type check.
namespace {
// Stores `v` field by field (as InputBuilder::set does: `v` was usually built just before)
// and marks the attribute set.
bool storeCollection(const Value& v, Value& out, uint64_t* present, uint64_t bit) {
  out.kind = v.kind;
  out.n = v.n;
  out.elems = v.elems;
  *present |= bit;
  return true;
}

// Whether string `x` sorts before `y` (bytewise), when their first bytes do not decide.
[[gnu::noinline]] bool stringBefore(const Value& x, const Value& y) {
  const uint32_t common = std::min(x.n, y.n);
  const int c = common ? std::memcmp(x.s, y.s, common) : 0;  // "" may have no pointer
  return c < 0 || (c == 0 && x.n < y.n);
}

// storeSortedStrings when some neighbours' first bytes are equal (or a string is empty):
// every element's kind checked, and every neighbour compared in full.
[[gnu::noinline]] bool storeSortedStringsSlow(const detail::BindSlot& b, const Value& v, Value& out,
                                              uint64_t* present) {
  const size_t stride = b.check == detail::BindSlot::Check::StringMap ? 2 : 1;
  const Value* const end = v.elems + stride * v.n;
  for (const Value* x = v.elems; x < end; ++x)
    if (x->kind != Kind::String) return false;
  for (const Value* key = v.elems + stride; key < end; key += stride)
    if (!stringBefore(key[-ptrdiff_t(stride)], *key)) return false;
  return storeCollection(v, out, present, b.bit);
}

// Stores a Set<String> or Map<String, String> value of two or more elements (map: entries)
// if they are strings in sorted order without duplicates. When first bytes decide the
// order (the usual case) it calls nothing; at the first neighbours they do not decide, it
// hands the whole value to storeSortedStringsSlow in a tail call (so it saves no registers).
[[gnu::noinline]] bool storeSortedStrings(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  const bool map = b.check == detail::BindSlot::Check::StringMap;
  const size_t stride = map ? 2 : 1;
  const Value* key = v.elems;
  const Value* const end = key + stride * v.n;
  if (key->kind != Kind::String || (map && key[1].kind != Kind::String)) return false;
  for (const Value* next = key + stride; next < end; key = next, next += stride) {  // sorted: key < next
    if (next->kind != Kind::String || (map && next[1].kind != Kind::String)) return false;
    if (!key->n || !next->n || key->s[0] == next->s[0]) return storeSortedStringsSlow(b, v, out, present);
    if (uint8_t(key->s[0]) > uint8_t(next->s[0])) return false;
  }
  return storeCollection(v, out, present, b.bit);
}
}  // namespace

// Set<String> and Map<String, String>. Collections of at most one element, common in bound
// inputs, are checked here; longer ones in a tail call (so this saves no registers).
bool InputBuilder::setStrings(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  if (v.n && !v.elems) return false;
  if (v.n > 1) return storeSortedStrings(b, v, out, present);
  if (v.n == 1 && (v.elems[0].kind != Kind::String ||
                   (b.check == detail::BindSlot::Check::StringMap && v.elems[1].kind != Kind::String)))
    return false;
  return storeCollection(v, out, present, b.bit);
}

// Ip and Cidr: a family and prefix in range, stored canonical. Calls nothing, so that it
// saves no registers.
bool InputBuilder::setAddress(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  if (!addressFits(v)) return false;
  storeCanonicalAddr(v, out);
  *present |= b.bit;
  return true;
}

// Collections of other elements (the general type check), and values of no attribute.
bool InputBuilder::setChecked(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  if (b.type == kNone || v.kind != b.kind) return false;
  const auto& p = d_.bundle_->impl();
  if (!valueFits(p, b.type, v)) return false;
  out = canonicalBound(p, b.type, v, d_.st_->scratch.arena);
  *present |= b.bit;
  return true;
}

bool InputBuilder::principal(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  if (!d_.st_->bound) return false;
  const auto& attrs = p.model.schema.principals[d_.st_->input.principalType].attrs;
  for (uint32_t a = 0; a < attrs.size(); ++a)
    if (p.str(attrs[a].name) == name) return principal(a, v);
  return false;
}

bool InputBuilder::request(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  if (!d_.st_->bound) return false;
  const Schema& s = p.model.schema;
  for (const RequestAttr& a : s.requests[d_.st_->input.requestType].attrs)
    if (p.str(s.requestSlots[a.slot].name) == name) return request(a.slot, v);
  return false;
}

bool InputBuilder::context(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  const auto& ctx = p.model.schema.context;
  for (uint32_t a = 0; a < ctx.size(); ++a)
    if (p.str(ctx[a].name) == name) return context(a, v);
  return false;
}

Value InputBuilder::makeString(std::string_view s) { return Value::string(d_.st_->scratch.arena.copy(s)); }

Value InputBuilder::makeSet(std::span<const Value> elems) {
  Value* out = d_.st_->scratch.arena.allocArray<Value>(elems.size());
  std::copy(elems.begin(), elems.end(), out);
  return Value::set(out, sortUnique(out, uint32_t(elems.size())));
}

Value InputBuilder::makeMap(std::span<const std::pair<std::string_view, Value>> entries) {
  std::vector<std::pair<std::string_view, Value>> sorted(entries.begin(), entries.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.first < y.first; });
  Value* out = d_.st_->scratch.arena.allocArray<Value>(2 * sorted.size());
  uint32_t n = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (n > 0 && out[2 * (n - 1)].str() == sorted[i].first) continue;  // first value of a key wins
    out[2 * n] = makeString(sorted[i].first);
    out[2 * n + 1] = sorted[i].second;
    ++n;
  }
  return Value::map(out, n);
}

Value InputBuilder::makeEnum(std::string_view enumName, std::string_view member) {
  const auto& p = d_.bundle_->impl();
  const auto& enums = p.model.schema.enums;
  for (uint32_t e = 0; e < enums.size(); ++e) {
    std::string_view name = p.str(enums[e].name);
    if (name != enumName &&
        !(name.ends_with(enumName) && name.size() > enumName.size() && name[name.size() - enumName.size() - 1] == '.'))
      continue;
    for (uint32_t k = 0; k < enums[e].members.size(); ++k)
      if (p.str(enums[e].members[k]) == member) return Value::enumMember(e, k);
  }
  return Value();
}

}  // namespace pave::rt
