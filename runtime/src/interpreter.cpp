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
  size_t si = 0, pi = 0, starP = std::string_view::npos, starS = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      starP = ++pi;
      starS = si;
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
    if (starP == std::string_view::npos) return false;
    pi = starP;
    si = ++starS;
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

const Value* fastLoad(const FastTest& t, const Input& in) {
  const Value* v;
  switch (t.root) {
    case FastTest::Root::Principal:
      if (in.principalType != t.ptype) return nullptr;
      v = &in.principal[t.slot];
      break;
    case FastTest::Root::Request: v = &in.request[t.slot]; break;
    default: v = &in.context[t.slot]; break;
  }
  return v->kind == Kind::Absent || v->kind == Kind::Error ? nullptr : v;
}

Truth runFastTest(const FastTest& t, const Input& in) {
  constexpr Truth kUndecided = Truth::Undecided;
  if (t.form == FastTest::Form::IsPrincipal) return truth(in.principalType == t.ptype);
  if (t.form == FastTest::Form::Constant) return t.k.kind == Kind::Bool ? truth(t.k.i != 0) : kUndecided;
  const Value* v;
  switch (t.root) {
    case FastTest::Root::Principal:
      if (in.principalType != t.ptype) return t.form == FastTest::Form::Has || t.guarded ? truth(t.negate) : kUndecided;
      v = &in.principal[t.slot];
      break;
    case FastTest::Root::Request: v = &in.request[t.slot]; break;
    default: v = &in.context[t.slot]; break;
  }
  if (t.form == FastTest::Form::Has) return truth((v->kind != Kind::Absent) ^ t.negate);
  if (v->kind == Kind::Absent) return t.guarded ? truth(t.negate) : kUndecided;
  if (v->kind == Kind::Error) return kUndecided;
  if (t.entry) {  // a missing key is an error the bytecode reports
    if (v->kind != Kind::Map || !(v = mapEntry(*v, t.entryKey))) return kUndecided;
  }
  return fastCompare(t, *v);
}

namespace {
Truth compareUnnegated(const FastTest& t, const Value& in) {
  constexpr Truth kUndecided = Truth::Undecided;
  const Value* v = &in;
  if (t.form == FastTest::Form::Has) return Truth::True;
  if (t.form == FastTest::Form::Load) return v->kind == Kind::Bool ? truth(v->i != 0) : kUndecided;
  if (t.form != FastTest::Form::Compare) return kUndecided;
  Value size;
  if (t.size) {  // SIZE: the length of a String, Set or Map; an error otherwise
    if (v->kind != Kind::String && v->kind != Kind::Set && v->kind != Kind::Map) return kUndecided;
    size = Value::integer(v->n);
    v = &size;
  }
  switch (t.op) {
    case Op::EQ: return truth(equalValues(*v, t.k));
    case Op::NE: return truth(!equalValues(*v, t.k));
    case Op::IN_SET: return truth(setHas(t.k, *v));
    case Op::LT:
    case Op::LE:
    case Op::GT:
    case Op::GE:
      if (v->kind != t.k.kind || (v->kind != Kind::Int && v->kind != Kind::Duration && v->kind != Kind::Timestamp))
        return kUndecided;
      return truth(t.op == Op::LT ? v->i < t.k.i : t.op == Op::LE ? v->i <= t.k.i : t.op == Op::GT ? v->i > t.k.i
                                                                                                 : v->i >= t.k.i);
    case Op::IN_CIDR: return v->kind == Kind::Ip ? truth(cidrHas(t.k, *v)) : kUndecided;
    case Op::IN_MAP: return v->kind == Kind::Map ? truth(mapFind(*v, t.k.str()) >= 0) : kUndecided;
    default: break;
  }
  if (v->kind != Kind::String) return kUndecided;
  std::string_view s = v->str(), k = t.k.str();
  switch (t.op) {
    case Op::LIKE: return truth(globMatch(s, k));
    case Op::STARTS_WITH: return truth(s.starts_with(k));
    case Op::ENDS_WITH: return truth(s.ends_with(k));
    default: return truth(s.find(k) != std::string_view::npos);
  }
}
}  // namespace

