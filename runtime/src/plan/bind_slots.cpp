// Bind slots (detail::BindSlot, BindObject): how binding without JSON (InputBuilder) checks
// and stores each attribute of the principal, request and context objects, and which slots
// it tracks in a presence mask.
#include <algorithm>

#include "plan/build.h"

namespace pave::rt {
namespace {

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
      b.enumIndex = d.enumIndex;
      b.enumMax = s.enums[d.enumIndex].members.size() - 1;  // an enum has at least one member
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
  for (uint32_t slot : o.required) o.requiredMask |= bit(slot);
}

}  // namespace

void bindPrincipalsAndContext(const Schema& s, DecisionPlan& plan) {
  for (const PrincipalType& pt : s.principals) {
    BindObject& o = plan.principalBind.emplace_back();
    for (uint32_t a = 0; a < pt.attrs.size(); ++a) {
      o.slots.push_back(bindSlot(s, pt.attrs[a].type));
      if (!pt.attrs[a].optional) o.required.push_back(a);
    }
    o.end = uint32_t(pt.attrs.size());
    trackPresence(o);
  }
  for (uint32_t a = 0; a < s.context.size(); ++a) {
    plan.contextBind.slots.push_back(bindSlot(s, s.context[a].type));
    if (!s.context[a].optional) plan.contextBind.required.push_back(a);
  }
  plan.contextBind.end = uint32_t(s.context.size());
  trackPresence(plan.contextBind);
}

void bindRequest(const Schema& s, const RequestType& rt, BindObject& o, uint32_t& maxRequestSlot) {
  for (const RequestAttr& a : rt.attrs) {
    maxRequestSlot = std::max(maxRequestSlot, a.slot + 1);
    if (o.slots.size() <= a.slot) o.slots.resize(a.slot + 1);
    o.slots[a.slot] = bindSlot(s, s.requestSlots[a.slot].type);
    o.first = o.end == 0 ? a.slot : std::min(o.first, a.slot);
    o.end = std::max(o.end, a.slot + 1);
    if (!a.optional) o.required.push_back(a.slot);
  }
  trackPresence(o);
}

}  // namespace pave::rt
