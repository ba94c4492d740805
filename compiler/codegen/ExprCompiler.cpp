#include "codegen/ExprCompiler.h"

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

namespace {
/// What a rule exceeding a limit of the bytecode format is told.
std::string limitMessage(rt::Limit limit, const std::string& owner) {
  const std::string rule = "rule `" + owner + "` ";
  switch (limit) {
    case rt::Limit::Registers: return rule + "needs more registers than a bundle function has";
    case rt::Limit::Constants: return rule + "has more constants than a bundle function holds";
    case rt::Limit::Instructions: return rule + "compiles to more instructions than a bundle function holds";
    case rt::Limit::JumpDistance: return rule + "has a condition too large for one bundle function";
    case rt::Limit::Operand: break;
  }
  return rule + "refers to more declarations than a bundle function can address";
}
}  // namespace

uint32_t ExprCompiler::finish(CExprId expr, uint32_t numVars, const std::string& owner, bool negate) {
  rt::FunctionBuilder fb(b_);
  fb_ = &fb;  // valid until this call returns
  owner_ = owner;
  vars_.assign(numVars, UINT32_MAX);
  try {
    Reg result = fb.reg();
    if (negate)
      compileUnary(Op::NOT, expr, result);
    else
      compile(expr, result);
    fb.ret(result);
    return fb.finishShared();
  } catch (const rt::LimitError& e) {
    throw std::runtime_error(limitMessage(e.limit(), owner));
  }
}

void ExprCompiler::compileUnary(Op op, CExprId e, Reg dst) {
  rt::RegScope scratch(*fb_);
  Reg r = fb_->reg();
  compile(e, r);
  fb_->emit(op, dst, r);
}

void ExprCompiler::compileBinary(Op op, CExprId lhs, CExprId rhs, Reg dst) {
  rt::RegScope scratch(*fb_);
  Reg l = fb_->reg(), r = fb_->reg();
  compile(lhs, l);
  compile(rhs, r);
  fb_->emit(op, dst, l, r);
}

void ExprCompiler::compileLogic(CExprId e, Reg dst, bool isAnd) {
  // Short circuit that keeps CEL's absorption: a false (true) operand decides `and`
  // (`or`) whatever the others are; errors only surface when nothing decides.
  uint32_t n = p_.numChildren(e);
  compile(p_.child(e, 0), dst);
  rt::Label end = fb_->label();
  for (uint32_t i = 1; i < n; ++i) {
    if (isAnd)
      fb_->jumpIfFalse(dst, end);
    else
      fb_->jumpIfTrue(dst, end);
    rt::RegScope scratch(*fb_);
    Reg t = fb_->reg();
    compile(p_.child(e, i), t);
    fb_->emit(isAnd ? Op::AND : Op::OR, dst, dst, t);
  }
  fb_->bind(end);
}

void ExprCompiler::compileIf(CExprId e, Reg dst) {
  rt::RegScope scratch(*fb_);
  Reg c = fb_->reg();
  compile(p_.child(e, 0), c);
  rt::Label otherwise = fb_->label(), end = fb_->label();
  fb_->jumpIfNotTrue(c, otherwise);
  compile(p_.child(e, 1), dst);
  fb_->jump(end);
  fb_->bind(otherwise);
  compile(p_.child(e, 2), dst);
  fb_->emit(Op::TAKE_ERROR, dst, c);  // an erroneous condition makes the whole `if` an error
  fb_->bind(end);
}

void ExprCompiler::compileQuantifier(CExprId e, Reg dst, bool isAny) {
  const sema::CExpr& q = p_.expr(e);
  rt::RegScope scratch(*fb_);
  Reg set = fb_->reg();
  compile(p_.child(e, 0), set);
  Reg var = fb_->reg();
  Reg pred = fb_->reg();
  if (q.a >= vars_.size()) vars_.resize(q.a + 1, UINT32_MAX);
  vars_[q.a] = var;
  fb_->emit(Op::LOADB, pred, 0);
  rt::Loop loop = fb_->iterBegin(isAny ? rt::QuantMode::Any : rt::QuantMode::All, var, set);
  compile(p_.child(e, 1), pred);
  fb_->iterNext(loop, dst, pred);
}

