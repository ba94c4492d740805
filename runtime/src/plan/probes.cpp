// Probes (GuardProbe): each guard's fast test specialized, per rule set, for the set's
// principal type and the kind of its constant, so that the common guards cost a load, a
// kind check and a compare in the walk (decide.cpp, probe()).
#include "plan/build.h"

namespace pave::rt {

// The probe of a guard in the rule set of principal type `pt` (see GuardProbe).
void specializeGuard(const PlanContext& ctx, uint32_t pt, Conjunct& c) {
  const FastTest& t = ctx.plan.fns[c.fn].fast;
  const TypeDesc* type = attrType(ctx, t, pt);
  if (t.entry || !type || (t.root == FastTest::Root::Request && t.slot >= ctx.plan.maxRequestSlot)) return;
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
  const bool intLike = k.kind == Kind::Int || k.kind == Kind::Duration || k.kind == Kind::Timestamp;
  switch (t.op) {
    case Op::EQ:
    case Op::NE:
      c.negate = t.negate != (t.op == Op::NE);
      c.k = k;
      c.probe = k.kind == Kind::Enum              ? GuardProbe::EnumEq
                : k.kind == Kind::String          ? GuardProbe::StrEq
                : intLike || k.kind == Kind::Bool ? GuardProbe::Eq
                                                  : GuardProbe::Generic;
      return;
    case Op::IN_SET: {
      if (type->kind != TypeKind::Enum) return;
      uint64_t mask = 0;
      for (uint32_t e = 0; e < k.n; ++e) {
        const Value& m = k.elems[e];
        if (m.kind != Kind::Enum || m.n != type->enumIndex || uint64_t(m.i) >= 64) return;
        mask |= uint64_t(1) << m.i;
      }
      c.k = Value::enumMember(type->enumIndex, int64_t(mask));
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
      if (!intLike) return;
      c.k = k;
      c.probe = GuardProbe(uint8_t(GuardProbe::Lt) + (uint8_t(t.op) - uint8_t(Op::LT)));
      return;
    default: return;
  }
}

}  // namespace pave::rt
