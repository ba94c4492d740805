// The bytecode interpreter: one switch over the verified instruction stream. Operands are
// trusted to be in range (the verifier checked them); value kinds are still checked, since
// any register may hold an error value (SPEC §4.5).
#include <algorithm>
#include <cstring>

#include "pave/literals.h"
#include "program.h"

namespace pave::rt {
namespace {

constexpr std::string_view kErrOverflow = "integer overflow";
constexpr std::string_view kErrTimestampRange = "timestamp out of range (years 0000-9999)";
constexpr std::string_view kErrAbsent = "attribute is absent";
constexpr std::string_view kErrOtherPrincipal = "the principal is of another type";
constexpr std::string_view kErrMissingKey = "map key is missing";
constexpr std::string_view kErrKind = "operand of an unexpected kind";
constexpr std::string_view kErrTooLong = "string too long";
constexpr std::string_view kErrBudget = "evaluation budget exhausted";
constexpr uint32_t kMaxString = 1u << 24;
constexpr uint64_t kLoopBudget = uint64_t(1) << 24;  // quantifier iterations per function call

// The error a binary operation yields when an operand is not of kind `k`: the operand's
// own error if it is one.
inline bool operandError(const Value& x, Kind k, Value& out) {
  if (x.kind == k) return false;
  out = x.kind == Kind::Error ? x : Value::error(kErrKind);
  return true;
}

bool globMatch(std::string_view s, std::string_view p) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < p.size()) {
      char pc = p[pi];
      size_t adv = 1;
      if (pc == '\\' && pi + 1 < p.size() && p[pi + 1] == '*') adv = 2, pc = '*';
      if (pc == s[si]) {
        pi += adv;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool setHas(const Value& set, const Value& x) {
  const Value* lo = set.elems;
  const Value* hi = set.elems + set.n;
  const Value* it = std::lower_bound(lo, hi, x, [](const Value& a, const Value& b) { return compareValues(a, b) < 0; });
  return it != hi && compareValues(*it, x) == 0;
}

// Index of `key` in a map's entries, or -1.
int64_t mapFind(const Value& map, std::string_view key) {
  uint32_t lo = 0, hi = map.n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    int c = map.elems[2 * mid].str().compare(key);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

// How two sorted sets overlap: whether every element of `b` is in `a`, and whether any is.
void overlap(const Value& a, const Value& b, bool& all, bool& any) {
  all = true;
  any = false;
  uint32_t i = 0, j = 0;
  while (j < b.n) {
    int c = i < a.n ? compareValues(a.elems[i], b.elems[j]) : 1;
    if (c < 0) ++i;
    else if (c == 0) any = true, ++i, ++j;
    else all = false, ++j;
  }
}

bool cidrHas(const Value& net, const Value& ip) {
  if (net.family != ip.family) return false;
  uint32_t full = net.prefix / 8, rest = net.prefix % 8;
  if (std::memcmp(net.ip, ip.ip, full) != 0) return false;
  if (!rest) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (net.ip[full] & mask) == (ip.ip[full] & mask);
}

}  // namespace

bool setContains(const Value& set, const Value& x) { return setHas(set, x); }

const Value* mapEntrySorted(const Value& map, std::string_view key) {
  int64_t at = mapFind(map, key);
  return at < 0 ? nullptr : &map.elems[2 * at + 1];
}

namespace {

FastTest::Root rootOf(Op load) {
  return opHas(load, opflag::Prin)  ? FastTest::Root::Principal
         : opHas(load, opflag::Req) ? FastTest::Root::Request
                                    : FastTest::Root::Context;
}
bool isLoad(Op op) { return opHas(op, opflag::Load); }
bool isHas(Op op) { return opHas(op, opflag::Has); }

// `input OP constant` (input_left) or `constant OP input`: the operation a fast test runs.
bool fastOp(Op op, bool input_left, Op& out) {
  static constexpr Op kFlip[] = {Op::GT, Op::GE, Op::LT, Op::LE};  // LT LE GT GE, operands swapped
  switch (op) {
    case Op::EQ:
    case Op::NE: out = op; return true;
    case Op::LT:
    case Op::LE:
    case Op::GT:
    case Op::GE: out = input_left ? op : kFlip[int(op) - int(Op::LT)]; return true;
    case Op::IN_SET:
    case Op::IN_CIDR:
    case Op::STARTS_WITH:
    case Op::ENDS_WITH:
    case Op::CONTAINS_STR: out = op; return input_left;
    case Op::IN_MAP: out = op; return !input_left;  // constant key in an input map
    default: return false;
  }
}

}  // namespace

namespace {

// The test of FastTest that `c[0 .. n-2]` computes into register `result` (c[n-1] is the
// instruction that returns it, or negates it).
FastTest recognizeTest(const Instr* c, size_t n, uint32_t result, const std::vector<Value>& consts) {
  FastTest t;
  auto input = [&](Instr load) {
    t.root = rootOf(Op(opcodeOf(load)));
    t.slot = fieldB(load);
    if (t.root == FastTest::Root::Principal) t.ptype = fieldC(load);
  };
  if (n == 2) {
    Op op = Op(opcodeOf(c[0]));
    if (fieldA(c[0]) != result) return t;
    if (op == Op::IS_PRIN) {
      t.form = FastTest::Form::IsPrincipal;
      t.ptype = fieldB(c[0]);
    } else if (isHas(op)) {
      input(c[0]);
      t.form = FastTest::Form::Has;
    } else if (isLoad(op)) {
      input(c[0]);
      t.form = FastTest::Form::Load;
    } else if (op == Op::LOADK) {
      t.k = consts[fieldB(c[0])];
      t.form = FastTest::Form::Constant;
    } else if (op == Op::LOADB) {
      t.k = Value::boolean(fieldB(c[0]) != 0);
      t.form = FastTest::Form::Constant;
    }
    return t;
  }
  if (n == 3) {  // LOAD rI; LIKE rR, rI, kP; RET rR
    if (!isLoad(Op(opcodeOf(c[0]))) || Op(opcodeOf(c[1])) != Op::LIKE || fieldA(c[1]) != result ||
        fieldB(c[1]) != fieldA(c[0]) || consts[fieldC(c[1])].kind != Kind::String)
      return t;
    input(c[0]);
    t.op = Op::LIKE;
    t.k = consts[fieldC(c[1])];
    t.form = FastTest::Form::Compare;
    // `lit*`, `*lit` and `*lit*`, where `lit` has no `*` and no `\`, are the cheaper
    // startsWith, endsWith and contains of `lit` (a substring of the pattern constant).
    const std::string_view pattern = t.k.str();
    const bool lead = pattern.starts_with('*'), trail = pattern.size() > size_t(lead) && pattern.ends_with('*');
    const std::string_view lit = pattern.substr(size_t(lead), pattern.size() - size_t(lead) - size_t(trail));
    if ((lead || trail) && lit.find_first_of("*\\") == std::string_view::npos) {
      t.op = lead && trail ? Op::CONTAINS_STR : lead ? Op::ENDS_WITH : Op::STARTS_WITH;
      t.k = Value::string(lit);
    }
    return t;
  }
  if (n == 5) {  // `input.size() OP k`: LOAD rI; SIZE rS, rI; LOADK rK; CMP rR (or the LOADK first)
    const int k_at = Op(opcodeOf(c[0])) == Op::LOADK ? 0 : 2, load_at = k_at == 0 ? 1 : 0;
    const Instr load = c[load_at], size = c[load_at + 1], k = c[k_at], cmp = c[3];
    if (!isLoad(Op(opcodeOf(load))) || Op(opcodeOf(size)) != Op::SIZE || Op(opcodeOf(k)) != Op::LOADK ||
        fieldB(size) != fieldA(load) || fieldA(size) == fieldA(k) || fieldA(cmp) != result)
      return t;
    const uint32_t s_reg = fieldA(size), k_reg = fieldA(k);
    const bool in_left = fieldB(cmp) == s_reg && fieldC(cmp) == k_reg;
    if (!in_left && !(fieldB(cmp) == k_reg && fieldC(cmp) == s_reg)) return t;
    const Op op = Op(opcodeOf(cmp));
    if (!opHas(op, opflag::Cmp)) return t;
    if (!fastOp(op, in_left, t.op) || consts[fieldB(k)].kind != Kind::Int) return t;
    t.k = consts[fieldB(k)];
    t.size = true;
    input(load);
    t.form = FastTest::Form::Compare;
    return t;
  }
  // `input OP constant` over an attribute (4 instructions), or over a map attribute's entry
  // (6): LOAD rM; LOADK rK, key; MAP_GET rI, rM, rK, then the constant and the comparison.
  const bool entry = n == 6;
  if (n != 4 && !entry) return t;
  Instr input_load = c[0];
  if (entry) {
    const Instr key = c[1], get = c[2];
    if (!isLoad(Op(opcodeOf(input_load))) || Op(opcodeOf(key)) != Op::LOADK || Op(opcodeOf(get)) != Op::MAP_GET ||
        consts[fieldB(key)].kind != Kind::String || fieldB(get) != fieldA(input_load) || fieldC(get) != fieldA(key) ||
        fieldA(input_load) == fieldA(key))
      return t;
    t.entry = true;
    t.entry_key = consts[fieldB(key)].str();
  }
  // Two loads in either order: the input (an attribute, or the entry MAP_GET produced) and
  // a constant, into distinct registers.
  const Instr* pair = entry ? &c[2] : &c[0];
  int load = -1, konst = -1;
  if (entry) {
    if (Op(opcodeOf(c[3])) != Op::LOADK) return t;
    load = 0, konst = 1;
  } else {
    for (int i = 0; i < 2; ++i) {
      Op op = Op(opcodeOf(c[i]));
      if (op == Op::LOADK) konst = i;
      else if (isLoad(op)) load = i;
    }
    if (load < 0 || konst < 0) return t;
    input_load = c[load];
  }
  const uint32_t in_reg = fieldA(pair[load]), k_reg = fieldA(pair[konst]);
  const Instr cmp = pair[2];
  if (in_reg == k_reg || fieldA(cmp) != result) return t;
  const bool in_left = fieldB(cmp) == in_reg && fieldC(cmp) == k_reg;
  const bool in_right = fieldB(cmp) == k_reg && fieldC(cmp) == in_reg;
  if (!in_left && !in_right) return t;
  if (!fastOp(Op(opcodeOf(cmp)), in_left, t.op)) return t;
  if (entry && t.op == Op::IN_MAP) return t;  // an entry holds a scalar, never a map
  t.k = consts[fieldB(pair[konst])];
  static constexpr struct { Op op; Kind k; } kConstKinds[] = {
      {Op::IN_SET, Kind::Set}, {Op::IN_CIDR, Kind::Cidr}, {Op::STARTS_WITH, Kind::String},
      {Op::ENDS_WITH, Kind::String}, {Op::CONTAINS_STR, Kind::String}, {Op::IN_MAP, Kind::String}};
  for (auto [op, kind] : kConstKinds)
    if (t.op == op && t.k.kind != kind) return t;
  input(input_load);
  t.form = FastTest::Form::Compare;
  return t;
}

}  // namespace

// `has(input) and <test of input>` computing into register `result`, c[n-1] returning or
// negating it: HAS rR, input; JMP_FALSE rR, +m; <test into rT>; AND rR, rR, rT (the jump
// lands after the AND, so an absent input leaves rR false).
FastTest recognizeGuarded(const Instr* c, size_t n, uint32_t result, const std::vector<Value>& consts) {
  if (n < 5 || !isHas(Op(opcodeOf(c[0]))) || fieldA(c[0]) != result || Op(opcodeOf(c[1])) != Op::JMP_FALSE ||
      fieldA(c[1]) != result || 2 + size_t(fieldB(c[1])) != n - 1)
    return {};
  const Instr conj = c[n - 2];
  const uint32_t tested = fieldC(conj);
  if (Op(opcodeOf(conj)) != Op::AND || fieldA(conj) != result || fieldB(conj) != result || tested == result)
    return {};
  for (size_t i = 2; i + 2 < n; ++i)  // the test leaves rR alone
    if (fieldA(c[i]) == result) return {};
  FastTest t = recognizeTest(c + 2, n - 3, tested, consts);
  const FastTest has = recognizeTest(c, 2, result, consts);
  if (t.form != FastTest::Form::Compare || has.form != FastTest::Form::Has || t.root != has.root ||
      t.slot != has.slot || (t.root == FastTest::Root::Principal && t.ptype != has.ptype))
    return {};
  t.guarded = true;
  return t;
}

FastTest recognizeFastTest(const Function& f, const std::vector<Value>& consts) {
  const auto& c = f.code;
  const size_t n = c.size();
  if (n < 2 || Op(opcodeOf(c[n - 1])) != Op::RET) return {};
  const uint32_t result = fieldA(c[n - 1]);
  FastTest t = recognizeTest(c.data(), n, result, consts);
  if (t.form == FastTest::Form::None) t = recognizeGuarded(c.data(), n, result, consts);
  if (t.form != FastTest::Form::None || n < 3 || Op(opcodeOf(c[n - 2])) != Op::NOT || fieldA(c[n - 2]) != result)
    return t;
  // `not` of a Has or Compare test: NOT rR, rX; RET rR.
  t = recognizeTest(c.data(), n - 1, fieldB(c[n - 2]), consts);
  if (t.form == FastTest::Form::None) t = recognizeGuarded(c.data(), n - 1, fieldB(c[n - 2]), consts);
  if (t.form != FastTest::Form::Has && t.form != FastTest::Form::Compare) return {};
  t.negate = true;
  return t;
}

const Value* fastLoad(const FastTest& t, const Input& in) {
  const Value* v;
  switch (t.root) {
    case FastTest::Root::Principal:
      if (in.principal_type != t.ptype) return nullptr;
      v = &in.principal[t.slot];
      break;
    case FastTest::Root::Request: v = &in.request[t.slot]; break;
    default: v = &in.context[t.slot]; break;
  }
  return v->kind == Kind::Absent || v->kind == Kind::Error ? nullptr : v;
}

int runFastTest(const FastTest& t, const Input& in) {
  if (t.form == FastTest::Form::IsPrincipal) return in.principal_type == t.ptype;
  if (t.form == FastTest::Form::Constant) return t.k.kind == Kind::Bool ? int(t.k.i != 0) : -1;
  const Value* v;
  switch (t.root) {
    case FastTest::Root::Principal:
      if (in.principal_type != t.ptype) return t.form == FastTest::Form::Has || t.guarded ? int(t.negate) : -1;
      v = &in.principal[t.slot];
      break;
    case FastTest::Root::Request: v = &in.request[t.slot]; break;
    default: v = &in.context[t.slot]; break;
  }
  if (t.form == FastTest::Form::Has) return (v->kind != Kind::Absent) ^ t.negate;
  if (v->kind == Kind::Absent) return t.guarded ? int(t.negate) : -1;
  if (v->kind == Kind::Error) return -1;
  if (t.entry) {  // a missing key is an error the bytecode reports
    if (v->kind != Kind::Map || !(v = mapEntry(*v, t.entry_key))) return -1;
  }
  return fastCompare(t, *v);
}


namespace {
int compareUnnegated(const FastTest& t, const Value& in) {
  const Value* v = &in;
  if (t.form == FastTest::Form::Has) return 1;
  if (t.form == FastTest::Form::Load) return v->kind == Kind::Bool ? int(v->i != 0) : -1;
  if (t.form != FastTest::Form::Compare) return -1;
  Value size;
  if (t.size) {  // SIZE: the length of a String, Set or Map; an error otherwise
    if (v->kind != Kind::String && v->kind != Kind::Set && v->kind != Kind::Map) return -1;
    size = Value::integer(v->n);
    v = &size;
  }
  switch (t.op) {
    case Op::EQ: return equalValues(*v, t.k);
    case Op::NE: return !equalValues(*v, t.k);
    case Op::IN_SET: return setHas(t.k, *v);
    case Op::LT:
    case Op::LE:
    case Op::GT:
    case Op::GE:
      if (v->kind != t.k.kind || (v->kind != Kind::Int && v->kind != Kind::Duration && v->kind != Kind::Timestamp))
        return -1;
      return t.op == Op::LT ? v->i < t.k.i : t.op == Op::LE ? v->i <= t.k.i : t.op == Op::GT ? v->i > t.k.i
                                                                                           : v->i >= t.k.i;
    case Op::IN_CIDR: return v->kind == Kind::Ip ? int(cidrHas(t.k, *v)) : -1;
    case Op::IN_MAP: return v->kind == Kind::Map ? int(mapFind(*v, t.k.str()) >= 0) : -1;
    default: break;
  }
  if (v->kind != Kind::String) return -1;
  std::string_view s = v->str(), k = t.k.str();
  switch (t.op) {
    case Op::LIKE: return globMatch(s, k);
    case Op::STARTS_WITH: return s.starts_with(k);
    case Op::ENDS_WITH: return s.ends_with(k);
    default: return s.find(k) != std::string_view::npos;
  }
}
}  // namespace

int fastCompare(const FastTest& t, const Value& in) {
  const int r = compareUnnegated(t, in);
  return r < 0 ? r : r ^ int(t.negate);
}

Value execute(const CompiledFn& fn, const Input& in, Scratch& s) {
  Value* R = s.regs.data();
  const Value* K = fn.consts.data();
  const Instr* code = fn.code;
  uint32_t pc = 0;
  uint32_t depth = 0;
  uint64_t budget = kLoopBudget;
  // Threaded dispatch: every handler jumps straight to the next one (one indirect branch
  // per opcode instead of one shared by all, which predicts far better).
  // Indexed by any opcode byte: past the opcodes, op_bad (the verifier refuses unknown
  // opcodes; this keeps an unverified one harmless without a check per instruction).
#define PAVE_BAD4 &&op_bad, &&op_bad, &&op_bad, &&op_bad,
#define PAVE_BAD16 PAVE_BAD4 PAVE_BAD4 PAVE_BAD4 PAVE_BAD4
#define PAVE_BAD64 PAVE_BAD16 PAVE_BAD16 PAVE_BAD16 PAVE_BAD16
  static const void* const kHandlers[] = {
#define PAVE_OP(name, x, fa, fb, fc, flags, doc) &&op_##name,
#include "pave/opcodes.def"
#undef PAVE_OP
      PAVE_BAD64 PAVE_BAD64 PAVE_BAD64 PAVE_BAD64};
#undef PAVE_BAD4
#undef PAVE_BAD16
#undef PAVE_BAD64
  static_assert(std::size(kHandlers) >= 256, "every opcode byte has a handler");
  Instr ins;
  uint32_t a;
  Value* dstp;  // R[A], the destination of most instructions
  // Fields B and C, decoded where a handler uses them.
#define OPB fieldB(ins)
#define OPC fieldC(ins)
#define NEXT()                                                                             \
  do {                                                                                     \
    ins = code[pc++];                                                                      \
    a = fieldA(ins);                                                                       \
    dstp = R + a;                                                                          \
    goto* kHandlers[opcodeOf(ins)];                                                        \
  } while (0)
  NEXT();
  {
      op_LOADK: (*dstp) = K[OPB]; NEXT();
      op_LOADB: (*dstp) = Value::boolean(OPB != 0); NEXT();
      op_MOVE: copyFields(*dstp, R[OPB]); NEXT();
      op_LOAD_PRIN:
        if (in.principal_type != OPC) (*dstp) = Value::error(kErrOtherPrincipal);
        else if (in.principal[OPB].kind == Kind::Absent) (*dstp) = Value::error(kErrAbsent);
        else (*dstp) = in.principal[OPB];
        NEXT();
      op_LOAD_REQ:
        (*dstp) = in.request[OPB].kind == Kind::Absent ? Value::error(kErrAbsent) : in.request[OPB];
        NEXT();
      op_LOAD_CTX:
        (*dstp) = in.context[OPB].kind == Kind::Absent ? Value::error(kErrAbsent) : in.context[OPB];
        NEXT();
      op_HAS_PRIN: (*dstp) = Value::boolean(in.principal_type == OPC && in.principal[OPB].kind != Kind::Absent); NEXT();
      op_HAS_REQ: (*dstp) = Value::boolean(in.request[OPB].kind != Kind::Absent); NEXT();
      op_HAS_CTX: (*dstp) = Value::boolean(in.context[OPB].kind != Kind::Absent); NEXT();
      op_IS_PRIN: (*dstp) = Value::boolean(in.principal_type == OPB); NEXT();
      op_EQ:
      op_NE: {
        const Value &x = R[OPB], &y = R[OPC];
        if (x.isError()) (*dstp) = x;
        else if (y.isError()) (*dstp) = y;
        else (*dstp) = Value::boolean((compareValues(x, y) == 0) == (Op(opcodeOf(ins)) == Op::EQ));
        NEXT();
      }
      op_LT:
      op_LE:
      op_GT:
      op_GE: {
        const Value &x = R[OPB], &y = R[OPC];
        if (x.isError()) (*dstp) = x;
        else if (y.isError()) (*dstp) = y;
        else if (x.kind != y.kind || x.kind < Kind::Int || x.kind > Kind::Timestamp || x.kind == Kind::String)
          (*dstp) = Value::error(kErrKind);
        else {
          Op op = Op(opcodeOf(ins));
          bool r = op == Op::LT ? x.i < y.i : op == Op::LE ? x.i <= y.i : op == Op::GT ? x.i > y.i : x.i >= y.i;
          (*dstp) = Value::boolean(r);
        }
        NEXT();
      }
      op_ADD:
      op_SUB: {
        const Value &x = R[OPB], &y = R[OPC];
        if (x.isError()) { (*dstp) = x; NEXT(); }
        if (y.isError()) { (*dstp) = y; NEXT(); }
        bool add = Op(opcodeOf(ins)) == Op::ADD;
        Kind rk = x.kind;
        if (x.kind == Kind::Timestamp && y.kind == Kind::Timestamp && !add) rk = Kind::Duration;
        else if (!(x.kind == y.kind && (x.kind == Kind::Int || x.kind == Kind::Duration)) &&
                 !(x.kind == Kind::Timestamp && y.kind == Kind::Duration)) {
          (*dstp) = Value::error(kErrKind);
          NEXT();
        }
        int64_t r;
        if (add ? __builtin_add_overflow(x.i, y.i, &r) : __builtin_sub_overflow(x.i, y.i, &r))
          (*dstp) = Value::error(kErrOverflow);
        else if (rk == Kind::Timestamp && !timestampInRange(r))
          (*dstp) = Value::error(kErrTimestampRange);
        else
          (*dstp) = Value::integer(r, rk);
        NEXT();
      }
      op_NEG: {
        const Value& x = R[OPB];
        if (x.kind != Kind::Int && x.kind != Kind::Duration) { (*dstp) = x.isError() ? x : Value::error(kErrKind); NEXT(); }
        int64_t r;
        if (__builtin_sub_overflow(int64_t(0), x.i, &r)) (*dstp) = Value::error(kErrOverflow);
        else (*dstp) = Value::integer(r, x.kind);
        NEXT();
      }
      op_CONCAT: {
        const Value &x = R[OPB], &y = R[OPC];
        Value out;
        if (operandError(x, Kind::String, out) || operandError(y, Kind::String, out)) { (*dstp) = out; NEXT(); }
        if (uint64_t(x.n) + y.n > kMaxString) { (*dstp) = Value::error(kErrTooLong); NEXT(); }
        char* p = s.arena.allocArray<char>(x.n + y.n);
        if (x.n) std::memcpy(p, x.s, x.n);
        if (y.n) std::memcpy(p + x.n, y.s, y.n);
        (*dstp) = Value::string({p, size_t(x.n) + y.n});
        NEXT();
      }
      op_NOT: {
        const Value& x = R[OPB];
        Value out;
        (*dstp) = operandError(x, Kind::Bool, out) ? out : Value::boolean(!x.i);
        NEXT();
      }
      op_AND:
      op_OR: {
        const Value &x = R[OPB], &y = R[OPC];
        bool dominant = Op(opcodeOf(ins)) == Op::OR;  // the value that absorbs errors
        if ((x.kind == Kind::Bool && bool(x.i) == dominant) || (y.kind == Kind::Bool && bool(y.i) == dominant))
          (*dstp) = Value::boolean(dominant);
        else if (x.kind != Kind::Bool) (*dstp) = x.isError() ? x : Value::error(kErrKind);
        else if (y.kind != Kind::Bool) (*dstp) = y.isError() ? y : Value::error(kErrKind);
        else (*dstp) = Value::boolean(!dominant);
        NEXT();
      }
      op_TAKE_ERROR:
        if (R[OPB].isError()) (*dstp) = R[OPB];
        NEXT();
      op_IN_SET: {
        const Value &x = R[OPB], &set = R[OPC];
        Value out;
        if (x.isError()) (*dstp) = x;
        else if (operandError(set, Kind::Set, out)) (*dstp) = out;
        else (*dstp) = Value::boolean(setHas(set, x));
        NEXT();
      }
      op_IN_CIDR: {
        Value out;
        if (operandError(R[OPB], Kind::Ip, out) || operandError(R[OPC], Kind::Cidr, out)) (*dstp) = out;
        else (*dstp) = Value::boolean(cidrHas(R[OPC], R[OPB]));
        NEXT();
      }
      op_IN_MAP:
      op_MAP_GET: {
        bool get = Op(opcodeOf(ins)) == Op::MAP_GET;
        const Value& map = get ? R[OPB] : R[OPC];
        const Value& key = get ? R[OPC] : R[OPB];
        Value out;
        if (operandError(key, Kind::String, out) || operandError(map, Kind::Map, out)) { (*dstp) = out; NEXT(); }
        int64_t at = map.family ? tableFind(fn.table_index[map.family - 1], map, key.str()) : mapFind(map, key.str());
        if (!get) (*dstp) = Value::boolean(at >= 0);
        else (*dstp) = at >= 0 ? map.elems[2 * at + 1] : Value::error(kErrMissingKey);
        NEXT();
      }
      op_LOAD_TABLE: (*dstp) = fn.tables[OPB]; NEXT();
      op_GET_FIELD:
      op_HAS_FIELD: {
        const Value& row = R[OPB];
        const uint32_t at = OPC;
        const bool has = Op(opcodeOf(ins)) == Op::HAS_FIELD;
        if (row.isError()) (*dstp) = row;
        else if (row.kind != Kind::Record || at >= row.n) (*dstp) = Value::error(kErrKind);
        else if (has) (*dstp) = Value::boolean(row.elems[at].kind != Kind::Absent);
        else (*dstp) = row.elems[at].kind == Kind::Absent ? Value::error(kErrAbsent) : row.elems[at];
        NEXT();
      }
      op_LIKE: {
        Value out;
        if (operandError(R[OPB], Kind::String, out) || operandError(K[OPC], Kind::String, out)) (*dstp) = out;
        else (*dstp) = Value::boolean(globMatch(R[OPB].str(), K[OPC].str()));
        NEXT();
      }
      op_STARTS_WITH:
      op_ENDS_WITH:
      op_CONTAINS_STR: {
        const Value &x = R[OPB], &y = R[OPC];
        Value out;
        if (operandError(x, Kind::String, out) || operandError(y, Kind::String, out)) { (*dstp) = out; NEXT(); }
        std::string_view hay = x.str(), needle = y.str();
        Op op = Op(opcodeOf(ins));
        bool r = op == Op::STARTS_WITH ? hay.starts_with(needle)
                 : op == Op::ENDS_WITH ? hay.ends_with(needle)
                                       : hay.find(needle) != std::string_view::npos;
        (*dstp) = Value::boolean(r);
        NEXT();
      }
      op_LOWER:
      op_UPPER: {
        const Value& x = R[OPB];
        Value out;
        if (operandError(x, Kind::String, out)) { (*dstp) = out; NEXT(); }
        char* p = s.arena.allocArray<char>(x.n);
        bool lower = Op(opcodeOf(ins)) == Op::LOWER;
        for (uint32_t i = 0; i < x.n; ++i) {
          char ch = x.s[i];
          if (lower && ch >= 'A' && ch <= 'Z') ch = char(ch + 32);
          if (!lower && ch >= 'a' && ch <= 'z') ch = char(ch - 32);
          p[i] = ch;
        }
        (*dstp) = Value::string({p, x.n});
        NEXT();
      }
      op_SIZE:
      op_IS_EMPTY: {
        const Value& x = R[OPB];
        if (x.kind != Kind::String && x.kind != Kind::Set && x.kind != Kind::Map) {
          (*dstp) = x.isError() ? x : Value::error(kErrKind);
          NEXT();
        }
        (*dstp) = Op(opcodeOf(ins)) == Op::SIZE ? Value::integer(x.n) : Value::boolean(x.n == 0);
        NEXT();
      }
      op_CONTAINS_ALL:
      op_CONTAINS_ANY: {
        Value out;
        if (operandError(R[OPB], Kind::Set, out) || operandError(R[OPC], Kind::Set, out)) { (*dstp) = out; NEXT(); }
        bool all, any;
        overlap(R[OPB], R[OPC], all, any);
        (*dstp) = Value::boolean(Op(opcodeOf(ins)) == Op::CONTAINS_ALL ? all : any);
        NEXT();
      }
      op_BUILD_SET: {
        Value* elems = s.arena.allocArray<Value>(OPC);
        const Value* err = nullptr;
        for (uint32_t i = 0; i < OPC; ++i) {
          elems[i] = R[OPB + i];
          if (elems[i].isError() && !err) err = &R[OPB + i];
        }
        (*dstp) = err ? *err : Value::set(elems, sortUnique(elems, OPC));
        NEXT();
      }
      op_HOUR:
      op_WEEKDAY:
      op_DATE: {
        const Value& x = R[OPB];
        Value out;
        if (operandError(x, Kind::Timestamp, out)) { (*dstp) = out; NEXT(); }
        if (!timestampInRange(x.i)) { (*dstp) = Value::error(kErrTimestampRange); NEXT(); }
        Op op = Op(opcodeOf(ins));
        if (op == Op::HOUR) (*dstp) = Value::integer(hourOf(x.i));
        else if (op == Op::WEEKDAY) (*dstp) = Value::integer(weekdayOf(x.i));
        else (*dstp) = Value::integer(startOfDay(x.i), Kind::Timestamp);
        NEXT();
      }
      op_SECONDS: {
        Value out;
        (*dstp) = operandError(R[OPB], Kind::Duration, out) ? out : Value::integer(R[OPB].i);
        NEXT();
      }
      op_JMP: pc += OPB; NEXT();
      op_JMP_FALSE:
        if ((*dstp).isFalse()) pc += OPB;
        NEXT();
      op_JMP_TRUE:
        if ((*dstp).isTrue()) pc += OPB;
        NEXT();
      op_JMP_NOT_TRUE:
        if (!(*dstp).isTrue()) pc += OPB;
        NEXT();
      op_ITER_BEGIN: {
        if (depth >= kMaxLoopDepth) return Value::error(kErrKind);
        const Value& set = R[OPB];
        LoopFrame& L = s.loops[depth++];
        L.mode = uint8_t(fieldX(ins));
        L.var = uint16_t(a);
        L.body = pc;
        L.saw_error = false;
        if (set.kind == Kind::Set && set.n > 0) {
          L.elems = set.elems;
          L.count = set.n;
          L.next = 1;
          L.skip = false;
          (*dstp) = set.elems[0];
        } else {
          L.count = 0;
          L.skip = true;
          if (set.kind != Kind::Set) {
            L.saw_error = true;
            L.error = set.isError() ? set : Value::error(kErrKind);
          }
          pc += OPC;
        }
        NEXT();
      }
      op_ITER_NEXT: {
        if (depth == 0) return Value::error(kErrKind);
        LoopFrame& L = s.loops[depth - 1];
        bool any = L.mode == uint8_t(QuantMode::Any);
        if (!L.skip) {
          const Value& p = R[OPB];
          if (p.kind == Kind::Bool && bool(p.i) == any) {  // decided: any found true / all found false
            --depth;
            (*dstp) = Value::boolean(any);
            NEXT();
          }
          if (p.kind != Kind::Bool && !L.saw_error) {
            L.saw_error = true;
            L.error = p.isError() ? p : Value::error(kErrKind);
          }
          if (L.next < L.count) {
            if (--budget == 0) return Value::error(kErrBudget);
            R[L.var] = L.elems[L.next++];
            pc = L.body;
            NEXT();
          }
        }
        --depth;
        (*dstp) = L.saw_error ? L.error : Value::boolean(!any);
        NEXT();
      }
      op_RET: {
        Value out;
        copyFields(out, *dstp);  // usually just written
        return out;
      }
      op_bad: return Value::error(kErrKind);
  }
#undef NEXT
#undef OPB
#undef OPC
}

}  // namespace pave::rt
