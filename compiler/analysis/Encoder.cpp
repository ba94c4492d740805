#include "analysis/Encoder.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include <pave/literals.h>

namespace pave::analysis {

using sema::CExpr;
using sema::CExprId;
using sema::CExprKind;
using sema::ConstValue;
using sema::TypeId;
using sema::TypeKind;

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Timestamps arrive as `YYYY-MM-DDThh:mm:ssZ` (SPEC §2.1): years 0000 to 9999.
int64_t minTimestamp() { return rt::kMinTimestamp; }
int64_t maxTimestamp() { return rt::kMaxTimestamp; }

std::string u128Decimal(unsigned __int128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.insert(s.begin(), char('0' + int(v % 10)));
    v /= 10;
  }
  return s;
}

unsigned __int128 ipBits(const sema::IpValue& ip) {
  unsigned __int128 v = 0;
  int n = ip.v6 ? 16 : 4;
  for (int i = 0; i < n; ++i) v = (v << 8) | ip.bytes[size_t(i)];
  return v;
}

}  // namespace

std::string principalVarName(const sema::CheckedProgram& p, uint32_t principal, std::string_view attr) {
  return "p." + p.principals[principal].name + "." + std::string(attr);
}

Encoder::Encoder(z3::context& ctx, const sema::CheckedProgram& p, sema::RequestId type, const SetBounds& bounds,
                 const TableModels* tables)
    : ctx_(ctx), p_(p), type_(type), req_(p.requests[type.value]), bounds_(bounds), ptype_(ctx.int_const("ptype")),
      tables_(tables) {
  if (!tables_) {
    ownTables_ = defaultTableModels(p);
    tables_ = &ownTables_;
  }
  std::vector<z3::expr> allowed;
  for (sema::PrincipalId pid : req_.principals) allowed.push_back(ptype_ == ctx_.int_val(pid.value));
  domain_.push_back(anyOf(allowed));
}

z3::expr Encoder::anyOf(const std::vector<z3::expr>& v) {
  if (v.empty()) return b(false);
  if (v.size() == 1) return v[0];
  z3::expr_vector ev(ctx_);
  for (const auto& e : v) ev.push_back(e);
  return z3::mk_or(ev);
}

z3::expr Encoder::allOf(const std::vector<z3::expr>& v) {
  if (v.empty()) return b(true);
  if (v.size() == 1) return v[0];
  z3::expr_vector ev(ctx_);
  for (const auto& e : v) ev.push_back(e);
  return z3::mk_and(ev);
}

z3::expr Encoder::str(std::string_view s) {
  longestString_ = std::max(longestString_, s.size());
  stringBytes_ += s.size() + 1;
  // Plain text becomes a string constant; `Z3_mk_lstring` spells every byte as a unit
  // sequence, which the solver handles far more slowly.
  bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '\\'; });
  if (plain) return ctx_.string_val(std::string(s));
  return ctx_.string_val(s.data(), unsigned(s.size()));
}

z3::expr Encoder::inRange(const z3::expr& v) const {
  return v >= ctx_.int_val(kMin) && v <= ctx_.int_val(kMax);
}

z3::expr Encoder::domain() const {
  z3::expr_vector ev(ctx_);
  for (const auto& e : domain_) ev.push_back(e);
  return z3::mk_and(ev);
}

z3::expr Encoder::time() { return input(contextVarName("time"), p_.types.timestamp()).x; }

// ---- variables -----------------------------------------------------------------------------

SymVal Encoder::scalarVar(const std::string& name, TypeId type, std::vector<z3::expr>& dom) {
  const sema::Type& t = p_.types.get(type);
  switch (t.kind) {
    case TypeKind::Bool: return SymVal(ctx_.bool_const(name.c_str()));
    case TypeKind::String: {
      SymVal v(ctx_.string_const(name.c_str()));
      strings_.push_back(v.x);
      return v;
    }
    case TypeKind::Int:
    case TypeKind::Duration:
    case TypeKind::Timestamp:
    case TypeKind::Enum: {
      SymVal v(ctx_.int_const(name.c_str()));
      constrain(v, type, dom);
      return v;
    }
    case TypeKind::Ip:
    case TypeKind::Cidr: {
      SymVal v(ctx_.bv_const(name.c_str(), 128));
      v.v6 = ctx_.bool_const((name + "!6").c_str());
      if (t.kind == TypeKind::Cidr) v.prefix = ctx_.int_const((name + "!len").c_str());
      constrain(v, type, dom);
      return v;
    }
    default: break;
  }
  return SymVal(b(false));
}

