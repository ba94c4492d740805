// Specializing a function for one principal type (see program.h): `principal is T` and
// `has(principal.x)` of another type become constants, branches on constants are taken,
// and the instructions that can no longer run, or that only fed a folded branch, are
// removed, so that, e.g., `if principal is Human then principal.on_call else false` in the
// rule set of Human is `principal.on_call`, one fast test.
#include <vector>

#include "program.h"

namespace pave::rt {
namespace {

enum class Known : uint8_t { No, False, True };

// Larger functions are left as they are (the analysis keeps a state per instruction).
constexpr size_t kMaxSpecialized = 256;

// The target of the jump or ITER_BEGIN at `pc`.
size_t jumpTarget(Instr ins, size_t pc) { return pc + 1 + jumpOffset(ins); }

// Marks the registers instruction `ins` reads.
void markReads(Instr ins, std::vector<bool>& read) {
  const Op op = Op(opcodeOf(ins));
  const OpInfo& info = opInfo(op);
  auto mark = [&](Operand role, uint32_t reg) {
    if ((role == Operand::RegRead || role == Operand::RegReadWrite) && reg < read.size()) read[reg] = true;
  };
  mark(info.a, fieldA(ins));
  mark(info.b, fieldB(ins));
  mark(info.c, fieldC(ins));
  if (opHas(op, opflag::Range))  // reads R[B] .. R[B+C-1]
    for (uint32_t r = fieldB(ins); r < fieldB(ins) + fieldC(ins) && r < read.size(); ++r) read[r] = true;
}

}  // namespace

std::vector<Instr> specializeForPrincipal(const Function& f, uint32_t pt) {
  const size_t n = f.code.size();
  std::vector<Instr> code = f.code;
  bool folded = false;
  for (Instr& ins : code) {
    const Op op = Op(opcodeOf(ins));
    if (op == Op::IS_PRIN) {
      ins = encode(Op::LOADB, fieldA(ins), fieldB(ins) == pt ? 1 : 0);
      folded = true;
    } else if (op == Op::HAS_PRIN && fieldC(ins) != pt) {
      ins = encode(Op::LOADB, fieldA(ins), 0);
      folded = true;
    }
  }
  if (!folded) return {};

  // Branches on registers known to hold a constant, in one forward pass (jumps only go
  // forward): what is known on entry to an instruction is what all the edges into it agree
  // on. A loop body is entered again by its back edge, so nothing is known at its start
  // or after it. Small functions only: the pass keeps a state per instruction.
  if (n > kMaxSpecialized || f.numRegs > kMaxSpecialized) return {};
  std::vector<bool> loopEntry(n + 1, false);
  for (size_t pc = 0; pc < n; ++pc) {
    const Op op = Op(opcodeOf(code[pc]));
    if (opHas(op, opflag::Loop)) loopEntry[pc + 1] = true;
  }
  const std::vector<Known> unknown(f.numRegs, Known::No);
  std::vector<std::vector<Known>> in(n + 1);
  std::vector<bool> reached(n + 1, false);
  auto flow = [&](size_t to, const std::vector<Known>& state) {
    if (to > n) return;
    if (!reached[to]) {
      reached[to] = true;
      in[to] = state;
      return;
    }
    for (size_t r = 0; r < state.size(); ++r)
      if (in[to][r] != state[r]) in[to][r] = Known::No;
  };
  flow(0, unknown);
  std::vector<bool> nop(n, false);  // a branch never taken, an error never there to take
  for (size_t pc = 0; pc < n; ++pc) {
    if (!reached[pc]) continue;
    std::vector<Known> state;
    if (loopEntry[pc])
      state = unknown;
    else
      state = std::move(in[pc]);
    Instr& ins = code[pc];
    const Op op = Op(opcodeOf(ins));
    const uint32_t a = fieldA(ins);
    auto knownAt = [&](uint32_t r) { return r < state.size() ? state[r] : Known::No; };
    if (opHas(op, opflag::Cond)) {
      const Known k = knownAt(a);
      // JMP_FALSE jumps on false, JMP_TRUE on true, JMP_NOT_TRUE on anything but true.
      const bool taken = op == Op::JMP_TRUE ? k == Known::True : k == Known::False;
      if (k != Known::No && taken) {
        ins = encode(Op::JMP, 0, fieldB(ins));
        flow(jumpTarget(ins, pc), state);
      } else if (k != Known::No) {
        nop[pc] = true;
        flow(pc + 1, state);
      } else {
        flow(jumpTarget(ins, pc), state);
        flow(pc + 1, state);
      }
      continue;
    }
    if (op == Op::TAKE_ERROR && knownAt(fieldB(ins)) != Known::No) {
      nop[pc] = true;  // a Bool constant is no error to take
      flow(pc + 1, state);
      continue;
    }
    const Operand role = opInfo(op).a;
    if ((role == Operand::RegWrite || role == Operand::RegReadWrite) && a < state.size())
      state[a] = op == Op::LOADB ? (fieldB(ins) ? Known::True : Known::False) : Known::No;
    if (hasJump(op)) flow(jumpTarget(ins, pc), state);
    if (!opHas(op, opflag::End)) flow(pc + 1, state);
  }

  // Keep what can still run, then drop jumps to the next kept instruction and constants
  // nothing reads, until nothing changes.
  std::vector<bool> keep(n, false);
  for (size_t pc = 0; pc < n; ++pc) keep[pc] = reached[pc] && !nop[pc];

  auto nextKept = [&](size_t pc) {
    while (pc < n && !keep[pc]) ++pc;
    return pc;
  };
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<bool> read(f.numRegs, false);
    for (size_t pc = 0; pc < n; ++pc)
      if (keep[pc]) markReads(code[pc], read);
    for (size_t pc = 0; pc < n; ++pc) {
      if (!keep[pc]) continue;
      const Op op = Op(opcodeOf(code[pc]));
      const bool deadJump = op == Op::JMP && nextKept(jumpTarget(code[pc], pc)) == nextKept(pc + 1);
      const bool deadConstant = op == Op::LOADB && fieldA(code[pc]) < read.size() && !read[fieldA(code[pc])];
      if (deadJump || deadConstant) keep[pc] = false, changed = true;
    }
  }

  // Renumber, retargeting every jump at the first kept instruction from its old target on.
  std::vector<uint32_t> index(n + 1, 0);
  uint32_t kept = 0;
  for (size_t pc = 0; pc <= n; ++pc) {
    index[pc] = kept;
    if (pc < n && keep[pc]) ++kept;
  }
  std::vector<Instr> out;
  out.reserve(kept);
  for (size_t pc = 0; pc < n; ++pc) {
    if (!keep[pc]) continue;
    Instr ins = code[pc];
    const Op op = Op(opcodeOf(ins));
    if (hasJump(op)) {
      const uint32_t target = index[nextKept(jumpTarget(ins, pc))];
      ins = withJumpOffset(ins, target - uint32_t(out.size()) - 1);
    }
    out.push_back(ins);
  }
  return out;
}

}  // namespace pave::rt
