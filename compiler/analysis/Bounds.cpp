// How many entries each input set or map needs in one query.
//
// A bounded encoding only finds inputs whose sets have at most K entries, so an unsat
// answer is a proof only when every satisfiable formula has a model that small. Take any
// model and shrink each set to the entries that some atom needs to keep its truth value
// (and error state): a member test keeps the tested value, a quantifier one decisive and
// one erroneous element, `isEmpty` one entry, `size() op c` up to c+1 entries, and so on.
// Atoms inside a quantifier body are needed once per kept element of the quantified set,
// so their demand multiplies. When demands form a cycle (a body that tests membership in
// the set it ranges over), or a size is compared with a non-constant, no bound is known
// and the bounds are marked inexact: unsat answers then become `analysis-inconclusive`.
#include <algorithm>
#include <set>

#include "analysis/Encoder.h"

namespace pave::analysis {

using sema::CExpr;
using sema::CExprId;
using sema::CExprKind;
using sema::TypeKind;

namespace {

constexpr unsigned kMaxEntries = 16;

struct Demand {
  std::string target;
  uint64_t amount;
  std::vector<std::string> factors;  // enclosing quantified input sets
};

class BoundWalker {
 public:
  BoundWalker(const sema::CheckedProgram& p, sema::RequestId type, const TableModels& tables)
      : p_(p), req_(p.requests[type.value]), tables_(tables) {}

  std::vector<Demand> demands;
  std::set<std::string> distinct;  // sets and maps whose size or equality is observed
  bool exact = true;

  void walk(CExprId id, const std::vector<std::string>& factors, uint64_t mult) {
    const CExpr& e = p_.expr(id);
    auto kid = [&](uint32_t i) { return p_.child(id, i); };
    auto demand = [&](CExprId set, uint64_t amount, const std::vector<std::string>& extra = {}) {
      std::vector<std::string> f = factors;
      f.insert(f.end(), extra.begin(), extra.end());
      // The same atom in several rules keeps the same entries: count it once.
      std::string key = p_.dump(id) + "|" + std::to_string(mult) + "|" + std::to_string(amount);
      for (const std::string& x : f) key += "|" + x;
      for (const std::string& s : inputs(set))
        if (seen_.insert(key + "|" + s).second) demands.push_back({s, amount * mult, f});
    };
    switch (e.kind) {
      case CExprKind::Field: {
        // A set or map of an abstract table is any set: bounded like an input set. Sets of
        // rows known exactly are literal sets (see literalSize); the largest one must be
        // counted when the same name also stands for the abstract rest.
        const sema::Type& t = p_.types.get(e.type);
        if ((t.kind == TypeKind::Set || t.kind == TypeKind::Map) && !inputs(id).empty()) {
          uint64_t known = knownSize(id);
          std::string name = inputs(id)[0];
          if (known && seen_.insert("known|" + name).second) demands.push_back({name, known, {}});
        }
        break;
      }
      case CExprKind::InSet:
      case CExprKind::InMap: demand(kid(1), 1); break;
      case CExprKind::SetContains:
      case CExprKind::MapIndex:
      case CExprKind::SetIsEmpty:
      case CExprKind::MapIsEmpty: demand(kid(0), 1); break;
      case CExprKind::SetContainsAny:
        demand(kid(0), 1);
        demand(kid(1), 1);
        break;
      case CExprKind::SetContainsAll: {
        demand(kid(1), 1);
        uint64_t lit = literalSize(kid(1));
        if (lit != UINT64_MAX) demand(kid(0), lit);
        else demand(kid(0), 1, inputs(kid(1)));
        break;
      }
      case CExprKind::Compare: {
        if (compareSize(id, factors, mult)) return;
        CExprId l = kid(0), r = kid(1);
        TypeKind k = p_.types.kind(p_.expr(l).type);
        if (k == TypeKind::Set || k == TypeKind::Map) {
          for (CExprId side : {l, r})
            for (const std::string& s : inputs(side)) distinct.insert(s);
          uint64_t ls = literalSize(l), rs = literalSize(r);
          if (rs != UINT64_MAX) demand(l, rs + 1);
          else if (ls != UINT64_MAX) demand(r, ls + 1);
          else {
            demand(l, 1, inputs(r));
            demand(r, 1, inputs(l));
          }
        }
        break;
      }
      case CExprKind::SetSize:
      case CExprKind::MapSize:
        if (p_.expr(kid(0)).kind == CExprKind::Table) break;  // a table's size is its own number
        // A size compared with something other than a constant: no bound is known.
        exact = false;
        demand(kid(0), 2);
        for (const std::string& s : inputs(kid(0))) distinct.insert(s);
        break;
      case CExprKind::Any:
      case CExprKind::All: {
        // One element decides the quantifier; one more keeps an error when the body can fail.
        demand(kid(0), mayFail(kid(1)) ? 2 : 1);
        walk(kid(0), factors, mult);
        std::vector<std::string> inner = factors;
        std::vector<std::string> over = inputs(kid(0));
        inner.insert(inner.end(), over.begin(), over.end());
        uint64_t lit = literalSize(kid(0));
        walk(kid(1), inner, lit != UINT64_MAX ? mult * std::max<uint64_t>(lit, 1) : mult);
        return;
      }
      default: break;
    }
    for (uint32_t i = 0; i < e.numChildren; ++i) walk(kid(i), factors, mult);
  }