void Encoder::constrain(const SymVal& v, TypeId type, std::vector<z3::expr>& dom) {
  const sema::Type& t = p_.types.get(type);
  switch (t.kind) {
    case TypeKind::Int:
    case TypeKind::Duration: dom.push_back(inRange(v.x)); break;
    case TypeKind::Timestamp:
      dom.push_back(v.x >= ctx_.int_val(minTimestamp()) && v.x <= ctx_.int_val(maxTimestamp()));
      break;
    case TypeKind::Enum:
      dom.push_back(v.x >= 0 && v.x < ctx_.int_val(int64_t(p_.enums[t.index].members.size())));
      break;
    case TypeKind::Ip:
    case TypeKind::Cidr: {
      dom.push_back(z3::implies(!*v.v6, v.x.extract(127, 32) == ctx_.bv_val(0, 96)));
      // An IPv4-mapped IPv6 address is decoded as IPv4 (SPEC §2.1): no IPv6 value is one.
      z3::expr mapped = v.x.extract(127, 32) == ctx_.bv_val(0xffff, 96);
      if (t.kind == TypeKind::Ip) dom.push_back(z3::implies(*v.v6, !mapped));
      if (t.kind == TypeKind::Cidr) {
        dom.push_back(z3::implies(*v.v6 && *v.prefix >= 96, !mapped));
        dom.push_back(*v.prefix >= 0 && *v.prefix <= z3::ite(*v.v6, ctx_.int_val(128), ctx_.int_val(32)));
        dom.push_back((v.x & ~cidrMask(*v.v6, *v.prefix)) == ctx_.bv_val(0, 128));
      }
      break;
    }
    default: break;
  }
}

SymVal Encoder::makeVar(const std::string& name, TypeId type, std::vector<z3::expr>& dom) {
  const sema::Type& t = p_.types.get(type);
  if (t.kind != TypeKind::Set && t.kind != TypeKind::Map) return scalarVar(name, type, dom);
  SymVal v(b(false));
  unsigned n = bounds_.of(name);
  bool isMap = t.kind == TypeKind::Map;
  for (unsigned i = 0; i < n; ++i) {
    std::string e = name + "#" + std::to_string(i);
    SymElem el{ctx_.bool_const((e + "?").c_str()), std::nullopt, scalarVar(isMap ? e + "v" : e, t.elem, dom)};
    if (isMap) {
      el.key = ctx_.string_const((e + "k").c_str());
      strings_.push_back(*el.key);
    }
    if (i > 0) dom.push_back(z3::implies(el.present, v.elems.back().present));  // entries fill up in order
    // Duplicate entries stand for one: membership, quantifiers and lookups (the first entry
    // wins) read them as the set or map without duplicates. Only an observed size needs
    // distinct entries, and string disequalities are costly for the solver.
    if (bounds_.distinct.count(name))
      for (const SymElem& prev : v.elems)
        dom.push_back(z3::implies(el.present, isMap ? *prev.key != *el.key : !equal(prev.value, el.value, t.elem)));
    v.elems.push_back(std::move(el));
  }
  return v;
}

const SymVal& Encoder::input(const std::string& base, TypeId type) {
  auto it = vars_.find(base);
  if (it != vars_.end()) return it->second;
  SymVal v = makeVar(base, type, domain_);
  return vars_.emplace(base, std::move(v)).first->second;
}

z3::expr Encoder::present(const std::string& base, bool optional) {
  if (!optional) return b(true);
  auto it = presence_.find(base);
  if (it != presence_.end()) return it->second;
  return presence_.emplace(base, ctx_.bool_const((base + "?").c_str())).first->second;
}

// ---- values --------------------------------------------------------------------------------

SymVal Encoder::literal(const ConstValue& v) {
  switch (v.kind) {
    case ConstValue::Kind::Bool: return SymVal(b(v.i != 0));
    case ConstValue::Kind::Int:
    case ConstValue::Kind::Duration:
    case ConstValue::Kind::Timestamp:
    case ConstValue::Kind::Enum: return SymVal(ctx_.int_val(v.i));
    case ConstValue::Kind::String: return SymVal(str(v.s));
    case ConstValue::Kind::Ip:
    case ConstValue::Kind::Cidr: {
      SymVal s(ctx_.bv_val(u128Decimal(ipBits(v.ip)).c_str(), 128));
      s.v6 = b(v.ip.v6);
      if (v.kind == ConstValue::Kind::Cidr) s.prefix = ctx_.int_val(int(v.ip.prefix));
      return s;
    }
    case ConstValue::Kind::Set: {
      SymVal s(b(false));
      for (const ConstValue& e : v.elems) s.elems.push_back({b(true), std::nullopt, literal(e)});
      return s;
    }
    case ConstValue::Kind::Map: {
      SymVal s(b(false));
      for (const auto& [k, e] : v.entries) s.elems.push_back({b(true), str(k), literal(e)});
      return s;
    }
  }
  return SymVal(b(false));
}

static SymVal zeroOf(z3::context& ctx, const sema::CheckedProgram& p, TypeId type) {
  switch (p.types.kind(type)) {
    case TypeKind::Bool: return SymVal(ctx.bool_val(false));
    case TypeKind::String: return SymVal(ctx.string_val(""));
    case TypeKind::Ip:
    case TypeKind::Cidr: {
      SymVal v(ctx.bv_val(0, 128));
      v.v6 = ctx.bool_val(false);
      if (p.types.kind(type) == TypeKind::Cidr) v.prefix = ctx.int_val(0);
      return v;
    }
    case TypeKind::Set:
    case TypeKind::Map: return SymVal(ctx.bool_val(false));
    default: return SymVal(ctx.int_val(0));
  }
}

z3::expr Encoder::member(const SymVal& x, const SymVal& set, TypeId elemType) {
  std::vector<z3::expr> alts;
  for (const SymElem& e : set.elems) alts.push_back(e.present && equal(x, e.value, elemType));
  return anyOf(alts);
}

