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

/// What the encoder assumes about one table's content (SPEC §2.3). A lookup of key `k`
/// first compares `k` with the `known` keys, whose rows are encoded as the literal values
/// they are; any other key is absent when the model is `closed`, and otherwise has *any*
/// content of the record type (uninterpreted functions of the key, named after `name`, so
/// that two encoders with the same `name` share that content: `pave diff`).
struct TableModel {
  /// Keys whose content is known, sorted bytewise; a null row: the key is absent.
  std::vector<std::pair<std::string, const sema::TableRow*>> known;
  bool closed = true;
  std::string name;             // the abstract content's function names
  std::optional<int64_t> size;  // the number of rows, when known
  /// `known` is a sample of the rows and `closed` is false to the truth: a sat answer
  /// may show real rows, an unsat answer proves nothing.
  bool sample = false;
  /// True when every key is known and the model is closed: the table is encoded exactly.
  bool exact() const { return closed && !sample; }
};
using TableModels = std::vector<TableModel>;  // by TableId

/// Tables of at most this many rows (and `kExactTableBytes` bytes of strings) are encoded
/// exactly; larger ones, and tables whose data was not read, as any content of their type.
constexpr size_t kExactTableRows = 256;
constexpr size_t kExactTableBytes = 16 * 1024;
/// How many rows a sample model holds (see `sampleTableModels`).
constexpr size_t kSampleRows = 64;

/// Per table: exact when its data is read and small, else abstract (any content).
TableModels defaultTableModels(const sema::CheckedProgram& p);
/// Like `defaultTableModels`, but the abstract tables whose data was read are replaced
/// by a sample of their rows, chosen to cover the values of every scalar attribute: used
/// to find witnesses with real keys when the abstract encoding's witness is not confirmed.
/// `any` is false when no table has a sample (nothing to retry).
TableModels sampleTableModels(const sema::CheckedProgram& p, bool* any);
/// Whether the expressions reachable from a rule read some table.
bool usesTables(const sema::CheckedProgram& p, const sema::RuleInfo& rule);
/// The bytes of strings in one row (key, string values, set and map elements).
size_t rowStringBytes(const sema::TableRow& row);

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
/// `tables` (by TableId) says which table sets are fixed literal sets (exact) and which are
/// any set (abstract: bounded like input sets, named `tbl.<table>.<attr>`); null: the
/// default models.
SetBounds computeBounds(const sema::CheckedProgram& p, sema::RequestId type, const std::vector<sema::CExprId>& roots,
                        const TableModels* tables = nullptr);
/// The variable base name of a table attribute's abstract sets and maps.
std::string tableVarName(const sema::CheckedProgram& p, uint32_t table, std::string_view attr);

/// Variable base names: `p.<principal type>.<attr>`, `r.<attr>`, `c.<attr>`.
std::string principalVarName(const sema::CheckedProgram& p, uint32_t principal, std::string_view attr);
inline std::string requestVarName(std::string_view attr) { return "r." + std::string(attr); }
inline std::string contextVarName(std::string_view attr) { return "c." + std::string(attr); }

class Encoder {
 public:
  /// `tables`: how each table's content is encoded (null: `defaultTableModels`); it must
  /// outlive the encoder.
  Encoder(z3::context& ctx, const sema::CheckedProgram& p, sema::RequestId type, const SetBounds& bounds,
          const TableModels* tables = nullptr);

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
  /// False when a table was encoded from a sample of its rows: an unsat answer proves nothing.
  bool proves() const { return proves_; }
  /// True when a table read by the formula is encoded abstractly or from a sample.
  bool usedAbstractTable() const { return abstractTable_; }
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
  // Tables (SPEC §2.3).
  Sym tableMember(const sema::CExpr& table, const Sym& key);
  struct FieldParts {
    SymVal value;
    z3::expr present;    // the attribute is present (true for required ones)
    z3::expr lookupErr;  // the key is not in the table, or computing it failed
  };
  FieldParts tableField(sema::CExprId field);
  Sym tableSize(const sema::CExpr& table, bool isEmpty);
  struct KnownKeys {
    std::vector<z3::expr> keys;  // the known keys as string constants
  };
  const KnownKeys& knownKeys(uint32_t table);
  z3::expr keyIndex(uint32_t table, const z3::expr& key);
  SymVal ufValue(const std::string& name, sema::TypeId type, const z3::expr& key, unsigned slots);
  z3::expr ufBool(const std::string& name, const z3::expr& key);
  const TableModel& model(uint32_t table) const { return (*tables_)[table]; }
  SymVal makeVar(const std::string& name, sema::TypeId type, std::vector<z3::expr>& dom);
  SymVal scalarVar(const std::string& name, sema::TypeId type, std::vector<z3::expr>& dom);
  void constrain(const SymVal& v, sema::TypeId type, std::vector<z3::expr>& dom);
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
  TableModels ownTables_;
  const TableModels* tables_;
  std::map<uint32_t, KnownKeys> knownKeys_;
  std::map<std::pair<uint32_t, unsigned>, z3::expr> index_;  // (table, key ast id) → row position (keyIndex)
  std::map<std::string, z3::func_decl> ufs_;
  bool proves_ = true, abstractTable_ = false;
  size_t longestString_ = 0, stringBytes_ = 0;
};

}  // namespace pave::analysis
