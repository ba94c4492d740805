#include "pave/builder.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pave::rt {

int compareConsts(const Bundle& b, const Const& x, const Const& y) {
  TypeKind k = b.schema.types.at(x.type).kind;
  switch (k) {
    case TypeKind::String: return b.strings.at(x.str).compare(b.strings.at(y.str));
    case TypeKind::Ip:
    case TypeKind::Cidr: {
      if (x.ip.family != y.ip.family) return x.ip.family < y.ip.family ? -1 : 1;
      int c = std::memcmp(x.ip.bytes.data(), y.ip.bytes.data(), 16);
      return c ? c : int(x.ip.prefix) - int(y.ip.prefix);
    }
    default: return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
  }
}

Reg FunctionBuilder::regs(uint32_t n) {
  if (nextReg_ + n > kMaxRegisters) throw LimitError(Limit::Registers, "too many registers");
  Reg first = nextReg_;
  nextReg_ += n;
  fn_.numRegs = std::max(fn_.numRegs, nextReg_);
  return first;
}

static void keyOf(const Const& c, std::string& k) {
  k += std::to_string(c.type) + ':' + std::to_string(c.i) + ':' + std::to_string(c.str) + ':';
  k.append(reinterpret_cast<const char*>(c.ip.bytes.data()), 16);
  k += char(c.ip.family);
  k += char(c.ip.prefix);
  k += '[';
  for (size_t i = 0; i < c.elems.size(); ++i) {
    if (i < c.keys.size()) k += std::to_string(c.keys[i]) + '=';
    keyOf(c.elems[i], k);
    k += ',';
  }
  k += ']';
}

uint32_t FunctionBuilder::constant(const Const& c) {
  std::string key;
  keyOf(c, key);
  auto [it, added] = constIndex_.emplace(key, uint32_t(fn_.consts.size()));
  if (added) {
    if (fn_.consts.size() >= kMaxFieldValue) throw LimitError(Limit::Constants, "too many constants");
    fn_.consts.push_back(c);
  }
  return it->second;
}

static Const scalarConst(TypeId type, int64_t i) {
  Const c;
  c.type = type;
  c.i = i;
  return c;
}

Const FunctionBuilder::boolConst(bool v) { return scalarConst(b_.typeId(TypeKind::Bool), v ? 1 : 0); }
Const FunctionBuilder::intConst(int64_t v) { return scalarConst(b_.typeId(TypeKind::Int), v); }
Const FunctionBuilder::durationConst(int64_t s) { return scalarConst(b_.typeId(TypeKind::Duration), s); }
Const FunctionBuilder::timestampConst(int64_t s) { return scalarConst(b_.typeId(TypeKind::Timestamp), s); }
Const FunctionBuilder::stringConst(std::string_view s) {
  Const c = scalarConst(b_.typeId(TypeKind::String), 0);
  c.str = b_.intern(s);
  return c;
}
Const FunctionBuilder::enumConst(uint32_t enumIndex, uint32_t member) {
  return scalarConst(b_.typeId(TypeDesc{TypeKind::Enum, enumIndex, kNone}), member);
}
Const FunctionBuilder::ipConst(const IpAddr& ip, bool cidr) {
  Const c = scalarConst(b_.typeId(cidr ? TypeKind::Cidr : TypeKind::Ip), 0);
  c.ip = ip;
  return c;
}
Const FunctionBuilder::setConst(TypeId elem, std::vector<Const> elems) {
  Const c = scalarConst(b_.typeId(TypeDesc{TypeKind::Set, kNone, elem}), 0);
  std::sort(elems.begin(), elems.end(), [&](const Const& x, const Const& y) { return compareConsts(b_, x, y) < 0; });
  elems.erase(std::unique(elems.begin(), elems.end(),
                          [&](const Const& x, const Const& y) { return compareConsts(b_, x, y) == 0; }),
              elems.end());
  c.elems = std::move(elems);
  return c;
}

Reg FunctionBuilder::load(const Const& c) {
  Reg r = reg();
  emit(Op::LOADK, r, constant(c));
  return r;
}

uint32_t FunctionBuilder::emit(Op op, uint32_t a, uint32_t b, uint32_t c, uint32_t x) {
  if (finished_) throw std::logic_error("function already finished");
  if (a > kMaxFieldValue || b > kMaxFieldValue || c > kMaxFieldValue || x > 0xff)
    throw LimitError(Limit::Operand, "operand out of range");
  // The length is checked by finish(): a jump patched on the way may fail first, and
  // reports the nearer cause.
  fn_.code.push_back(encode(op, a, b, c, x));
  return uint32_t(fn_.code.size() - 1);
}

Label FunctionBuilder::label() {
  labels_.emplace_back();
  return Label{uint32_t(labels_.size() - 1)};
}

void FunctionBuilder::patch(uint32_t at, uint32_t target) {
  Instr& ins = fn_.code[at];
  uint32_t off = target - at - 1;
  if (off > kMaxFieldValue) throw LimitError(Limit::JumpDistance, "jump too far");
  ins = withJumpOffset(ins, off);
}

void FunctionBuilder::jumpTo(Op op, Reg cond, Label l) {
  LabelState& s = labels_.at(l.id);
  if (s.bound >= 0) throw std::logic_error("jumps go forward only");
  s.fixups.push_back(op == Op::JMP ? emit(op) : emit(op, cond));
}
void FunctionBuilder::jump(Label l) { jumpTo(Op::JMP, 0, l); }
void FunctionBuilder::jumpIfFalse(Reg cond, Label l) { jumpTo(Op::JMP_FALSE, cond, l); }
void FunctionBuilder::jumpIfTrue(Reg cond, Label l) { jumpTo(Op::JMP_TRUE, cond, l); }
void FunctionBuilder::jumpIfNotTrue(Reg cond, Label l) { jumpTo(Op::JMP_NOT_TRUE, cond, l); }

void FunctionBuilder::bind(Label l) {
  LabelState& s = labels_.at(l.id);
  if (s.bound >= 0) throw std::logic_error("label bound twice");
  s.bound = pc();
  for (uint32_t at : s.fixups) patch(at, pc());
  s.fixups.clear();
}

Loop FunctionBuilder::iterBegin(QuantMode mode, Reg var, Reg set) {
  return Loop{emit(Op::ITER_BEGIN, var, set, 0, uint32_t(mode))};
}

void FunctionBuilder::iterNext(Loop loop, Reg dst, Reg pred) {
  uint32_t at = emit(Op::ITER_NEXT, dst, pred);
  patch(loop.beginPc, at);
}

void FunctionBuilder::seal() {
  if (finished_) throw std::logic_error("function already finished");
  for (const LabelState& s : labels_)
    if (!s.fixups.empty()) throw std::logic_error("jump to a label that was never bound");
  if (fn_.code.size() > kMaxInstructions) throw LimitError(Limit::Instructions, "function too long");
  if (fn_.numRegs == 0) fn_.numRegs = 1;
  finished_ = true;
}

uint32_t FunctionBuilder::finish() {
  seal();
  b_.functions.push_back(std::move(fn_));
  return uint32_t(b_.functions.size() - 1);
}

uint32_t FunctionBuilder::finishShared() {
  seal();
  for (uint32_t i = 0; i < b_.functions.size(); ++i)
    if (b_.functions[i] == fn_) return i;
  b_.functions.push_back(std::move(fn_));
  return uint32_t(b_.functions.size() - 1);
}

}  // namespace pave::rt
