// Pave bytecode: opcodes, operand kinds and instruction encoding. The list itself lives in
// opcodes.def; this header turns it into the enum and the tables shared by the builder,
// the verifier, the interpreter and the disassembler.
#pragma once

#include <cstdint>

namespace pave::rt {

enum class Op : uint8_t {
#define PAVE_OP(name, x, a, b, c, flags, doc) name,
#include "pave/opcodes.def"
#undef PAVE_OP
};

inline constexpr int kOpCount = 0
#define PAVE_OP(name, x, a, b, c, flags, doc) +1
#include "pave/opcodes.def"
#undef PAVE_OP
    ;

// What an instruction field holds (see the table in opcodes.def).
enum class Operand : uint8_t { None, RegWrite, RegRead, RegReadWrite, Const, Jump, PrincipalType, Slot, Count, Mode };

// An opcode's properties (the flags column of opcodes.def), so that passes over bytecode
// ask what an instruction does instead of listing opcodes. The names are the vocabulary of
// the flags column of opcodes.def (`_` for none), so they read as flags there, not kName.
// NOLINTBEGIN(readability-identifier-naming)
namespace opflag {
inline constexpr uint16_t Cond = 1 << 0;   // conditional forward jump on R[A]
inline constexpr uint16_t End = 1 << 1;    // never falls through to the next instruction
inline constexpr uint16_t Loop = 1 << 2;   // quantifier: what follows is also reached by a back edge or exit
inline constexpr uint16_t Range = 1 << 3;  // also reads R[B] .. R[B+C-1]
inline constexpr uint16_t Load = 1 << 4;   // reads an input attribute
inline constexpr uint16_t Has = 1 << 5;    // tests an input attribute's presence
inline constexpr uint16_t Prin = 1 << 6;   // reads the principal
inline constexpr uint16_t Req = 1 << 7;    // reads the request
inline constexpr uint16_t Ctx = 1 << 8;    // reads the context
inline constexpr uint16_t Cmp = 1 << 9;    // compares R[B] with R[C]
inline constexpr uint16_t _ = 0;           // none
}  // namespace opflag
// NOLINTEND(readability-identifier-naming)

struct OpInfo {
  const char* name;
  Operand x, a, b, c;
  uint16_t flags;  // opflag::*
  const char* doc;
};

namespace detail {
inline constexpr Operand kOperand__ = Operand::None;
inline constexpr Operand kOperand_W = Operand::RegWrite;
inline constexpr Operand kOperand_R = Operand::RegRead;
inline constexpr Operand kOperand_M = Operand::RegReadWrite;
inline constexpr Operand kOperand_K = Operand::Const;
inline constexpr Operand kOperand_J = Operand::Jump;
inline constexpr Operand kOperand_P = Operand::PrincipalType;
inline constexpr Operand kOperand_S = Operand::Slot;
inline constexpr Operand kOperand_N = Operand::Count;
inline constexpr Operand kOperand_Q = Operand::Mode;
}  // namespace detail

inline constexpr OpInfo kOpInfo[] = {
#define PAVE_OP(name, x, a, b, c, flags, doc)                                                                 \
  {#name, detail::kOperand_##x, detail::kOperand_##a, detail::kOperand_##b, detail::kOperand_##c, [] {      \
     using namespace opflag;                                                                                 \
     return uint16_t(flags);                                                                                 \
   }(), doc},
#include "pave/opcodes.def"
#undef PAVE_OP
};

inline constexpr const OpInfo& opInfo(Op op) { return kOpInfo[static_cast<uint8_t>(op)]; }

// Whether `op` has any of `flags` (opflag::*).
inline constexpr bool opHas(Op op, uint16_t flags) { return (opInfo(op).flags & flags) != 0; }
// Whether `op` has a jump operand (a forward jump or ITER_BEGIN's skip), in field B or C.
inline constexpr bool hasJump(Op op) { return opInfo(op).b == Operand::Jump || opInfo(op).c == Operand::Jump; }

// One instruction: op | X << 8 | A << 16 | B << 32 | C << 48.
using Instr = uint64_t;

inline constexpr Instr encode(Op op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0, uint32_t x = 0) {
  return uint64_t(static_cast<uint8_t>(op)) | uint64_t(x & 0xff) << 8 | uint64_t(a & 0xffff) << 16 |
         uint64_t(b & 0xffff) << 32 | uint64_t(c & 0xffff) << 48;
}
inline constexpr uint8_t opcodeOf(Instr i) { return uint8_t(i); }
inline constexpr uint32_t fieldX(Instr i) { return uint32_t(i >> 8) & 0xff; }
inline constexpr uint32_t fieldA(Instr i) { return uint32_t(i >> 16) & 0xffff; }
inline constexpr uint32_t fieldB(Instr i) { return uint32_t(i >> 32) & 0xffff; }
inline constexpr uint32_t fieldC(Instr i) { return uint32_t(i >> 48) & 0xffff; }

// The jump offset of an instruction with a jump operand (hasJump), and the instruction with
// its offset replaced.
inline constexpr uint32_t jumpOffset(Instr i) {
  return opInfo(Op(opcodeOf(i))).c == Operand::Jump ? fieldC(i) : fieldB(i);
}
inline constexpr Instr withJumpOffset(Instr i, uint32_t off) {
  const Op op = Op(opcodeOf(i));
  return opInfo(op).c == Operand::Jump ? encode(op, fieldA(i), fieldB(i), off, fieldX(i))
                                       : encode(op, fieldA(i), off, fieldC(i), fieldX(i));
}

enum class QuantMode : uint8_t { Any = 0, All = 1 };

// Limits enforced by the verifier.
inline constexpr uint32_t kMaxRegisters = 1024;
inline constexpr uint32_t kMaxInstructions = 65535;
inline constexpr uint32_t kMaxLoopDepth = 16;
inline constexpr uint32_t kMaxFieldValue = 0xffff;

}  // namespace pave::rt
