// The bytecode interpreter: one switch over the verified instruction stream. Operands are
// trusted to be in range (the verifier checked them); value kinds are still checked, since
// any register may hold an error value (SPEC §4.5).
#include <algorithm>
#include <cstring>

#include "format.h"
#include "program.h"

namespace pave::rt {
namespace {

constexpr std::string_view kErrOverflow = "integer overflow";
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

Value execute(const CompiledFn& fn, const Input& in, Scratch& s) {
  Value* R = s.regs.data();
  const Value* K = fn.consts.data();
  const Instr* code = fn.code;
  uint32_t pc = 0;
  uint32_t depth = 0;
  uint64_t budget = kLoopBudget;
  for (;;) {
    const Instr ins = code[pc++];
    const uint32_t a = fieldA(ins), b = fieldB(ins), c = fieldC(ins);
    Value& dst = R[a];
    switch (Op(opcodeOf(ins))) {
      case Op::LOADK: dst = K[b]; break;
      case Op::LOADB: dst = Value::boolean(b != 0); break;
      case Op::MOVE: dst = R[b]; break;
      case Op::LOAD_PRIN:
        if (in.principal_type != c) dst = Value::error(kErrOtherPrincipal);
        else if (in.principal[b].kind == Kind::Absent) dst = Value::error(kErrAbsent);
        else dst = in.principal[b];
        break;
      case Op::LOAD_REQ:
        dst = in.request[b].kind == Kind::Absent ? Value::error(kErrAbsent) : in.request[b];
        break;
      case Op::LOAD_CTX:
        dst = in.context[b].kind == Kind::Absent ? Value::error(kErrAbsent) : in.context[b];
        break;
      case Op::HAS_PRIN: dst = Value::boolean(in.principal_type == c && in.principal[b].kind != Kind::Absent); break;
      case Op::HAS_REQ: dst = Value::boolean(in.request[b].kind != Kind::Absent); break;
      case Op::HAS_CTX: dst = Value::boolean(in.context[b].kind != Kind::Absent); break;
      case Op::IS_PRIN: dst = Value::boolean(in.principal_type == b); break;
      case Op::EQ:
      case Op::NE: {
        const Value &x = R[b], &y = R[c];
        if (x.isError()) dst = x;
        else if (y.isError()) dst = y;
        else dst = Value::boolean((compareValues(x, y) == 0) == (Op(opcodeOf(ins)) == Op::EQ));
        break;
      }
      case Op::LT:
      case Op::LE:
      case Op::GT:
      case Op::GE: {
        const Value &x = R[b], &y = R[c];
        if (x.isError()) dst = x;
        else if (y.isError()) dst = y;
        else if (x.kind != y.kind || x.kind < Kind::Int || x.kind > Kind::Timestamp || x.kind == Kind::String)
          dst = Value::error(kErrKind);
        else {
          Op op = Op(opcodeOf(ins));
          bool r = op == Op::LT ? x.i < y.i : op == Op::LE ? x.i <= y.i : op == Op::GT ? x.i > y.i : x.i >= y.i;
          dst = Value::boolean(r);
        }
        break;
      }
      case Op::ADD:
      case Op::SUB: {
        const Value &x = R[b], &y = R[c];
        if (x.isError()) { dst = x; break; }
        if (y.isError()) { dst = y; break; }
        bool add = Op(opcodeOf(ins)) == Op::ADD;
        Kind rk = x.kind;
        if (x.kind == Kind::Timestamp && y.kind == Kind::Timestamp && !add) rk = Kind::Duration;
        else if (!(x.kind == y.kind && (x.kind == Kind::Int || x.kind == Kind::Duration)) &&
                 !(x.kind == Kind::Timestamp && y.kind == Kind::Duration)) {
          dst = Value::error(kErrKind);
          break;
        }
        int64_t r;
        if (add ? __builtin_add_overflow(x.i, y.i, &r) : __builtin_sub_overflow(x.i, y.i, &r))
          dst = Value::error(kErrOverflow);
        else
          dst = Value::integer(r, rk);
        break;
      }
      case Op::NEG: {
        const Value& x = R[b];
        if (x.kind != Kind::Int && x.kind != Kind::Duration) { dst = x.isError() ? x : Value::error(kErrKind); break; }
        int64_t r;
        if (__builtin_sub_overflow(int64_t(0), x.i, &r)) dst = Value::error(kErrOverflow);
        else dst = Value::integer(r, x.kind);
        break;
      }
      case Op::CONCAT: {
        const Value &x = R[b], &y = R[c];
        Value out;
        if (operandError(x, Kind::String, out) || operandError(y, Kind::String, out)) { dst = out; break; }
        if (uint64_t(x.n) + y.n > kMaxString) { dst = Value::error(kErrTooLong); break; }
        char* p = s.arena.allocArray<char>(x.n + y.n);
        if (x.n) std::memcpy(p, x.s, x.n);
        if (y.n) std::memcpy(p + x.n, y.s, y.n);
        dst = Value::string({p, size_t(x.n) + y.n});
        break;
      }
      case Op::NOT: {
        const Value& x = R[b];
        Value out;
        dst = operandError(x, Kind::Bool, out) ? out : Value::boolean(!x.i);
        break;
      }
      case Op::AND:
      case Op::OR: {
        const Value &x = R[b], &y = R[c];
        bool dominant = Op(opcodeOf(ins)) == Op::OR;  // the value that absorbs errors
        if ((x.kind == Kind::Bool && bool(x.i) == dominant) || (y.kind == Kind::Bool && bool(y.i) == dominant))
          dst = Value::boolean(dominant);
        else if (x.kind != Kind::Bool) dst = x.isError() ? x : Value::error(kErrKind);
        else if (y.kind != Kind::Bool) dst = y.isError() ? y : Value::error(kErrKind);
        else dst = Value::boolean(!dominant);
        break;
      }
      case Op::TAKE_ERROR:
        if (R[b].isError()) dst = R[b];
        break;
      case Op::IN_SET: {
        const Value &x = R[b], &set = R[c];
        Value out;
        if (x.isError()) dst = x;
        else if (operandError(set, Kind::Set, out)) dst = out;
        else dst = Value::boolean(setHas(set, x));
        break;
      }
      case Op::IN_CIDR: {
        Value out;
        if (operandError(R[b], Kind::Ip, out) || operandError(R[c], Kind::Cidr, out)) dst = out;
        else dst = Value::boolean(cidrHas(R[c], R[b]));
        break;
      }
      case Op::IN_MAP:
      case Op::MAP_GET: {
        bool get = Op(opcodeOf(ins)) == Op::MAP_GET;
        const Value& map = get ? R[b] : R[c];
        const Value& key = get ? R[c] : R[b];
        Value out;
        if (operandError(key, Kind::String, out) || operandError(map, Kind::Map, out)) { dst = out; break; }
        int64_t at = mapFind(map, key.str());
        if (!get) dst = Value::boolean(at >= 0);
        else dst = at >= 0 ? map.elems[2 * at + 1] : Value::error(kErrMissingKey);
        break;
      }
      case Op::LIKE: {
        Value out;
        if (operandError(R[b], Kind::String, out) || operandError(K[c], Kind::String, out)) dst = out;
        else dst = Value::boolean(globMatch(R[b].str(), K[c].str()));
        break;
      }
      case Op::STARTS_WITH:
      case Op::ENDS_WITH:
      case Op::CONTAINS_STR: {
        const Value &x = R[b], &y = R[c];
        Value out;
        if (operandError(x, Kind::String, out) || operandError(y, Kind::String, out)) { dst = out; break; }
        std::string_view hay = x.str(), needle = y.str();
        Op op = Op(opcodeOf(ins));
        bool r = op == Op::STARTS_WITH ? hay.starts_with(needle)
                 : op == Op::ENDS_WITH ? hay.ends_with(needle)
                                       : hay.find(needle) != std::string_view::npos;
        dst = Value::boolean(r);
        break;
      }
      case Op::LOWER:
      case Op::UPPER: {
        const Value& x = R[b];
        Value out;
        if (operandError(x, Kind::String, out)) { dst = out; break; }
        char* p = s.arena.allocArray<char>(x.n);
        bool lower = Op(opcodeOf(ins)) == Op::LOWER;
        for (uint32_t i = 0; i < x.n; ++i) {
          char ch = x.s[i];
          if (lower && ch >= 'A' && ch <= 'Z') ch = char(ch + 32);
          if (!lower && ch >= 'a' && ch <= 'z') ch = char(ch - 32);
          p[i] = ch;
        }
        dst = Value::string({p, x.n});
        break;
      }
      case Op::SIZE:
      case Op::IS_EMPTY: {
        const Value& x = R[b];
        if (x.kind != Kind::String && x.kind != Kind::Set && x.kind != Kind::Map) {
          dst = x.isError() ? x : Value::error(kErrKind);
          break;
        }
        dst = Op(opcodeOf(ins)) == Op::SIZE ? Value::integer(x.n) : Value::boolean(x.n == 0);
        break;
      }
      case Op::CONTAINS_ALL:
      case Op::CONTAINS_ANY: {
        Value out;
        if (operandError(R[b], Kind::Set, out) || operandError(R[c], Kind::Set, out)) { dst = out; break; }
        bool all, any;
        overlap(R[b], R[c], all, any);
        dst = Value::boolean(Op(opcodeOf(ins)) == Op::CONTAINS_ALL ? all : any);
        break;
      }
      case Op::BUILD_SET: {
        Value* elems = s.arena.allocArray<Value>(c);
        const Value* err = nullptr;
        for (uint32_t i = 0; i < c; ++i) {
          elems[i] = R[b + i];
          if (elems[i].isError() && !err) err = &R[b + i];
        }
        dst = err ? *err : Value::set(elems, sortUnique(elems, c));
        break;
      }
      case Op::HOUR:
      case Op::WEEKDAY:
      case Op::DATE: {
        const Value& x = R[b];
        Value out;
        if (operandError(x, Kind::Timestamp, out)) { dst = out; break; }
        int64_t days = floorDiv(x.i, 86400);
        Op op = Op(opcodeOf(ins));
        if (op == Op::HOUR) dst = Value::integer((x.i - days * 86400) / 3600);
        else if (op == Op::WEEKDAY) dst = Value::integer(((days % 7 + 7) % 7 + 3) % 7 + 1);
        else dst = Value::integer(days * 86400, Kind::Timestamp);
        break;
      }
      case Op::SECONDS: {
        Value out;
        dst = operandError(R[b], Kind::Duration, out) ? out : Value::integer(R[b].i);
        break;
      }
      case Op::JMP: pc += b; break;
      case Op::JMP_FALSE:
        if (dst.isFalse()) pc += b;
        break;
      case Op::JMP_TRUE:
        if (dst.isTrue()) pc += b;
        break;
      case Op::JMP_NOT_TRUE:
        if (!dst.isTrue()) pc += b;
        break;
      case Op::ITER_BEGIN: {
        if (depth >= kMaxLoopDepth) return Value::error(kErrKind);
        const Value& set = R[b];
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
          dst = set.elems[0];
        } else {
          L.count = 0;
          L.skip = true;
          if (set.kind != Kind::Set) {
            L.saw_error = true;
            L.error = set.isError() ? set : Value::error(kErrKind);
          }
          pc += c;
        }
        break;
      }
      case Op::ITER_NEXT: {
        if (depth == 0) return Value::error(kErrKind);
        LoopFrame& L = s.loops[depth - 1];
        bool any = L.mode == uint8_t(QuantMode::Any);
        if (!L.skip) {
          const Value& p = R[b];
          if (p.kind == Kind::Bool && bool(p.i) == any) {  // decided: any found true / all found false
            --depth;
            dst = Value::boolean(any);
            break;
          }
          if (p.kind != Kind::Bool && !L.saw_error) {
            L.saw_error = true;
            L.error = p.isError() ? p : Value::error(kErrKind);
          }
          if (L.next < L.count) {
            if (--budget == 0) return Value::error(kErrBudget);
            R[L.var] = L.elems[L.next++];
            pc = L.body;
            break;
          }
        }
        --depth;
        dst = L.saw_error ? L.error : Value::boolean(!any);
        break;
      }
      case Op::RET: return dst;
      default: return Value::error(kErrKind);
    }
  }
}

}  // namespace pave::rt
