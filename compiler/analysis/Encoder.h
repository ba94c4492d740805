// Encoding of checked expressions into Z3 over the inputs of one request type (SPEC §4).
//
// Every expression becomes a symbolic value and an error flag, so that the overflow
// semantics of SPEC §4.5 (deny rules match on error, others do not; `and`/`or` absorb
// errors) are exact. Numbers are mathematical integers whose results are checked against
// the int64 range; strings are byte sequences; IPs and CIDRs are 128-bit vectors with a
// family flag; sets and maps are bounded lists of distinct entries (Bounds.cpp proves when
// the bound loses no input).
#pragma once

#include <z3++.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sema/Program.h"

namespace pave::analysis {

struct SymElem;

/// A symbolic value of some checked type.
struct SymVal {
  z3::expr x;                      // Bool, Int (also Duration, Timestamp, enum index), String; Ip/Cidr: address
  std::optional<z3::expr> v6;      // Ip, Cidr: IPv6 family
  std::optional<z3::expr> prefix;  // Cidr: prefix length (Int)
  std::vector<SymElem> elems;      // Set: elements; Map: entries
  explicit SymVal(z3::expr e);  // defined below, where SymElem is complete (clang needs it)
};

struct SymElem {
  z3::expr present;
  std::optional<z3::expr> key;  // Map entries: the String key
  SymVal value;
};

inline SymVal::SymVal(z3::expr e) : x(std::move(e)) {}

/// A value and whether computing it was an error (SPEC §4.5).
struct Sym {
  SymVal v;
  z3::expr err;
};

/// Element counts of the input sets and maps in one query (see Bounds.cpp).
struct SetBounds {
  std::map<std::string, unsigned> count;  // variable base name → entries
  std::set<std::string> distinct;         // entries must differ (the size is observed)
  bool exact = true;                      // false: an unsat answer under these bounds proves nothing
  unsigned of(const std::string& base) const {
    auto it = count.find(base);
    return it == count.end() ? 0 : it->second;
  }
};

/// Computes bounds that lose no satisfiable case of a formula built from `roots`, or marks
/// them inexact when no such bound is known.
SetBounds computeBounds(const sema::CheckedProgram& p, sema::RequestId type, const std::vector<sema::CExprId>& roots);

/// Variable base names: `p.<principal type>.<attr>`, `r.<attr>`, `c.<attr>`.
std::string principalVarName(const sema::CheckedProgram& p, uint32_t principal, std::string_view attr);
inline std::string requestVarName(std::string_view attr) { return "r." + std::string(attr); }
inline std::string contextVarName(std::string_view attr) { return "c." + std::string(attr); }

class Encoder {
 public:
  Encoder(z3::context& ctx, const sema::CheckedProgram& p, sema::RequestId type, const SetBounds& bounds);

  Sym encode(sema::CExprId e);
  /// The conjunction of a rule's top-level conjuncts (CEL `and`).
  Sym condition(const sema::RuleInfo& rule);

  /// The principal type (an index into CheckedProgram::principals) and `context.time`.
  z3::expr principalType() { return ptype_; }
  z3::expr time();

  /// An input variable (created on first use) and its presence flag (true for required).
  const SymVal& input(const std::string& base, sema::TypeId type);
  z3::expr present(const std::string& base, bool optional);

  /// Constraints that make every variable created so far a schema-valid value.
  z3::expr domain() const;
  /// False when an abstraction (lower/upper) was used: a sat answer may then be spurious.
  bool exact() const { return exact_; }
  /// Each abstracted case fold `f(s)` with `s`: assuming `f(s) == s` often finds a real input.
  const std::vector<std::pair<z3::expr, z3::expr>>& caseFolds() const { return caseFolds_; }
  /// Every String variable created so far (for witness refinement).
  const std::vector<z3::expr>& stringVars() const { return strings_; }
  /// The longest string constant encoded so far (literals, pattern pieces, map keys) and
  /// the bytes of all of them: the solver's string theory slows down super-linearly with
  /// a constant's length, in steps its time limit does not interrupt (see Query.cpp).
  size_t longestString() const { return longestString_; }
  size_t stringBytes() const { return stringBytes_; }

  z3::context& ctx() { return ctx_; }
  const sema::CheckedProgram& program() const { return p_; }
  sema::RequestId requestType() const { return type_; }
  const SetBounds& bounds() const { return bounds_; }

  // Value helpers, also used by the decision encoding.
  z3::expr equal(const SymVal& a, const SymVal& b, sema::TypeId type);
  z3::expr member(const SymVal& x, const SymVal& set, sema::TypeId elemType);
  SymVal iteVal(const z3::expr& c, const SymVal& a, const SymVal& b, sema::TypeId type);
  SymVal literal(const sema::ConstValue& v);

 private:
  Sym encodeNode(sema::CExprId e);
  Sym attr(const sema::CExpr& e);
  Sym has(const sema::CExpr& attrNode);
  Sym logic(sema::CExprId e, bool isAnd);
  Sym arith(sema::CExprId e, bool add);
  Sym compare(sema::CExprId e);
  Sym quantifier(sema::CExprId e, bool isAny);
  Sym like(sema::CExprId e);
  Sym mapIndex(sema::CExprId e);
  Sym setBuild(sema::CExprId e);
  Sym caseFold(sema::CExprId e, bool lower);
  Sym timePart(sema::CExprId e);
  SymVal makeVar(const std::string& name, sema::TypeId type, std::vector<z3::expr>& dom);
  SymVal scalarVar(const std::string& name, sema::TypeId type, std::vector<z3::expr>& dom);
  z3::expr inRange(const z3::expr& v) const;
  z3::expr b(bool v) { return ctx_.bool_val(v); }
  z3::expr anyOf(const std::vector<z3::expr>& v);
  z3::expr allOf(const std::vector<z3::expr>& v);
  z3::expr str(std::string_view s);
  z3::expr cidrMask(const z3::expr& v6, const z3::expr& prefix);

  z3::context& ctx_;
  const sema::CheckedProgram& p_;
  sema::RequestId type_;
  const sema::RequestInfo& req_;
  SetBounds bounds_;
  z3::expr ptype_;
  std::map<std::string, SymVal> vars_;
  std::map<std::string, z3::expr> presence_;
  std::vector<z3::expr> domain_;
  std::vector<std::optional<SymVal>> bound_;  // quantifier variables
  std::map<uint32_t, Sym> memo_;              // expressions outside quantifier bodies
  int quantDepth_ = 0;
  bool exact_ = true;
  std::vector<std::pair<z3::expr, z3::expr>> caseFolds_;
  std::vector<z3::expr> strings_;
  size_t longestString_ = 0, stringBytes_ = 0;
};

}  // namespace pave::analysis