z3::expr Encoder::equal(const SymVal& a, const SymVal& bv, TypeId type) {
  const sema::Type& t = p_.types.get(type);
  switch (t.kind) {
    case TypeKind::Ip: return *a.v6 == *bv.v6 && a.x == bv.x;
    case TypeKind::Cidr: return *a.v6 == *bv.v6 && a.x == bv.x && *a.prefix == *bv.prefix;
    case TypeKind::Set: {
      std::vector<z3::expr> all;
      for (const SymElem& e : a.elems) all.push_back(z3::implies(e.present, member(e.value, bv, t.elem)));
      for (const SymElem& e : bv.elems) all.push_back(z3::implies(e.present, member(e.value, a, t.elem)));
      return allOf(all);
    }
    case TypeKind::Map: {
      std::vector<z3::expr> all;
      for (const SymElem& e : a.elems) {
        std::vector<z3::expr> alts;
        for (const SymElem& f : bv.elems) alts.push_back(f.present && *f.key == *e.key && equal(e.value, f.value, t.elem));
        all.push_back(z3::implies(e.present, anyOf(alts)));
      }
      for (const SymElem& f : bv.elems) {
        std::vector<z3::expr> alts;
        for (const SymElem& e : a.elems) alts.push_back(e.present && *e.key == *f.key);
        all.push_back(z3::implies(f.present, anyOf(alts)));
      }
      return allOf(all);
    }
    default: return a.x == bv.x;
  }
}

SymVal Encoder::iteVal(const z3::expr& c, const SymVal& a, const SymVal& bv, TypeId type) {
  const sema::Type& t = p_.types.get(type);
  if (t.kind != TypeKind::Set && t.kind != TypeKind::Map) {
    SymVal v(z3::ite(c, a.x, bv.x));
    if (a.v6) v.v6 = z3::ite(c, *a.v6, *bv.v6);
    if (a.prefix) v.prefix = z3::ite(c, *a.prefix, *bv.prefix);
    return v;
  }
  SymVal v(b(false));
  size_t n = std::max(a.elems.size(), bv.elems.size());
  SymVal zero = zeroOf(ctx_, p_, t.elem);
  for (size_t i = 0; i < n; ++i) {
    const SymElem* x = i < a.elems.size() ? &a.elems[i] : nullptr;
    const SymElem* y = i < bv.elems.size() ? &bv.elems[i] : nullptr;
    SymElem e{z3::ite(c, x ? x->present : b(false), y ? y->present : b(false)), std::nullopt,
              iteVal(c, x ? x->value : zero, y ? y->value : zero, t.elem)};
    if (t.kind == TypeKind::Map) e.key = z3::ite(c, x ? *x->key : str(""), y ? *y->key : str(""));
    v.elems.push_back(std::move(e));
  }
  return v;
}

z3::expr Encoder::cidrMask(const z3::expr& v6, const z3::expr& prefix) {
  z3::expr ones = ctx_.bv_val(u128Decimal(~(unsigned __int128)0).c_str(), 128);
  z3::expr ones32 = ctx_.bv_val(uint64_t(0xffffffffu), 128);
  z3::expr m6 = z3::shl(ones, z3::int2bv(128, ctx_.int_val(128) - prefix));
  z3::expr m4 = z3::shl(ones32, z3::int2bv(128, ctx_.int_val(32) - prefix)) & ones32;
  return z3::ite(v6, m6, m4).simplify();
}

// ---- expressions ---------------------------------------------------------------------------

Sym Encoder::condition(const sema::RuleInfo& rule) {
  std::vector<z3::expr> vals, falses, errs;
  for (const sema::Conjunct& c : rule.condition) {
    Sym s = encode(c.expr);
    vals.push_back(s.v.x);
    falses.push_back(!s.err && !s.v.x);
    errs.push_back(s.err);
  }
  if (vals.empty()) return {SymVal(b(true)), b(false)};
  // CEL `and`: a false conjunct decides; otherwise any error is the result.
  return {SymVal(allOf(vals)), !anyOf(falses) && anyOf(errs)};
}

Sym Encoder::encode(CExprId id) {
  if (quantDepth_ == 0) {
    auto it = memo_.find(id.value);
    if (it != memo_.end()) return it->second;
    Sym s = encodeNode(id);
    memo_.emplace(id.value, s);
    return s;
  }
  return encodeNode(id);
}

Sym Encoder::attr(const CExpr& e) {
  std::string name(p_.str(sema::StrId{e.a}));
  if (e.root() == sema::Root::Request || e.root() == sema::Root::Context) {
    const sema::AttrInfo* a = e.root() == sema::Root::Request ? req_.attr(name) : p_.context.attr(name);
    std::string base = e.root() == sema::Root::Request ? requestVarName(name) : contextVarName(name);
    bool optional = a && a->optional;
    SymVal v = input(base, e.type);
    return {v, optional ? !present(base, true) : b(false)};
  }
  // The attribute of whichever principal type is deciding (as the code generator does).
  std::optional<SymVal> value;
  std::vector<z3::expr> isCandidate, absent;
  for (sema::PrincipalId pid : req_.principals) {
    const sema::AttrInfo* a = p_.principals[pid.value].attr(name);
    if (!a || a->type != e.type) continue;
    std::string base = principalVarName(p_, pid.value, name);
    z3::expr is = ptype_ == ctx_.int_val(pid.value);
    const SymVal& v = input(base, e.type);
    value = value ? iteVal(is, v, *value, e.type) : v;
    isCandidate.push_back(is);
    if (a->optional) absent.push_back(is && !present(base, true));
  }
  if (!value) return {zeroOf(ctx_, p_, e.type), b(true)};
  return {*value, !anyOf(isCandidate) || anyOf(absent)};
}