void ExprCompiler::compileSet(CExprId e, Reg dst) {
  uint32_t n = p_.numChildren(e);
  if (n == 0) {
    fb_->emit(Op::LOADK, dst, fb_->constant(consts_(sema::ConstValue::set(p_.expr(e).type, {}))));
    return;
  }
  rt::RegScope scratch(*fb_);
  Reg base = fb_->regs(n);
  for (uint32_t i = 0; i < n; ++i) compile(p_.child(e, i), base + i);
  fb_->emit(Op::BUILD_SET, dst, base, n);
}

void ExprCompiler::compileAttr(const sema::CExpr& e, Reg dst, bool has) {
  std::string name(p_.str(sema::StrId{e.a}));
  switch (e.root()) {
    case sema::Root::Request:
      fb_->emit(has ? Op::HAS_REQ : Op::LOAD_REQ, dst, requestSlots_(name, e.type));
      return;
    case sema::Root::Context: {
      const auto& attrs = p_.context.attrs;
      for (uint32_t i = 0; i < attrs.size(); ++i)
        if (attrs[i].name == name) {
          fb_->emit(has ? Op::HAS_CTX : Op::LOAD_CTX, dst, i);
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
      rt::Label end = fb_->label();
      rt::RegScope scratch(*fb_);
      Reg test = fb_->reg();
      for (size_t i = 0; i + 1 < candidates.size(); ++i) {
        rt::Label next = fb_->label();
        fb_->emit(Op::IS_PRIN, test, candidates[i].first);
        fb_->jumpIfFalse(test, next);
        fb_->emit(has ? Op::HAS_PRIN : Op::LOAD_PRIN, dst, candidates[i].second, candidates[i].first);
        fb_->jump(end);
        fb_->bind(next);
      }
      fb_->emit(has ? Op::HAS_PRIN : Op::LOAD_PRIN, dst, candidates.back().second, candidates.back().first);
      fb_->bind(end);
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
      if (v.kind == sema::ConstValue::Kind::Bool) fb_->emit(Op::LOADB, dst, v.i ? 1 : 0);
      else fb_->emit(Op::LOADK, dst, fb_->constant(consts_(v)));
      return;
    }
    case CExprKind::Attr: compileAttr(e, dst, false); return;
    case CExprKind::Has: {
      const sema::CExpr& inner = p_.expr(kid(0));
      if (inner.kind != CExprKind::Field) {
        compileAttr(inner, dst, true);
        return;
      }
      rt::RegScope scratch(*fb_);
      Reg row = fb_->reg();
      compile(p_.child(kid(0), 0), row);
      fb_->emit(Op::HAS_FIELD, dst, row, inner.b);
      return;
    }
    case CExprKind::Table: fb_->emit(Op::LOAD_TABLE, dst, e.a); return;
    case CExprKind::Field: {
      rt::RegScope scratch(*fb_);
      Reg row = fb_->reg();
      compile(kid(0), row);
      fb_->emit(Op::GET_FIELD, dst, row, e.b);
      return;
    }
    case CExprKind::Var:
      if (e.a >= vars_.size() || vars_[e.a] == UINT32_MAX)
        throw std::runtime_error("internal error: unbound quantifier variable in rule `" + owner_ + "`");
      fb_->emit(Op::MOVE, dst, vars_[e.a]);
      return;
    case CExprKind::IsPrincipal: fb_->emit(Op::IS_PRIN, dst, e.a); return;
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
      rt::Const k = fb_->stringConst(pattern);
      rt::RegScope scratch(*fb_);
      Reg s = fb_->reg();
      compile(kid(0), s);
      fb_->emit(Op::LIKE, dst, s, fb_->constant(k));
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
