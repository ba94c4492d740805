// Recognizing fast tests (plan/fast_test.h): the one-test functions, matched on the exact
// instruction shapes the code generator emits for them. A shape that codegen stops
// emitting turns the fast path off silently, so `pave inspect --disasm` prints each
// function's recognized test (describeFastTest) and the golden bytecode tests record it.
#include <cstring>
#include <string>

#include "plan/fast_test.h"

namespace pave::rt {
namespace {

FastTest::Root rootOf(Op load) {
  return opHas(load, opflag::Prin)  ? FastTest::Root::Principal
         : opHas(load, opflag::Req) ? FastTest::Root::Request
                                    : FastTest::Root::Context;
}
bool isLoad(Op op) { return opHas(op, opflag::Load); }
bool isHas(Op op) { return opHas(op, opflag::Has); }

// `input OP constant` (inputLeft) or `constant OP input`: the operation a fast test runs.
bool fastOp(Op op, bool inputLeft, Op& out) {
  static constexpr Op kFlip[] = {Op::GT, Op::GE, Op::LT, Op::LE};  // LT LE GT GE, operands swapped
  switch (op) {
    case Op::EQ:
    case Op::NE: out = op; return true;
    case Op::LT:
    case Op::LE:
    case Op::GT:
    case Op::GE: out = inputLeft ? op : kFlip[int(op) - int(Op::LT)]; return true;
    case Op::IN_SET:
    case Op::IN_CIDR:
    case Op::STARTS_WITH:
    case Op::ENDS_WITH:
    case Op::CONTAINS_STR: out = op; return inputLeft;
    case Op::IN_MAP: out = op; return !inputLeft;  // constant key in an input map
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
    const int constAt = Op(opcodeOf(c[0])) == Op::LOADK ? 0 : 2, loadAt = constAt == 0 ? 1 : 0;
    const Instr load = c[loadAt], size = c[loadAt + 1], k = c[constAt], cmp = c[3];
    if (!isLoad(Op(opcodeOf(load))) || Op(opcodeOf(size)) != Op::SIZE || Op(opcodeOf(k)) != Op::LOADK ||
        fieldB(size) != fieldA(load) || fieldA(size) == fieldA(k) || fieldA(cmp) != result)
      return t;
    const uint32_t slotReg = fieldA(size), constReg = fieldA(k);
    const bool inLeft = fieldB(cmp) == slotReg && fieldC(cmp) == constReg;
    if (!inLeft && !(fieldB(cmp) == constReg && fieldC(cmp) == slotReg)) return t;
    const Op op = Op(opcodeOf(cmp));
    if (!opHas(op, opflag::Cmp)) return t;
    if (!fastOp(op, inLeft, t.op) || consts[fieldB(k)].kind != Kind::Int) return t;
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
  Instr inputLoad = c[0];
  if (entry) {
    const Instr key = c[1], get = c[2];
    if (!isLoad(Op(opcodeOf(inputLoad))) || Op(opcodeOf(key)) != Op::LOADK || Op(opcodeOf(get)) != Op::MAP_GET ||
        consts[fieldB(key)].kind != Kind::String || fieldB(get) != fieldA(inputLoad) || fieldC(get) != fieldA(key) ||
        fieldA(inputLoad) == fieldA(key))
      return t;
    t.entry = true;
    t.entryKey = consts[fieldB(key)].str();
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
    inputLoad = c[load];
  }
  const uint32_t inReg = fieldA(pair[load]), constReg = fieldA(pair[konst]);
  const Instr cmp = pair[2];
  if (inReg == constReg || fieldA(cmp) != result) return t;
  const bool inLeft = fieldB(cmp) == inReg && fieldC(cmp) == constReg;
  const bool inRight = fieldB(cmp) == constReg && fieldC(cmp) == inReg;
  if (!inLeft && !inRight) return t;
  if (!fastOp(Op(opcodeOf(cmp)), inLeft, t.op)) return t;
  if (entry && t.op == Op::IN_MAP) return t;  // an entry holds a scalar, never a map
  t.k = consts[fieldB(pair[konst])];
  static constexpr struct { Op op; Kind k; } kConstKinds[] = {
      {Op::IN_SET, Kind::Set}, {Op::IN_CIDR, Kind::Cidr}, {Op::STARTS_WITH, Kind::String},
      {Op::ENDS_WITH, Kind::String}, {Op::CONTAINS_STR, Kind::String}, {Op::IN_MAP, Kind::String}};
  for (auto [op, kind] : kConstKinds)
    if (t.op == op && t.k.kind != kind) return t;
  input(inputLoad);
  t.form = FastTest::Form::Compare;
  return t;
}

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

}  // namespace

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

namespace {

// The constant a test compares with, as the disassembly names it: `k<i>`, the function's
// constant it was taken from, or (a `like` pattern's literal part, LOADB) its text.
std::string constName(const Value& k, const std::vector<Value>& consts) {
  for (size_t i = 0; i < consts.size(); ++i) {
    const Value& c = consts[i];
    if (c.kind != k.kind || c.n != k.n) continue;
    const bool same = k.kind == Kind::Ip || k.kind == Kind::Cidr ? std::memcmp(c.ip, k.ip, 16) == 0
                      : k.kind == Kind::String                   ? c.s == k.s
                      : k.kind == Kind::Set || k.kind == Kind::Map ? c.elems == k.elems
                                                                   : c.i == k.i;
    if (same) return "k" + std::to_string(i);
  }
  if (k.kind == Kind::String) return "\"" + std::string(k.str()) + "\"";
  if (k.kind == Kind::Bool) return k.i ? "true" : "false";
  return "?";
}

const char* opText(Op op) {
  switch (op) {
    case Op::EQ: return "==";
    case Op::NE: return "!=";
    case Op::LT: return "<";
    case Op::LE: return "<=";
    case Op::GT: return ">";
    case Op::GE: return ">=";
    case Op::IN_SET: return "in";
    case Op::IN_CIDR: return "in cidr";
    case Op::LIKE: return "like";
    case Op::STARTS_WITH: return "starts with";
    case Op::ENDS_WITH: return "ends with";
    case Op::CONTAINS_STR: return "contains";
    default: return "?";
  }
}

}  // namespace

std::string describeFastTest(const FastTest& t, const std::vector<Value>& consts) {
  std::string input = t.root == FastTest::Root::Principal ? "prin(p" + std::to_string(t.ptype) + ")"
                      : t.root == FastTest::Root::Request ? std::string("req")
                                                          : std::string("ctx");
  input += ".s" + std::to_string(t.slot);
  switch (t.form) {
    case FastTest::Form::None: return "none";
    case FastTest::Form::IsPrincipal: return "principal is p" + std::to_string(t.ptype);
    case FastTest::Form::Has: return (t.negate ? "not has " : "has ") + input;
    case FastTest::Form::Load: return "load " + input;
    case FastTest::Form::Constant: return "constant " + constName(t.k, consts);
    case FastTest::Form::Compare: break;
  }
  std::string test = t.guarded ? "has " + input + " and " : "";
  if (t.entry) input += "[\"" + std::string(t.entryKey) + "\"]";
  if (t.size) input += ".size()";
  test += t.op == Op::IN_MAP ? constName(t.k, consts) + " key of " + input
                             : input + " " + opText(t.op) + " " + constName(t.k, consts);
  return "compare " + (t.negate ? "not (" + test + ")" : test);
}

}  // namespace pave::rt