Sym Encoder::has(const CExpr& e) {
  std::string name(p_.str(sema::StrId{e.a}));
  if (e.root() == sema::Root::Request) return {SymVal(present(requestVarName(name), req_.attr(name)->optional)), b(false)};
  if (e.root() == sema::Root::Context)
    return {SymVal(present(contextVarName(name), p_.context.attr(name)->optional)), b(false)};
  std::vector<z3::expr> alts;
  for (sema::PrincipalId pid : req_.principals) {
    const sema::AttrInfo* a = p_.principals[pid.value].attr(name);
    if (!a || a->type != e.type) continue;
    alts.push_back(ptype_ == ctx_.int_val(pid.value) && present(principalVarName(p_, pid.value, name), a->optional));
  }
  return {SymVal(anyOf(alts)), b(false)};
}

Sym Encoder::logic(CExprId id, bool isAnd) {
  std::vector<z3::expr> vals, decisive, errs;
  for (uint32_t i = 0; i < p_.numChildren(id); ++i) {
    Sym s = encode(p_.child(id, i));
    vals.push_back(s.v.x);
    decisive.push_back(!s.err && (isAnd ? !s.v.x : s.v.x));
    errs.push_back(s.err);
  }
  z3::expr err = !anyOf(decisive) && anyOf(errs);
  return {SymVal(isAnd ? allOf(vals) : anyOf(decisive)), err};
}

Sym Encoder::arith(CExprId id, bool add) {
  Sym l = encode(p_.child(id, 0)), r = encode(p_.child(id, 1));
  z3::expr v = add ? l.v.x + r.v.x : l.v.x - r.v.x;
  // A timestamp exists only in years 0000–9999 (SPEC §4.5): leaving the range is an error.
  z3::expr out = p_.types.kind(p_.expr(id).type) == TypeKind::Timestamp
                     ? v < ctx_.int_val(minTimestamp()) || v > ctx_.int_val(maxTimestamp())
                     : !inRange(v);
  return {SymVal(v), l.err || r.err || out};
}

Sym Encoder::compare(CExprId id) {
  const CExpr& e = p_.expr(id);
  Sym l = encode(p_.child(id, 0)), r = encode(p_.child(id, 1));
  z3::expr err = l.err || r.err;
  const z3::expr& x = l.v.x;
  const z3::expr& y = r.v.x;
  switch (static_cast<ast::CompareOp>(e.op)) {
    case ast::CompareOp::Eq: return {SymVal(equal(l.v, r.v, TypeId{e.b})), err};
    case ast::CompareOp::Ne: return {SymVal(!equal(l.v, r.v, TypeId{e.b})), err};
    case ast::CompareOp::Lt: return {SymVal(x < y), err};
    case ast::CompareOp::Le: return {SymVal(x <= y), err};
    case ast::CompareOp::Gt: return {SymVal(x > y), err};
    case ast::CompareOp::Ge: return {SymVal(x >= y), err};
  }
  return {SymVal(b(false)), err};
}

Sym Encoder::quantifier(CExprId id, bool isAny) {
  const CExpr& q = p_.expr(id);
  Sym set = encode(p_.child(id, 0));
  std::vector<z3::expr> decided, errs;
  if (bound_.size() <= q.a) bound_.resize(q.a + 1);
  ++quantDepth_;
  for (const SymElem& el : set.v.elems) {
    bound_[q.a] = el.value;
    Sym body = encode(p_.child(id, 1));
    decided.push_back(el.present && !body.err && (isAny ? body.v.x : !body.v.x));
    errs.push_back(el.present && body.err);
  }
  --quantDepth_;
  bound_[q.a].reset();
  z3::expr found = anyOf(decided);
  return {SymVal(isAny ? found : !found), set.err || (!found && anyOf(errs))};
}

Sym Encoder::like(CExprId id) {
  Sym s = encode(p_.child(id, 0));
  std::vector<std::string> pieces(1);
  for (char c : p_.str(sema::StrId{p_.expr(id).a})) {
    if (c == '*') pieces.emplace_back();
    else pieces.back() += c == '\x01' ? '*' : c;
  }
  const z3::expr& x = s.v.x;
  if (pieces.size() == 1) return {SymVal(x == str(pieces[0])), s.err};
  if (pieces.size() == 2) {
    if (pieces[1].empty()) return {SymVal(z3::prefixof(str(pieces[0]), x)), s.err};
    if (pieces[0].empty()) return {SymVal(z3::suffixof(str(pieces[1]), x)), s.err};
    size_t len = pieces[0].size() + pieces[1].size();
    z3::expr v = z3::prefixof(str(pieces[0]), x) && z3::suffixof(str(pieces[1]), x) &&
                 x.length() >= ctx_.int_val(int64_t(len));
    return {SymVal(v), s.err};
  }
  if (pieces.size() == 3 && pieces[0].empty() && pieces[2].empty()) return {SymVal(x.contains(str(pieces[1]))), s.err};
  z3::sort ss = ctx_.string_sort();
  z3::sort rs = ctx_.re_sort(ss);
  z3::expr re = z3::to_re(str(pieces[0]));
  for (size_t i = 1; i < pieces.size(); ++i) re = z3::concat(re, z3::concat(z3::re_full(rs), z3::to_re(str(pieces[i]))));
  return {SymVal(z3::in_re(x, re)), s.err};
}

