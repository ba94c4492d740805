// Internal: the one-test functions the decision plan runs without the interpreter, and the
// three-valued answer of a test that may not decide.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pave/bundle.h"
#include "pave/opcodes.h"
#include "pave/value.h"

namespace pave::rt {

// The answer of a test that may not decide: Undecided means "run the bytecode" (the
// attribute is absent, or of another kind, so errors and their messages stay the VM's).
// The values are those of the `int` the tests returned before (1, 0, -1), so that the
// decided ones convert to a Bool with a compare.
enum class Truth : int { False = 0, True = 1, Undecided = -1 };

inline Truth truth(bool b) { return Truth(int(b)); }
// A decided answer inverted when `negate`; an undecided one stays so.
inline Truth negated(Truth t, bool negate) { return t == Truth::Undecided ? t : Truth(int(t) ^ int(negate)); }

// A function that is one test of an input attribute against a constant, such as
// `request.env == Env.prod`, `principal is Human` or `request.duration <= 4h`: the decider
// evaluates it without the interpreter whenever the attribute is present (otherwise it runs
// the bytecode, so errors and their messages stay those of the VM).
struct FastTest {
  // IsPrincipal: `principal is T`; Has: `has(attr)`; Load: an attribute as is; Constant:
  // a constant (`k`); Compare: below.
  enum class Form : uint8_t { None, IsPrincipal, Has, Load, Constant, Compare };
  enum class Root : uint8_t { Principal, Request, Context };
  Form form = Form::None;
  Root root = Root::Request;
  // EQ NE LT LE GT GE (input OP constant), IN_SET IN_CIDR (input in constant), LIKE
  // STARTS_WITH ENDS_WITH CONTAINS_STR (input.op(constant)), IN_MAP (constant in input).
  Op op = Op::EQ;
  // Compare on a map entry (`request.tags["owner"] == "x"`): the attribute is a map and the
  // test reads its entry `entryKey`; a missing key leaves the test undecided.
  bool entry = false;
  // Has and Compare only: the function is `not` of the test (`not has(request.x)`,
  // `not (request.duration <= 1h)`); a decided result is inverted, an undecided one stays so.
  bool negate = false;
  // Compare only: the test is on the attribute's size (String bytes, Set elements, Map
  // entries), as `request.justification.size() >= 13`.
  bool size = false;
  // Compare only: the test is guarded by `has` of its attribute (`has(request.x) and
  // <test>`, the usual form for an optional attribute): false when the attribute is absent
  // (or belongs to another principal type), the test otherwise.
  bool guarded = false;
  uint32_t slot = 0;
  uint32_t ptype = 0;       // IsPrincipal; Compare on the principal: the type LOAD_PRIN requires
  std::string_view entryKey;
  Value k;
};

// plan/fast_tests.cpp: recognizes the one-test functions of FastTest in the instruction
// shapes the code generator emits (the contract is recorded by `pave inspect --disasm`,
// one `; fast:` line per function, and the golden bytecode tests).
FastTest recognizeFastTest(const Function& f, const std::vector<Value>& consts);
// The plan of a function as `pave inspect --disasm` prints it, e.g.
// `compare req.s3 <= k0` (k0: the function's constant in `consts`), `not has prin(p1).s0`,
// `compare req.s0 starts with "db-"` (from `like "db-*"`), `none`.
std::string describeFastTest(const FastTest& t, const std::vector<Value>& consts);

}  // namespace pave::rt
