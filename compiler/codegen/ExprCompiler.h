// Compiles one checked expression into one bytecode function (register machine,
// forward jumps only, quantifiers as ITER_BEGIN/ITER_NEXT loops). Instructions, labels,
// registers and constants go through rt::FunctionBuilder, the one assembler.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <pave/builder.h>
#include <pave/bundle.h>

#include "sema/Program.h"

namespace pave::codegen {

class ExprCompiler {
 public:
  using TypeMap = std::function<rt::TypeId(sema::TypeId)>;
  using ConstMap = std::function<rt::Const(const sema::ConstValue&)>;
  using SlotMap = std::function<uint32_t(const std::string&, sema::TypeId)>;

  ExprCompiler(const sema::CheckedProgram& program, rt::Bundle& bundle, TypeMap types, ConstMap consts,
               SlotMap requestSlots)
      : p_(program), b_(bundle), types_(std::move(types)), consts_(std::move(consts)),
        requestSlots_(std::move(requestSlots)) {}

  /// Adds a function computing `expr` and returns its index. Throws std::runtime_error
  /// (naming `owner`) when the function exceeds a limit of the bytecode format.
  uint32_t function(sema::CExprId expr, uint32_t numVars, const std::string& owner);
  /// The same for `not expr`.
  uint32_t negatedFunction(sema::CExprId expr, uint32_t numVars, const std::string& owner);

 private:
  using Reg = rt::Reg;

  uint32_t finish(sema::CExprId expr, uint32_t numVars, const std::string& owner, bool negate);

  // Expressions: each writes its value into `dst`.
  void compile(sema::CExprId e, Reg dst);
  void compileUnary(rt::Op op, sema::CExprId e, Reg dst);
  void compileBinary(rt::Op op, sema::CExprId lhs, sema::CExprId rhs, Reg dst);
  void compileLogic(sema::CExprId e, Reg dst, bool isAnd);
  void compileIf(sema::CExprId e, Reg dst);
  void compileQuantifier(sema::CExprId e, Reg dst, bool isAny);
  void compileSet(sema::CExprId e, Reg dst);
  void compileAttr(const sema::CExpr& e, Reg dst, bool has);
  void compileCompare(const sema::CExpr& e, sema::CExprId id, Reg dst);

  const sema::CheckedProgram& p_;
  rt::Bundle& b_;
  TypeMap types_;
  ConstMap consts_;
  SlotMap requestSlots_;

  rt::FunctionBuilder* fb_ = nullptr;  // the function being compiled
  std::vector<Reg> vars_;  // quantifier variable → register
  std::string owner_;
};

}  // namespace pave::codegen