Sym Encoder::mapIndex(CExprId id) {
  Sym m = encode(p_.child(id, 0)), k = encode(p_.child(id, 1));
  TypeId valueType = p_.expr(id).type;
  SymVal v = zeroOf(ctx_, p_, valueType);
  std::vector<z3::expr> found;
  for (auto it = m.v.elems.rbegin(); it != m.v.elems.rend(); ++it) {
    z3::expr hit = it->present && *it->key == k.v.x;
    v = iteVal(hit, it->value, v, valueType);
    found.push_back(hit);
  }
  return {v, m.err || k.err || !anyOf(found)};
}

Sym Encoder::setBuild(CExprId id) {
  SymVal set(b(false));
  std::vector<z3::expr> errs;
  TypeId elemType = p_.types.get(p_.expr(id).type).elem;
  for (uint32_t i = 0; i < p_.numChildren(id); ++i) {
    Sym e = encode(p_.child(id, i));
    errs.push_back(e.err);
    // A later duplicate is absent, so that entries stay distinct.
    std::vector<z3::expr> dup;
    for (const SymElem& prev : set.elems) dup.push_back(equal(prev.value, e.v, elemType));
    set.elems.push_back({!anyOf(dup), std::nullopt, e.v});
  }
  return {set, anyOf(errs)};
}