 private:
  // Whether evaluating the expression can be an error (SPEC §4.5): arithmetic, map
  // lookups, optional or principal attributes.
  bool mayFail(CExprId id) const {
    const CExpr& e = p_.expr(id);
    switch (e.kind) {
      case CExprKind::Add:
      case CExprKind::Sub:
      case CExprKind::Neg:
      case CExprKind::MapIndex: return true;
      case CExprKind::Attr:
        if (e.root() == sema::Root::Principal) return true;
        if (e.optional()) return true;
        break;
      case CExprKind::Has: return p_.expr(p_.child(id, 0)).kind == CExprKind::Field;  // `has(t[k].a)`: the lookup
      case CExprKind::Field: return true;  // a lookup can miss
      default: break;
    }
    for (uint32_t i = 0; i < e.numChildren; ++i)
      if (mayFail(p_.child(id, i))) return true;
    return false;
  }

  // `size() op c` or `c op size()`.
  bool compareSize(CExprId id, const std::vector<std::string>& factors, uint64_t mult) {
    for (int side = 0; side < 2; ++side) {
      const CExpr& s = p_.expr(p_.child(id, side));
      const CExpr& c = p_.expr(p_.child(id, 1 - side));
      if ((s.kind != CExprKind::SetSize && s.kind != CExprKind::MapSize) || c.kind != CExprKind::Literal) continue;
      if (p_.expr(p_.child(p_.child(id, side), 0)).kind == CExprKind::Table) return false;
      int64_t v = p_.constant(sema::ConstId{c.a}).i;
      uint64_t need = v < 0 ? 1 : uint64_t(v) + 2;
      CExprId set = p_.child(p_.child(id, side), 0);
      std::string key = p_.dump(id) + "|" + std::to_string(mult);
      for (const std::string& x : factors) key += "|" + x;
      for (const std::string& in : inputs(set)) {
        if (seen_.insert(key + "|" + in).second) demands.push_back({in, need * mult, factors});
        distinct.insert(in);
      }
      walk(set, factors, mult);
      return true;
    }
    return false;
  }

  // The table of a `t[k].attr` node, or null.
  const TableModel* tableOf(CExprId field, uint32_t* index = nullptr) const {
    const CExpr& e = p_.expr(field);
    if (e.kind != CExprKind::Field) return nullptr;
    CExprId row = p_.child(field, 0);
    if (p_.expr(row).kind != CExprKind::MapIndex) return nullptr;
    const CExpr& t = p_.expr(p_.child(row, 0));
    if (t.kind != CExprKind::Table || t.a >= tables_.size()) return nullptr;
    if (index) *index = t.a;
    return &tables_[t.a];
  }

