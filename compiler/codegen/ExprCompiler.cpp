#include "codegen/ExprCompiler.h"

#include <algorithm>
#include <stdexcept>

namespace pave::codegen {

using sema::CExprId;
using sema::CExprKind;
using rt::Op;

uint32_t ExprCompiler::function(CExprId expr, uint32_t numVars, const std::string& owner) {
  return finish(expr, numVars, owner, false);
}

uint32_t ExprCompiler::negatedFunction(CExprId expr, uint32_t numVars, const std::string& owner) {
  return finish(expr, numVars, owner, true);
}

uint32_t ExprCompiler::finish(CExprId expr, uint32_t numVars, const std::string& owner, bool negate) {
  fn_ = rt::Function{};
  next_ = 0;
  owner_ = owner;
  vars_.assign(numVars, UINT32_MAX);
  highWater_ = 0;
  Reg result = alloc();
  if (negate)
    compileUnary(Op::NOT, expr, result);
  else
    compile(expr, result);
  emit(Op::RET, result);
  fn_.num_regs = highWater_;
  if (fn_.code.size() > rt::kMaxInstructions)
    throw std::runtime_error("rule `" + owner + "` compiles to more instructions than a bundle function holds");
  // Identical functions (the same condition in several rules) are stored once.
  for (uint32_t i = 0; i < b_.functions.size(); ++i)
    if (b_.functions[i] == fn_) return i;
  b_.functions.push_back(std::move(fn_));
  return static_cast<uint32_t>(b_.functions.size() - 1);
}

size_t ExprCompiler::emit(Op op, uint32_t a, uint32_t b, uint32_t c, uint32_t x) {
  fn_.code.push_back(rt::encode(op, a, b, c, x));
  return fn_.code.size() - 1;
}

void ExprCompiler::patchJump(size_t at, unsigned field) {
  size_t distance = fn_.code.size() - at - 1;
  if (distance > rt::kMaxFieldValue)
    throw std::runtime_error("rule `" + owner_ + "` has a condition too large for one bundle function");
  rt::Instr ins = fn_.code[at];
  unsigned shift = field == 1 ? 32 : 48;  // B or C
  ins &= ~(uint64_t(0xffff) << shift);
  ins |= uint64_t(distance) << shift;
  fn_.code[at] = ins;
}

ExprCompiler::Reg ExprCompiler::alloc(uint32_t n) {
  Reg r = next_;
  next_ += n;
  highWater_ = std::max(highWater_, next_);
  if (next_ > rt::kMaxRegisters)
    throw std::runtime_error("rule `" + owner_ + "` needs more registers than a bundle function has");
  return r;
}

uint32_t ExprCompiler::constant(const rt::Const& c) {
  for (uint32_t i = 0; i < fn_.consts.size(); ++i)
    if (fn_.consts[i] == c) return i;
  fn_.consts.push_back(c);
  if (fn_.consts.size() > rt::kMaxFieldValue)
    throw std::runtime_error("rule `" + owner_ + "` has more constants than a bundle function holds");
  return static_cast<uint32_t>(fn_.consts.size() - 1);
}

void ExprCompiler::compileUnary(Op op, CExprId e, Reg dst) {
  Scratch scratch(*this);
  Reg r = alloc();
  compile(e, r);
  emit(op, dst, r);
}

void ExprCompiler::compileBinary(Op op, CExprId lhs, CExprId rhs, Reg dst) {
  Scratch scratch(*this);
  Reg l = alloc(), r = alloc();
  compile(lhs, l);
  compile(rhs, r);
  emit(op, dst, l, r);
}

void ExprCompiler::compileLogic(CExprId e, Reg dst, bool isAnd) {
  // Short circuit that keeps CEL's absorption: a false (true) operand decides `and`
  // (`or`) whatever the others are; errors only surface when nothing decides.
  uint32_t n = p_.numChildren(e);
  compile(p_.child(e, 0), dst);
  std::vector<size_t> exits;
  for (uint32_t i = 1; i < n; ++i) {
    exits.push_back(emit(isAnd ? Op::JMP_FALSE : Op::JMP_TRUE, dst));
    Scratch scratch(*this);
    Reg t = alloc();
    compile(p_.child(e, i), t);
    emit(isAnd ? Op::AND : Op::OR, dst, dst, t);
  }
  for (size_t at : exits) patchJump(at, 1);
}

void ExprCompiler::compileIf(CExprId e, Reg dst) {
  Scratch scratch(*this);
  Reg c = alloc();
  compile(p_.child(e, 0), c);
  size_t toElse = emit(Op::JMP_NOT_TRUE, c);
  compile(p_.child(e, 1), dst);
  size_t toEnd = emit(Op::JMP);
  patchJump(toElse, 1);
  compile(p_.child(e, 2), dst);
  emit(Op::TAKE_ERROR, dst, c);  // an erroneous condition makes the whole `if` an error
  patchJump(toEnd, 1);
}

void ExprCompiler::compileQuantifier(CExprId e, Reg dst, bool isAny) {
  const sema::CExpr& q = p_.expr(e);
  Scratch scratch(*this);
  Reg set = alloc();
  compile(p_.child(e, 0), set);
  Reg var = alloc();
  Reg pred = alloc();
  if (q.a >= vars_.size()) vars_.resize(q.a + 1, UINT32_MAX);
  vars_[q.a] = var;
  emit(Op::LOADB, pred, 0);
  size_t begin = emit(Op::ITER_BEGIN, var, set, 0, static_cast<uint32_t>(isAny ? rt::QuantMode::Any : rt::QuantMode::All));
  compile(p_.child(e, 1), pred);
  patchJump(begin, 2);
  emit(Op::ITER_NEXT, dst, pred);
}

void ExprCompiler::compileSet(CExprId e, Reg dst) {
  uint32_t n = p_.numChildren(e);
  if (n == 0) {
    emit(Op::LOADK, dst, constant(consts_(sema::ConstValue::set(p_.expr(e).type, {}))));
    return;
  }
  Scratch scratch(*this);
  Reg base = alloc(n);
  for (uint32_t i = 0; i < n; ++i) compile(p_.child(e, i), base + i);
  emit(Op::BUILD_SET, dst, base, n);
}

void ExprCompiler::compileAttr(const sema::CExpr& e, Reg dst, bool has) {
  std::string name(p_.str(sema::StrId{e.a}));
  switch (e.root()) {
    case sema::Root::Request:
      emit(has ? Op::HAS_REQ : Op::LOAD_REQ, dst, requestSlots_(name, e.type));
      return;
    case sema::Root::Context: {
      const auto& attrs = p_.context.attrs;
      for (uint32_t i = 0; i < attrs.size(); ++i)
        if (attrs[i].name == name) {
          emit(has ? Op::HAS_CTX : Op::LOAD_CTX, dst, i);
          return;
        }
      break;
    }
    case sema::Root::Principal: {
      // The attribute of whichever principal type is deciding: sema guarantees that every
      // principal type possible here has it, so test the candidates in turn.
      std::vector<std::pair<uint32_t, uint32_t>> candidates;  // (principal type, slot)
      for (uint32_t t = 0; t < p_.principals.size(); ++t) {
        const auto& attrs = p_.principals[t].attrs;
        for (uint32_t s = 0; s < attrs.size(); ++s)
          if (attrs[s].name == name && attrs[s].type == e.type) candidates.push_back({t, s});
      }
      if (candidates.empty()) break;
      std::vector<size_t> exits;
      Scratch scratch(*this);
      Reg test = alloc();
      for (size_t i = 0; i + 1 < candidates.size(); ++i) {
        emit(Op::IS_PRIN, test, candidates[i].first);
        size_t skip = emit(Op::JMP_FALSE, test);
        emit(has ? Op::HAS_PRIN : Op::LOAD_PRIN, dst, candidates[i].second, candidates[i].first);
        exits.push_back(emit(Op::JMP));
        patchJump(skip, 1);
      }
      emit(has ? Op::HAS_PRIN : Op::LOAD_PRIN, dst, candidates.back().second, candidates.back().first);
      for (size_t at : exits) patchJump(at, 1);
      return;
    }
    case sema::Root::Param: break;
  }
  throw std::runtime_error("internal error: unresolved attribute `" + name + "` in rule `" + owner_ + "`");
}

void ExprCompiler::compileCompare(const sema::CExpr& e, CExprId id, Reg dst) {
  static constexpr Op kOps[] = {Op::EQ, Op::NE, Op::LT, Op::LE, Op::GT, Op::GE};
  compileBinary(kOps[e.op], p_.child(id, 0), p_.child(id, 1), dst);
}

void ExprCompiler::compile(CExprId id, Reg dst) {
  const sema::CExpr& e = p_.expr(id);
  auto kid = [&](uint32_t i) { return p_.child(id, i); };
  switch (e.kind) {
    case CExprKind::Literal: {
      const sema::ConstValue& v = p_.constant(sema::ConstId{e.a});
      if (v.kind == sema::ConstValue::Kind::Bool) emit(Op::LOADB, dst, v.i ? 1 : 0);
      else emit(Op::LOADK, dst, constant(consts_(v)));
      return;
    }
    case CExprKind::Attr: compileAttr(e, dst, false); return;
    case CExprKind::Has: {
      const sema::CExpr& inner = p_.expr(kid(0));
      if (inner.kind != CExprKind::Field) {
        compileAttr(inner, dst, true);
        return;
      }
      Scratch scratch(*this);
      Reg row = alloc();
      compile(p_.child(kid(0), 0), row);
      emit(Op::HAS_FIELD, dst, row, inner.b);
      return;
    }
    case CExprKind::Table: emit(Op::LOAD_TABLE, dst, e.a); return;
    case CExprKind::Field: {
      Scratch scratch(*this);
      Reg row = alloc();
      compile(kid(0), row);
      emit(Op::GET_FIELD, dst, row, e.b);
      return;
    }
    case CExprKind::Var:
      if (e.a >= vars_.size() || vars_[e.a] == UINT32_MAX)
        throw std::runtime_error("internal error: unbound quantifier variable in rule `" + owner_ + "`");
      emit(Op::MOVE, dst, vars_[e.a]);
      return;
    case CExprKind::IsPrincipal: emit(Op::IS_PRIN, dst, e.a); return;
    case CExprKind::Not: compileUnary(Op::NOT, kid(0), dst); return;
    case CExprKind::Neg: compileUnary(Op::NEG, kid(0), dst); return;
    case CExprKind::And: compileLogic(id, dst, true); return;
    case CExprKind::Or: compileLogic(id, dst, false); return;
    case CExprKind::Compare: compileCompare(e, id, dst); return;
    case CExprKind::Add: compileBinary(Op::ADD, kid(0), kid(1), dst); return;
    case CExprKind::Sub: compileBinary(Op::SUB, kid(0), kid(1), dst); return;
    case CExprKind::Concat: compileBinary(Op::CONCAT, kid(0), kid(1), dst); return;
    case CExprKind::SetBuild: compileSet(id, dst); return;
    case CExprKind::InSet: compileBinary(Op::IN_SET, kid(0), kid(1), dst); return;
    case CExprKind::InCidr: compileBinary(Op::IN_CIDR, kid(0), kid(1), dst); return;
    case CExprKind::InMap: compileBinary(Op::IN_MAP, kid(0), kid(1), dst); return;
    case CExprKind::Like: {
      // The runtime's glob spells a literal star `\*`; sema marks it with the byte 0x01.
      std::string pattern;
      for (char c : p_.str(sema::StrId{e.a})) pattern += c == '\x01' ? std::string("\\*") : std::string(1, c);
      rt::Const k;
      k.type = b_.typeId(rt::TypeKind::String);
      k.str = b_.intern(pattern);
      Scratch scratch(*this);
      Reg s = alloc();
      compile(kid(0), s);
      emit(Op::LIKE, dst, s, constant(k));
      return;
    }
    case CExprKind::MapIndex: compileBinary(Op::MAP_GET, kid(0), kid(1), dst); return;
    case CExprKind::If: compileIf(id, dst); return;
    case CExprKind::Any: compileQuantifier(id, dst, true); return;
    case CExprKind::All: compileQuantifier(id, dst, false); return;
    case CExprKind::StrStartsWith: compileBinary(Op::STARTS_WITH, kid(0), kid(1), dst); return;
    case CExprKind::StrEndsWith: compileBinary(Op::ENDS_WITH, kid(0), kid(1), dst); return;
    case CExprKind::StrContains: compileBinary(Op::CONTAINS_STR, kid(0), kid(1), dst); return;
    case CExprKind::StrLower: compileUnary(Op::LOWER, kid(0), dst); return;
    case CExprKind::StrUpper: compileUnary(Op::UPPER, kid(0), dst); return;
    case CExprKind::StrSize:
    case CExprKind::SetSize:
    case CExprKind::MapSize: compileUnary(Op::SIZE, kid(0), dst); return;
    case CExprKind::StrIsEmpty:
    case CExprKind::SetIsEmpty:
    case CExprKind::MapIsEmpty: compileUnary(Op::IS_EMPTY, kid(0), dst); return;
    case CExprKind::SetContains: compileBinary(Op::IN_SET, kid(1), kid(0), dst); return;
    case CExprKind::SetContainsAll: compileBinary(Op::CONTAINS_ALL, kid(0), kid(1), dst); return;
    case CExprKind::SetContainsAny: compileBinary(Op::CONTAINS_ANY, kid(0), kid(1), dst); return;
    case CExprKind::Hour: compileUnary(Op::HOUR, kid(0), dst); return;
    case CExprKind::Weekday: compileUnary(Op::WEEKDAY, kid(0), dst); return;
    case CExprKind::Date: compileUnary(Op::DATE, kid(0), dst); return;
    case CExprKind::Seconds: compileUnary(Op::SECONDS, kid(0), dst); return;
    case CExprKind::Root:
    case CExprKind::Param:
    case CExprKind::Invalid: break;
  }
  throw std::runtime_error("internal error: `" + std::string(sema::cexprKindName(e.kind)) +
                           "` reached code generation in rule `" + owner_ + "`");
}

}  // namespace pave::codegen