Sym Encoder::caseFold(CExprId id, bool lower) {
  CExprId arg = p_.child(id, 0);
  Sym s = encode(arg);
  if (p_.expr(arg).kind == CExprKind::Literal) {
    std::string t = p_.constant(sema::ConstId{p_.expr(arg).a}).s;
    for (char& c : t) {
      if (lower && c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      if (!lower && c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    }
    return {SymVal(str(t)), s.err};
  }
  // An abstraction: a function of the string keeping its length. Unsat answers stay proofs;
  // sat answers are confirmed through the VM.
  z3::func_decl f = ctx_.function(lower ? "lower" : "upper", ctx_.string_sort(), ctx_.string_sort());
  z3::expr r = f(s.v.x);
  domain_.push_back(r.length() == s.v.x.length());
  exact_ = false;
  caseFolds_.emplace_back(r, s.v.x);
  return {SymVal(r), s.err};
}

Sym Encoder::timePart(CExprId id) {
  Sym t = encode(p_.child(id, 0));
  z3::expr day = ctx_.int_val(86400);
  z3::expr days = t.v.x / day;
  switch (p_.expr(id).kind) {
    case CExprKind::Hour: return {SymVal(z3::mod(t.v.x, day) / ctx_.int_val(3600)), t.err};
    case CExprKind::Weekday: return {SymVal(z3::mod(days + 3, ctx_.int_val(7)) + 1), t.err};
    default: return {SymVal(days * day), t.err};
  }
}

// ---- tables (SPEC §2.3) --------------------------------------------------------------------

std::string tableVarName(const sema::CheckedProgram& p, uint32_t table, std::string_view attr) {
  return "tbl." + p.tables[table].name + "." + std::string(attr);
}

size_t rowStringBytes(const sema::TableRow& row) {
  std::function<size_t(const ConstValue&)> bytes = [&](const ConstValue& v) -> size_t {
    size_t n = v.s.size() + 1;
    for (const ConstValue& e : v.elems) n += bytes(e);
    for (const auto& [k, e] : v.entries) n += k.size() + 1 + bytes(e);
    return n;
  };
  size_t n = row.key.size() + 1;
  for (const auto& f : row.fields)
    if (f) n += bytes(*f);
  return n;
}

TableModels defaultTableModels(const sema::CheckedProgram& p) {
  TableModels out;
  for (const sema::TableInfo& t : p.tables) {
    TableModel m;
    m.name = "tbl." + t.name;
    if (t.data) {
      m.size = int64_t(t.data->rows.size());
      size_t bytes = 0;
      bool small = t.data->rows.size() <= kExactTableRows;
      for (size_t i = 0; small && i < t.data->rows.size(); ++i) {
        bytes += rowStringBytes(t.data->rows[i]);
        small = bytes <= kExactTableBytes;
      }
      if (small)
        for (const sema::TableRow& row : t.data->rows) m.known.emplace_back(row.key, &row);
      m.closed = small;
    } else {
      m.closed = false;
    }
    out.push_back(std::move(m));
  }
  return out;
}

TableModels sampleTableModels(const sema::CheckedProgram& p, bool* any) {
  TableModels out = defaultTableModels(p);
  if (any) *any = false;
  for (size_t ti = 0; ti < p.tables.size(); ++ti) {
    const sema::TableInfo& t = p.tables[ti];
    TableModel& m = out[ti];
    if (m.closed || !t.data || t.data->rows.empty()) continue;
    // Rows that show every value of the scalar attributes (the first row of each value,
    // the absence of each optional attribute), then rows spread over the key order.
    const auto& rows = t.data->rows;
    std::set<size_t> pick;
    size_t attrs = p.records[t.record.value].attrs.size();
    for (size_t a = 0; a < attrs && pick.size() < kSampleRows / 2; ++a) {
      std::set<std::string> seen;
      for (size_t i = 0; i < rows.size() && seen.size() < 16 && pick.size() < kSampleRows / 2; ++i) {
        const auto& f = rows[i].fields[a];
        if (f && (f->kind == ConstValue::Kind::Set || f->kind == ConstValue::Kind::Map)) break;
        std::string v = f ? p.formatValue(*f) : std::string("\x01");
        if (seen.insert(v).second) pick.insert(i);
      }
    }
    size_t step = std::max<size_t>(1, rows.size() / (kSampleRows - pick.size()));
    for (size_t i = 0; i < rows.size() && pick.size() < kSampleRows; i += step) pick.insert(i);
    m.known.clear();
    size_t bytes = 0;
    for (size_t i : pick) {
      bytes += rowStringBytes(rows[i]);
      if (bytes > kExactTableBytes) break;
      m.known.emplace_back(rows[i].key, &rows[i]);
    }
    m.closed = true;
    m.sample = true;
    if (any) *any = true;
  }
  return out;
}

bool usesTables(const sema::CheckedProgram& p, const sema::RuleInfo& rule) {
  std::function<bool(CExprId)> walk = [&](CExprId id) {
    if (p.expr(id).kind == CExprKind::Table) return true;
    for (uint32_t i = 0; i < p.numChildren(id); ++i)
      if (walk(p.child(id, i))) return true;
    return false;
  };
  for (const sema::Conjunct& c : rule.condition)
    if (walk(c.expr)) return true;
  for (const sema::GrantAssignment& g : rule.grants)
    if (walk(g.value)) return true;
  for (CExprId a : rule.approvers)
    if (walk(a)) return true;
  return false;
}

const Encoder::KnownKeys& Encoder::knownKeys(uint32_t table) {
  auto it = knownKeys_.find(table);
  if (it != knownKeys_.end()) return it->second;
  KnownKeys k;
  for (const auto& [key, row] : model(table).known) k.keys.push_back(str(key));
  return knownKeys_.emplace(table, std::move(k)).first->second;
}

// The position of `key` among the known keys, or -1: a fresh variable tied to the key by
// `idx == i <=> key == known[i]`. Attributes are then chosen by comparing integers, which the
// solver decides far faster than chains of string comparisons.
z3::expr Encoder::keyIndex(uint32_t table, const z3::expr& key) {
  auto id = std::make_pair(table, key.id());
  auto it = index_.find(id);
  if (it != index_.end()) return it->second;
  const std::vector<z3::expr>& keys = knownKeys(table).keys;
  z3::expr idx = ctx_.int_const((model(table).name + "#idx" + std::to_string(key.id())).c_str());
  domain_.push_back(idx >= -1 && idx < ctx_.int_val(int64_t(keys.size())));
  for (size_t i = 0; i < keys.size(); ++i) domain_.push_back((idx == ctx_.int_val(int64_t(i))) == (key == keys[i]));
  return index_.emplace(id, idx).first->second;
}

z3::expr Encoder::ufBool(const std::string& name, const z3::expr& key) {
  z3::func_decl f = ctx_.function(name.c_str(), ctx_.string_sort(), ctx_.bool_sort());
  return f(key);
}

// Any value of the type, as functions of the key: the same key gives the same value.
SymVal Encoder::ufValue(const std::string& name, TypeId type, const z3::expr& key, unsigned slots) {
  const sema::Type& t = p_.types.get(type);
  auto fn = [&](const std::string& n, const z3::sort& range) {
    return ctx_.function(n.c_str(), ctx_.string_sort(), range)(key);
  };
  switch (t.kind) {
    case TypeKind::Bool: return SymVal(fn(name, ctx_.bool_sort()));
    case TypeKind::String: return SymVal(fn(name, ctx_.string_sort()));
    case TypeKind::Int:
    case TypeKind::Duration:
    case TypeKind::Timestamp:
    case TypeKind::Enum: {
      SymVal v(fn(name, ctx_.int_sort()));
      constrain(v, type, domain_);
      return v;
    }
    case TypeKind::Ip:
    case TypeKind::Cidr: {
      SymVal v(fn(name, ctx_.bv_sort(128)));
      v.v6 = fn(name + "!6", ctx_.bool_sort());
      if (t.kind == TypeKind::Cidr) v.prefix = fn(name + "!len", ctx_.int_sort());
      constrain(v, type, domain_);
      return v;
    }
    case TypeKind::Set:
    case TypeKind::Map: {
      bool isMap = t.kind == TypeKind::Map;
      SymVal v(b(false));
      for (unsigned i = 0; i < slots; ++i) {
        std::string e = name + "#" + std::to_string(i);
        SymElem el{fn(e + "?", ctx_.bool_sort()), std::nullopt, ufValue(isMap ? e + "v" : e, t.elem, key, 0)};
        if (isMap) el.key = fn(e + "k", ctx_.string_sort());
        if (i > 0) domain_.push_back(z3::implies(el.present, v.elems.back().present));
        // Distinct entries always: a set or map of the table never repeats one.
        for (const SymElem& prev : v.elems)
          domain_.push_back(z3::implies(el.present, isMap ? *prev.key != *el.key : !equal(prev.value, el.value, t.elem)));
        v.elems.push_back(std::move(el));
      }
      return v;
    }
    default: break;
  }
  return SymVal(b(false));
}

Sym Encoder::tableMember(const CExpr& table, const Sym& key) {
  const TableModel& m = model(table.a);
  if (!m.exact()) abstractTable_ = true;
  if (m.sample) proves_ = false;
  z3::expr idx = keyIndex(table.a, key.v.x);
  z3::expr in = b(false);
  bool allPresent = std::all_of(m.known.begin(), m.known.end(), [](const auto& k) { return k.second != nullptr; });
  if (m.closed && allPresent) {
    in = idx >= 0;
  } else {
    in = m.closed ? b(false) : ufBool(m.name + ".in", key.v.x);
    for (size_t i = m.known.size(); i-- > 0;)
      in = z3::ite(idx == ctx_.int_val(int64_t(i)), b(m.known[i].second != nullptr), in);
  }
  if (!m.closed) {
    // A table with a member has a row.
    z3::expr size = m.size ? ctx_.int_val(*m.size) : ctx_.int_const((m.name + ".size").c_str());
    domain_.push_back(z3::implies(in, size >= 1));
  }
  return {SymVal(in), key.err};
}

Encoder::FieldParts Encoder::tableField(CExprId field) {
  const CExpr& e = p_.expr(field);
  CExprId row = p_.child(field, 0);
  const CExpr& lookup = p_.expr(row);
  if (lookup.kind != CExprKind::MapIndex || p_.expr(p_.child(row, 0)).kind != CExprKind::Table) {
    // Not a shape sema produces: any value, and no proof.
    exact_ = proves_ = false;
    z3::expr err = ctx_.bool_const(("tbl.err#" + std::to_string(field.value)).c_str());
    return {zeroOf(ctx_, p_, e.type), ctx_.bool_const(("tbl.has#" + std::to_string(field.value)).c_str()), err};
  }
  const CExpr& table = p_.expr(p_.child(row, 0));
  const TableModel& m = model(table.a);
  Sym key = encode(p_.child(row, 1));
  Sym member = tableMember(table, key);
  std::string attr(p_.str(sema::StrId{e.a}));
  z3::expr idx = keyIndex(table.a, key.v.x);
  SymVal value = zeroOf(ctx_, p_, e.type);
  z3::expr present = b(true);
  if (!m.closed) {
    value = ufValue(m.name + "." + attr, e.type, key.v.x, bounds_.of(tableVarName(p_, table.a, attr)));
    if (e.optional()) present = ufBool(m.name + "." + attr + "?", key.v.x);
  } else if (e.optional()) {
    present = b(false);
  }
  for (size_t i = m.known.size(); i-- > 0;) {
    const sema::TableRow* r = m.known[i].second;
    const std::optional<ConstValue>* f = r && e.b < r->fields.size() ? &r->fields[e.b] : nullptr;
    bool has = f && f->has_value();
    SymVal v = has ? literal(**f) : zeroOf(ctx_, p_, e.type);
    z3::expr hit = idx == ctx_.int_val(int64_t(i));
    value = iteVal(hit, v, value, e.type);
    if (e.optional()) present = z3::ite(hit, b(has), present);
  }
  return {value, present, !member.v.x || key.err};
}

Sym Encoder::tableSize(const CExpr& table, bool isEmpty) {
  const TableModel& m = model(table.a);
  if (!m.exact()) abstractTable_ = true;
  if (m.sample) proves_ = false;
  z3::expr size = ctx_.int_val(0);
  if (m.size) {
    size = ctx_.int_val(*m.size);
  } else {
    size = ctx_.int_const((m.name + ".size").c_str());
    domain_.push_back(size >= 0 && size <= ctx_.int_val(kMax));
  }
  return {SymVal(isEmpty ? size == 0 : size), b(false)};
}

Sym Encoder::encodeNode(CExprId id) {
  const CExpr& e = p_.expr(id);
  auto kid = [&](uint32_t i) { return encode(p_.child(id, i)); };
  auto boolOf = [&](const z3::expr& v, const z3::expr& err) { return Sym{SymVal(v), err}; };
  TypeId elemOfFirst = e.numChildren ? p_.types.get(p_.expr(p_.child(id, 0)).type).elem : TypeId{};
  switch (e.kind) {
    case CExprKind::Literal: return {literal(p_.constant(sema::ConstId{e.a})), b(false)};
    case CExprKind::Attr: return attr(e);
    case CExprKind::Var:
      if (e.a < bound_.size() && bound_[e.a]) return {*bound_[e.a], b(false)};
      return {zeroOf(ctx_, p_, e.type), b(true)};
    case CExprKind::Has:
      if (p_.expr(p_.child(id, 0)).kind == CExprKind::Field) {
        FieldParts f = tableField(p_.child(id, 0));
        return {SymVal(f.present), f.lookupErr};
      }
      return has(p_.expr(p_.child(id, 0)));
    case CExprKind::IsPrincipal: return boolOf(ptype_ == ctx_.int_val(int64_t(e.a)), b(false));
    case CExprKind::Not: {
      Sym s = kid(0);
      return boolOf(!s.v.x, s.err);
    }
    case CExprKind::Neg: {
      Sym s = kid(0);
      return {SymVal(-s.v.x), s.err || s.v.x == ctx_.int_val(kMin)};
    }
    case CExprKind::And: return logic(id, true);
    case CExprKind::Or: return logic(id, false);
    case CExprKind::Compare: return compare(id);
    case CExprKind::Add: return arith(id, true);
    case CExprKind::Sub: return arith(id, false);
    case CExprKind::Concat: {
      Sym l = kid(0), r = kid(1);
      return {SymVal(z3::concat(l.v.x, r.v.x)), l.err || r.err};
    }
    case CExprKind::SetBuild: return setBuild(id);
    case CExprKind::InSet: {
      Sym x = kid(0), s = kid(1);
      return boolOf(member(x.v, s.v, p_.types.get(p_.expr(p_.child(id, 1)).type).elem), x.err || s.err);
    }
    case CExprKind::SetContains: {
      Sym s = kid(0), x = kid(1);
      return boolOf(member(x.v, s.v, elemOfFirst), x.err || s.err);
    }
    case CExprKind::InCidr: {
      Sym ip = kid(0), c = kid(1);
      z3::expr v = *ip.v.v6 == *c.v.v6 && (ip.v.x & cidrMask(*c.v.v6, *c.v.prefix)) == c.v.x;
      return boolOf(v, ip.err || c.err);
    }
    case CExprKind::InMap: {
      if (p_.expr(p_.child(id, 1)).kind == CExprKind::Table) return tableMember(p_.expr(p_.child(id, 1)), kid(0));
      Sym k = kid(0), m = kid(1);
      std::vector<z3::expr> alts;
      for (const SymElem& el : m.v.elems) alts.push_back(el.present && *el.key == k.v.x);
      return boolOf(anyOf(alts), k.err || m.err);
    }
    case CExprKind::Like: return like(id);
    case CExprKind::MapIndex:
      if (p_.expr(p_.child(id, 0)).kind == CExprKind::Table) {
        // A row alone (not through an attribute): only its error is of use.
        Sym m = tableMember(p_.expr(p_.child(id, 0)), kid(1));
        return {zeroOf(ctx_, p_, e.type), !m.v.x || m.err};
      }
      return mapIndex(id);
    case CExprKind::Field: {
      FieldParts f = tableField(id);
      return {f.value, f.lookupErr || (e.optional() ? !f.present : b(false))};
    }
    case CExprKind::Table:
      // A table alone is only read through the operators above; elsewhere: no proof.
      exact_ = proves_ = false;
      return {zeroOf(ctx_, p_, e.type), ctx_.bool_const(("tbl.err#" + std::to_string(id.value)).c_str())};
    case CExprKind::If: {
      Sym c = kid(0), t = kid(1), f = kid(2);
      return {iteVal(c.v.x, t.v, f.v, e.type), c.err || z3::ite(c.v.x, t.err, f.err)};
    }
    case CExprKind::Any: return quantifier(id, true);
    case CExprKind::All: return quantifier(id, false);
    case CExprKind::StrStartsWith:
    case CExprKind::StrEndsWith:
    case CExprKind::StrContains: {
      Sym s = kid(0), t = kid(1);
      z3::expr v = e.kind == CExprKind::StrStartsWith ? z3::prefixof(t.v.x, s.v.x)
                   : e.kind == CExprKind::StrEndsWith ? z3::suffixof(t.v.x, s.v.x)
                                                      : s.v.x.contains(t.v.x);
      return boolOf(v, s.err || t.err);
    }
    case CExprKind::StrLower: return caseFold(id, true);
    case CExprKind::StrUpper: return caseFold(id, false);
    case CExprKind::StrSize: {
      Sym s = kid(0);
      return {SymVal(s.v.x.length()), s.err};
    }
    case CExprKind::StrIsEmpty: {
      Sym s = kid(0);
      return boolOf(s.v.x.length() == 0, s.err);
    }
    case CExprKind::SetSize:
    case CExprKind::MapSize: {
      if (p_.expr(p_.child(id, 0)).kind == CExprKind::Table) return tableSize(p_.expr(p_.child(id, 0)), false);
      Sym s = kid(0);
      z3::expr n = ctx_.int_val(0);
      for (const SymElem& el : s.v.elems) n = n + z3::ite(el.present, ctx_.int_val(1), ctx_.int_val(0));
      return {SymVal(n.simplify()), s.err};
    }
    case CExprKind::SetIsEmpty:
    case CExprKind::MapIsEmpty: {
      if (p_.expr(p_.child(id, 0)).kind == CExprKind::Table) return tableSize(p_.expr(p_.child(id, 0)), true);
      Sym s = kid(0);
      std::vector<z3::expr> any;
      for (const SymElem& el : s.v.elems) any.push_back(el.present);
      return boolOf(!anyOf(any), s.err);
    }
    case CExprKind::SetContainsAll:
    case CExprKind::SetContainsAny: {
      Sym s = kid(0), t = kid(1);
      std::vector<z3::expr> parts;
      bool all = e.kind == CExprKind::SetContainsAll;
      for (const SymElem& el : t.v.elems) {
        z3::expr in = member(el.value, s.v, elemOfFirst);
        parts.push_back(all ? z3::implies(el.present, in) : el.present && in);
      }
      return boolOf(all ? allOf(parts) : anyOf(parts), s.err || t.err);
    }
    case CExprKind::Hour:
    case CExprKind::Weekday:
    case CExprKind::Date: return timePart(id);
    case CExprKind::Seconds: return kid(0);
    case CExprKind::Root:
    case CExprKind::Param:
    case CExprKind::Invalid: break;
  }
  return {SymVal(b(false)), b(true)};
}

}  // namespace pave::analysis