  // The largest set or map of an attribute among the rows known exactly.
  uint64_t knownSize(CExprId field) const {
    const TableModel* m = tableOf(field);
    uint64_t n = 0;
    if (!m) return 0;
    uint32_t attr = p_.expr(field).b;
    for (const auto& [key, row] : m->known)
      if (row && attr < row->fields.size() && row->fields[attr]) {
        const sema::ConstValue& v = *row->fields[attr];
        n = std::max<uint64_t>(n, v.kind == sema::ConstValue::Kind::Map ? v.entries.size() : v.elems.size());
      }
    return n;
  }

  uint64_t literalSize(CExprId id) const {
    const CExpr& e = p_.expr(id);
    if (const TableModel* m = tableOf(id); m && m->closed) return knownSize(id);
    if (e.kind == CExprKind::Literal) {
      const sema::ConstValue& v = p_.constant(sema::ConstId{e.a});
      return v.kind == sema::ConstValue::Kind::Map ? v.entries.size() : v.elems.size();
    }
    if (e.kind == CExprKind::SetBuild) return e.numChildren;
    return UINT64_MAX;
  }

  // The input sets or maps an expression may denote.
  std::vector<std::string> inputs(CExprId id) const {
    const CExpr& e = p_.expr(id);
    std::vector<std::string> out;
    if (e.kind == CExprKind::If) {
      out = inputs(p_.child(id, 1));
      std::vector<std::string> f = inputs(p_.child(id, 2));
      out.insert(out.end(), f.begin(), f.end());
      return out;
    }
    uint32_t table = 0;
    if (const TableModel* m = tableOf(id, &table)) {
      if (!m->closed) out.push_back(tableVarName(p_, table, p_.str(sema::StrId{e.a})));
      return out;
    }
    if (e.kind != CExprKind::Attr) return out;
    std::string name(p_.str(sema::StrId{e.a}));
    switch (e.root()) {
      case sema::Root::Request: out.push_back(requestVarName(name)); break;
      case sema::Root::Context: out.push_back(contextVarName(name)); break;
      case sema::Root::Principal:
        for (sema::PrincipalId pid : req_.principals) {
          const sema::AttrInfo* a = p_.principals[pid.value].attr(name);
          if (a && a->type == e.type) out.push_back(principalVarName(p_, pid.value, name));
        }
        break;
      case sema::Root::Param: break;
    }
    return out;
  }

  const sema::CheckedProgram& p_;
  const sema::RequestInfo& req_;
  const TableModels& tables_;
  std::set<std::string> seen_;
};

}  // namespace

SetBounds computeBounds(const sema::CheckedProgram& p, sema::RequestId type, const std::vector<CExprId>& roots,
                        const TableModels* tables) {
  TableModels own;
  if (!tables) {
    own = defaultTableModels(p);
    tables = &own;
  }
  BoundWalker w(p, type, *tables);
  for (CExprId r : roots) w.walk(r, {}, 1);
  SetBounds out;
  out.exact = w.exact;
  out.distinct = w.distinct;
  std::map<std::string, uint64_t> k;
  for (const Demand& d : w.demands) k[d.target] = 0;
  bool stable = false;
  for (size_t round = 0; round < k.size() + 2 && !stable; ++round) {
    std::map<std::string, uint64_t> next;
    for (const Demand& d : w.demands) {
      uint64_t n = d.amount;
      for (const std::string& f : d.factors) n = std::min<uint64_t>(n * k[f], 1u << 20);
      next[d.target] = std::min<uint64_t>(next[d.target] + n, 1u << 20);
    }
    stable = next == k;
    k = std::move(next);
  }
  if (!stable) out.exact = false;  // demands feed each other without end
  for (const auto& [name, n] : k) {
    if (n > kMaxEntries) out.exact = false;
    out.count[name] = unsigned(std::min<uint64_t>(std::max<uint64_t>(n, 1), kMaxEntries));
  }
  return out;
}

}  // namespace pave::analysis
