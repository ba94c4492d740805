// Assembling bytecode functions without touching encodings. The compiler's code generator
// allocates registers, interns constants, emits opcodes (see opcodes.def for operands) and
// uses labels for forward jumps:
//
//   FunctionBuilder fb(bundle);
//   Reg d = fb.reg(), lim = fb.reg(), ok = fb.reg();
//   fb.emit(Op::LOAD_REQ, d, durationSlot);
//   fb.emit(Op::LOADK, lim, fb.constant(fb.durationConst(4 * 3600)));
//   fb.emit(Op::LE, ok, d, lim);
//   fb.ret(ok);
//   uint32_t fn = fb.finish();            // index into bundle.functions
//
// `a and b` (CEL absorption, SPEC §4.5):      `a or b`: the same with jumpIfTrue and OR.
//   <a → r>; jumpIfFalse(r, end); <b → t>; emit(AND, r, r, t); bind(end)
// `if c then x else y`:
//   <c → rc>; jumpIfNotTrue(rc, els); <x → r>; jump(end); bind(els); <y → r>;
//   emit(TAKE_ERROR, r, rc); bind(end)
// `any v in s: p`:
//   auto loop = iterBegin(QuantMode::Any, v, s); <p → t>; iterNext(loop, r, t)
//
// Registers are allocated like a stack: those taken inside a RegScope are free again when
// it ends, and the function needs as many as were ever live at once.
//
// Misuse (binding a label twice, a jump backwards, a label never bound) throws
// std::logic_error: it is a bug in the caller, not in the policy. A function exceeding a
// limit of the bytecode format throws LimitError: the input is too large, and the caller
// (code generation) reports it naming the rule.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pave/bundle.h"
#include "pave/opcodes.h"

namespace pave::rt {

using Reg = uint32_t;

struct Label {
  uint32_t id;
};

struct Loop {
  uint32_t beginPc;
};

// The limits of the bytecode format a function can exceed (opcodes.h).
enum class Limit : uint8_t {
  Registers,     // more than kMaxRegisters live at once
  Constants,     // more than kMaxFieldValue constants
  Instructions,  // more than kMaxInstructions
  JumpDistance,  // a forward jump over more than kMaxFieldValue instructions
  Operand,       // an operand wider than its field
};

class LimitError : public std::runtime_error {
 public:
  LimitError(Limit limit, const char* what) : std::runtime_error(what), limit_(limit) {}
  Limit limit() const { return limit_; }

 private:
  Limit limit_;
};

class FunctionBuilder {
 public:
  explicit FunctionBuilder(Bundle& bundle) : b_(bundle) {}

  Reg reg() { return regs(1); }
  Reg regs(uint32_t n);  // n consecutive registers (BUILD_SET operands)
  // Registers in use now, and as many as were ever in use at once.
  uint32_t liveRegs() const { return nextReg_; }
  uint32_t numRegs() const { return fn_.numRegs; }
  // Frees every register allocated after `mark` (a value of liveRegs()); see RegScope.
  void releaseRegs(uint32_t mark) { nextReg_ = mark; }

  // Constants, interned in this function's pool; returns the K index.
  uint32_t constant(const Const& c);
  Const boolConst(bool v);
  Const intConst(int64_t v);
  Const durationConst(int64_t seconds);
  Const timestampConst(int64_t seconds);
  Const stringConst(std::string_view s);
  Const enumConst(uint32_t enumIndex, uint32_t member);
  Const ipConst(const IpAddr& ip, bool cidr);
  // A set constant of element type `elem`: elements are sorted and de-duplicated here.
  Const setConst(TypeId elem, std::vector<Const> elems);
  // Loads a constant into a fresh register.
  Reg load(const Const& c);

  // Emits one instruction; operands as listed in opcodes.def. Returns its pc.
  uint32_t emit(Op op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0, uint32_t x = 0);

  Label label();
  void jump(Label l);
  void jumpIfFalse(Reg cond, Label l);
  void jumpIfTrue(Reg cond, Label l);
  void jumpIfNotTrue(Reg cond, Label l);
  void bind(Label l);  // at the next instruction; patches earlier jumps to it

  Loop iterBegin(QuantMode mode, Reg var, Reg set);
  void iterNext(Loop loop, Reg dst, Reg pred);

  void ret(Reg r) { emit(Op::RET, r); }
  uint32_t pc() const { return uint32_t(fn_.code.size()); }

  // Appends the function to the bundle and returns its index. The builder is spent.
  uint32_t finish();
  // The same, except that when the bundle already holds an identical function (the same
  // condition in several rules) that one's index is returned and nothing is added.
  uint32_t finishShared();
  // The function so far (for tests).
  const Function& function() const { return fn_; }

 private:
  void jumpTo(Op op, Reg cond, Label l);
  void patch(uint32_t at, uint32_t target);
  void seal();

  Bundle& b_;
  Function fn_;
  uint32_t nextReg_ = 0;
  std::map<std::string, uint32_t> constIndex_;
  struct LabelState {
    int64_t bound = -1;
    std::vector<uint32_t> fixups;  // pcs of jumps waiting for the label
  };
  std::vector<LabelState> labels_;
  bool finished_ = false;
};

// Registers allocated while a scope lives are free again when it ends.
class RegScope {
 public:
  explicit RegScope(FunctionBuilder& fb) : fb_(fb), mark_(fb.liveRegs()) {}
  ~RegScope() { fb_.releaseRegs(mark_); }
  RegScope(const RegScope&) = delete;
  RegScope& operator=(const RegScope&) = delete;

 private:
  FunctionBuilder& fb_;
  uint32_t mark_;
};

// Compares constants in the order sets are kept (strings bytewise).
int compareConsts(const Bundle& b, const Const& x, const Const& y);

}  // namespace pave::rt