Truth fastCompare(const FastTest& t, const Value& in) { return negated(compareUnnegated(t, in), t.negate); }

Value execute(const CompiledFn& fn, const Input& in, Scratch& s) {
  Value* R = s.regs.data();
  const Value* consts = fn.consts.data();
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
  op_LOADK:
    (*dstp) = consts[OPB];
    NEXT();
  op_LOADB:
    (*dstp) = Value::boolean(OPB != 0);
    NEXT();
  op_MOVE:
    copyFields(*dstp, R[OPB]);
    NEXT();
  op_LOAD_PRIN:
    if (in.principalType != OPC)
      (*dstp) = Value::error(kErrOtherPrincipal);
    else if (in.principal[OPB].kind == Kind::Absent)
      (*dstp) = Value::error(kErrAbsent);
    else
      (*dstp) = in.principal[OPB];
    NEXT();
  op_LOAD_REQ:
    (*dstp) = in.request[OPB].kind == Kind::Absent ? Value::error(kErrAbsent) : in.request[OPB];
    NEXT();
  op_LOAD_CTX:
    (*dstp) = in.context[OPB].kind == Kind::Absent ? Value::error(kErrAbsent) : in.context[OPB];
    NEXT();
  op_HAS_PRIN:
    (*dstp) = Value::boolean(in.principalType == OPC && in.principal[OPB].kind != Kind::Absent);
    NEXT();
  op_HAS_REQ:
    (*dstp) = Value::boolean(in.request[OPB].kind != Kind::Absent);
    NEXT();
  op_HAS_CTX:
    (*dstp) = Value::boolean(in.context[OPB].kind != Kind::Absent);
    NEXT();
  op_IS_PRIN:
    (*dstp) = Value::boolean(in.principalType == OPB);
    NEXT();
  op_EQ:
  op_NE : {
    const Value &x = R[OPB], &y = R[OPC];
    if (x.isError())
      (*dstp) = x;
    else if (y.isError())
      (*dstp) = y;
    else
      (*dstp) = Value::boolean((compareValues(x, y) == 0) == (Op(opcodeOf(ins)) == Op::EQ));
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
        int64_t at = map.family ? tableFind(fn.tableIndex[map.family - 1], map, key.str()) : mapFind(map, key.str());
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
        if (operandError(R[OPB], Kind::String, out) || operandError(consts[OPC], Kind::String, out))
          (*dstp) = out;
        else
          (*dstp) = Value::boolean(globMatch(R[OPB].str(), consts[OPC].str()));
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
        LoopFrame& frame = s.loops[depth++];
        frame.mode = uint8_t(fieldX(ins));
        frame.var = uint16_t(a);
        frame.body = pc;
        frame.sawError = false;
        if (set.kind == Kind::Set && set.n > 0) {
          frame.elems = set.elems;
          frame.count = set.n;
          frame.next = 1;
          frame.skip = false;
          (*dstp) = set.elems[0];
        } else {
          frame.count = 0;
          frame.skip = true;
          if (set.kind != Kind::Set) {
            frame.sawError = true;
            frame.error = set.isError() ? set : Value::error(kErrKind);
          }
          pc += OPC;
        }
        NEXT();
      }
      op_ITER_NEXT: {
        if (depth == 0) return Value::error(kErrKind);
        LoopFrame& frame = s.loops[depth - 1];
        bool any = frame.mode == uint8_t(QuantMode::Any);
        if (!frame.skip) {
          const Value& p = R[OPB];
          if (p.kind == Kind::Bool && bool(p.i) == any) {  // decided: any found true / all found false
            --depth;
            (*dstp) = Value::boolean(any);
            NEXT();
          }
          if (p.kind != Kind::Bool && !frame.sawError) {
            frame.sawError = true;
            frame.error = p.isError() ? p : Value::error(kErrKind);
          }
          if (frame.next < frame.count) {
            if (--budget == 0) return Value::error(kErrBudget);
            R[frame.var] = frame.elems[frame.next++];
            pc = frame.body;
            NEXT();
          }
        }
        --depth;
        (*dstp) = frame.sawError ? frame.error : Value::boolean(!any);
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
