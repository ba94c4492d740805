// The checked program: the single value that sema hands to every later phase (code
// generator, SMT analyzer, reference evaluator, `pave report controls`, the test runner and
// the language server).
//
// Layout is data-oriented: everything lives in vectors owned by `CheckedProgram` and is
// addressed by small typed ids. A checked program is self-contained: names are plain
// strings, values are `ConstValue`s, and source ranges point into the `SourceManager`
// the program was checked against. Only the side tables for the language server refer to
// the AST (by `ast::ExprId` / `ast::DeclId`).
//
// Invariants of a program returned by `sema::check`:
//  - every `TypeId` has a kind other than `Error` and `Never`;
//  - every `CExpr` reachable from a rule, test or const is of a kind other than `Root`,
//    `Param` and `Invalid` (those only exist inside def templates or in unreferenced,
//    scratch nodes left by inlining);
//  - defs are inlined and consts folded into literals.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ast/AST.h"
#include "source/Source.h"
#include "support/Id.h"

namespace pave::sema {

using pave::Id;
using TypeId = Id<struct TypeTag>;
using CExprId = Id<struct CExprTag>;
using ConstId = Id<struct ConstTag>;  // index into CheckedProgram::constants
using StrId = Id<struct StrTag>;      // index into CheckedProgram::strings
using EnumId = Id<struct EnumTag>;
using PrincipalId = Id<struct PrincipalTag>;
using RequestId = Id<struct RequestTag>;
using RuleId = Id<struct RuleTag>;
using DefId = Id<struct DefTag>;
using ConstDeclId = Id<struct ConstDeclTag>;
using TestId = Id<struct TestTag>;
using RecordId = Id<struct RecordTag>;
using TableId = Id<struct TableTag>;

// ---- types ---------------------------------------------------------------------------------

enum class TypeKind : uint8_t {
  Error,      // checker-internal: the type of an expression that already had an error
  Never,      // checker-internal: element type of `[]` before context gives it one
  Bool,
  Int,
  String,
  Duration,
  Timestamp,
  Ip,
  Cidr,
  Enum,       // index: EnumId
  Set,        // elem: element type
  Map,        // elem: value type (keys are always String)
  Principal,  // index: PrincipalId, or kNoIndex for "one of several principal types"
  Request,    // index: RequestId, or kNoIndex for "one of several request types"
  Record,     // index: RecordId (SPEC §2.3: only as a table's value type)
};
std::string_view typeKindName(TypeKind k);

inline constexpr uint32_t kNoIndex = UINT32_MAX;

struct Type {
  TypeKind kind = TypeKind::Error;
  uint32_t index = kNoIndex;
  TypeId elem;
  friend bool operator==(const Type& a, const Type& b) {
    return a.kind == b.kind && a.index == b.index && a.elem == b.elem;
  }
};

/// Interned types: equal types have equal ids, so type equality is id equality.
class TypeTable {
 public:
  TypeTable();
  TypeId intern(Type t);
  const Type& get(TypeId id) const { return types_[id.value]; }
  TypeKind kind(TypeId id) const { return types_[id.value].kind; }
  size_t size() const { return types_.size(); }

  TypeId error() const { return TypeId{0}; }
  TypeId never() const { return TypeId{1}; }
  TypeId boolean() const { return TypeId{2}; }
  TypeId integer() const { return TypeId{3}; }
  TypeId string() const { return TypeId{4}; }
  TypeId duration() const { return TypeId{5}; }
  TypeId timestamp() const { return TypeId{6}; }
  TypeId ip() const { return TypeId{7}; }
  TypeId cidr() const { return TypeId{8}; }
  TypeId enumType(EnumId e) { return intern({TypeKind::Enum, e.value, {}}); }
  TypeId setOf(TypeId elem) { return intern({TypeKind::Set, kNoIndex, elem}); }
  TypeId mapOf(TypeId value) { return intern({TypeKind::Map, kNoIndex, value}); }
  TypeId principal(uint32_t index) { return intern({TypeKind::Principal, index, {}}); }
  TypeId request(uint32_t index) { return intern({TypeKind::Request, index, {}}); }
  TypeId record(RecordId r) { return intern({TypeKind::Record, r.value, {}}); }

  bool isError(TypeId id) const { return kind(id) == TypeKind::Error; }
  /// Error, or a set/map whose element is an error.
  bool containsError(TypeId id) const;

 private:
  std::vector<Type> types_;
};

// ---- compile-time values --------------------------------------------------------------------

/// An IPv4 or IPv6 address or network. IPv4 uses the first 4 bytes.
struct IpValue {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  uint8_t prefix = 0;  // Cidr only: prefix length (host bits are zero)
  friend bool operator==(const IpValue&, const IpValue&) = default;
};

/// A compile-time value: literals, consts, grant defaults, test inputs. Compared by value;
/// sets are sorted and duplicate-free, map entries sorted by key (bytewise).
struct ConstEntry;

struct ConstValue {
  enum class Kind : uint8_t { Bool, Int, String, Duration, Timestamp, Ip, Cidr, Enum, Set, Map };
  Kind kind = Kind::Bool;
  TypeId type;
  int64_t i = 0;                       // Bool (0/1), Int, Duration, Timestamp, Enum (member index)
  std::string s;                       // String
  IpValue ip;                          // Ip, Cidr
  std::vector<ConstValue> elems;       // Set: sorted, unique
  std::vector<ConstEntry> entries;     // Map: sorted by key, unique keys

  static ConstValue boolean(TypeId t, bool b);
  static ConstValue integer(ConstValue::Kind k, TypeId t, int64_t v);  // Int/Duration/Timestamp/Enum
  static ConstValue string(TypeId t, std::string v);
  /// Sorts and removes duplicates.
  static ConstValue set(TypeId t, std::vector<ConstValue> elems);
  /// Sorts by key; a later duplicate key replaces the earlier one.
  static ConstValue map(TypeId t, std::vector<ConstEntry> entries);
};
/// One entry of a constant map. A struct, not std::pair: a pair of an incomplete
/// ConstValue does not compile with clang and libstdc++.
struct ConstEntry {
  std::string first;  // key
  ConstValue second;  // value
};
/// Total order within one type (the natural order of SPEC §7.3: numbers numerically,
/// strings bytewise, enum members by declaration order, IPv4 before IPv6 then bytewise).
int compareValues(const ConstValue& a, const ConstValue& b);
inline bool operator==(const ConstValue& a, const ConstValue& b) { return compareValues(a, b) == 0; }
inline bool operator<(const ConstValue& a, const ConstValue& b) { return compareValues(a, b) < 0; }

/// `10.1.2.3`, `::1`; `10.0.0.0/8`. Nullopt when malformed (for cidr also: prefix too long
/// or host bits set).
std::optional<IpValue> parseIp(std::string_view text);
std::optional<IpValue> parseCidr(std::string_view text, std::string* why = nullptr);
std::string formatIp(const IpValue& ip, bool withPrefix);

// ---- checked expressions --------------------------------------------------------------------

/// Where an attribute is read from.
enum class Root : uint8_t {
  Principal,
  Request,  // the request being decided: with several targets, the same-named attribute of
            // whichever request type is being decided
  Context,
  Param,    // def templates only: a parameter of principal/request type (CExpr::b = index)
};

enum class CExprKind : uint8_t {
  Literal,      // a: ConstId
  Attr,         // root; a: StrId attribute name; b: param index (Root::Param); flags: kOptional
  Var,          // a: quantifier variable index (unique within the rule/const/test)
  Has,          // children: [Attr]
  IsPrincipal,  // a: PrincipalId; true when the principal is of that type
  Not,          // [operand]
  Neg,          // [operand] Int or Duration
  And,          // [operands...] n >= 2
  Or,           // [operands...] n >= 2
  Compare,      // op: ast::CompareOp; b: operand TypeId; [lhs, rhs]
  Add,          // [lhs, rhs] Int+Int, Duration+Duration, Timestamp+Duration
  Sub,          // [lhs, rhs] Int-Int, Duration-Duration, Timestamp-Duration, Timestamp-Timestamp
  Concat,       // [lhs, rhs] String+String
  SetBuild,     // [elements...] a set with non-literal elements
  InSet,        // [element, set]
  InCidr,       // [ip, cidr]
  InMap,        // [key, map] key present
  Like,         // a: StrId pattern (`*` wildcard; byte 0x01 is a literal star); [string]
  MapIndex,     // [map, key]
  Table,        // a: TableId; the table as a Map<String, record> (SPEC §2.3)
  Field,        // a: StrId attribute name; b: attribute index in the record; flags: kOptional; [record]
  If,           // [cond, then, else]
  Any,          // a: variable index; [collection, body]
  All,          // a: variable index; [collection, body]
  // Built-in methods (SPEC §4.3); children: [receiver, args...].
  StrStartsWith,
  StrEndsWith,
  StrContains,
  StrLower,
  StrUpper,
  StrSize,
  SetSize,
  MapSize,
  StrIsEmpty,
  SetIsEmpty,
  MapIsEmpty,
  SetContains,
  SetContainsAll,
  SetContainsAny,
  Hour,
  Weekday,
  Date,
  Seconds,
  // Checker-internal (see the invariants at the top of this file).
  Root,     // op: Root; `principal`/`request` used as a value (a def argument)
  Param,    // a: parameter index; a def parameter inside a def template
  Invalid,  // an expression that had an error
};
std::string_view cexprKindName(CExprKind k);

struct CExpr {
  CExprKind kind;
  uint8_t op = 0;     // Compare: ast::CompareOp; Attr/Root: sema::Root
  uint8_t flags = 0;  // Attr: kOptional
  uint8_t unused = 0;
  TypeId type;        // result type
  uint32_t a = 0;     // see CExprKind
  uint32_t b = 0;     // see CExprKind
  uint32_t firstChild = 0;  // index into CheckedProgram::exprChildren
  uint32_t numChildren = 0;
  SourceRange range;  // the source expression (for inlined defs: the def body's text)

  static constexpr uint8_t kOptional = 1;
  Root root() const { return static_cast<Root>(op); }
  bool optional() const { return flags & kOptional; }
};
static_assert(sizeof(CExpr) <= 40, "keep checked expression nodes small");

// ---- schema ---------------------------------------------------------------------------------

struct AttrInfo {
  std::string name;
  TypeId type;
  bool optional = false;
  SourceRange range;  // the attribute's declaration (`name: Type`); invalid for implicit `time`
};

enum class MergeOp : uint8_t { Min, Max, Union, Intersect, And, Or, Unique };
std::string_view mergeOpName(MergeOp op);

struct GrantInfo {
  std::string name;
  TypeId type;
  ConstValue defaultValue;
  MergeOp merge = MergeOp::Unique;
  SourceRange range;
};

struct EnumInfo {
  std::string name;  // qualified
  std::vector<std::string> members;
  std::vector<SourceRange> memberRanges;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
  std::optional<uint32_t> member(std::string_view name) const;
};

/// A principal type, or a record type (the rows of a table, SPEC §2.3): a named list of
/// attributes.
struct AttributedTypeInfo {
  std::string name;  // qualified
  std::vector<AttrInfo> attrs;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
  const AttrInfo* attr(std::string_view name) const;
};
using PrincipalInfo = AttributedTypeInfo;

struct RequestInfo {
  std::string name;  // qualified
  bool hasFor = false;
  std::vector<PrincipalId> principals;  // allowed principal types, sorted; all when no `for`
  std::vector<AttrInfo> attrs;
  std::vector<GrantInfo> grants;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
  const AttrInfo* attr(std::string_view name) const;
  const GrantInfo* grant(std::string_view name) const;
  bool allows(PrincipalId p) const;
};

struct ContextInfo {
  std::vector<AttrInfo> attrs;  // always contains the required `time: Timestamp`
  ast::DeclId decl;             // invalid when no `context` was declared
  SourceRange range;
  const AttrInfo* attr(std::string_view name) const;
};

// ---- reference data (SPEC §2.3) ------------------------------------------------------------

using RecordInfo = AttributedTypeInfo;

/// One row of a table: its key and one value per record attribute (nullopt: an absent
/// optional attribute).
struct TableRow {
  std::string key;
  std::vector<std::optional<ConstValue>> fields;
  uint32_t line = 0;  // 1-based line of the row in the data file
};

/// A table's content, read at build time (compiler/data). Rows are sorted by key
/// (bytewise) and keys are unique.
struct TableData {
  std::string file;  // the data file as read (repository root joined with the declared path)
  std::vector<TableRow> rows;
  const TableRow* find(std::string_view key) const;
};

struct TableInfo {
  std::string name;  // qualified
  TypeId type;       // Map<String, record>
  RecordId record;
  std::string path;  // as declared, relative to the repository root
  SourceRange pathRange;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
  /// Set once the data file is read (`data::loadTables`); null in tools that do not read
  /// data (then the table's content is unknown).
  std::shared_ptr<const TableData> data;
};

// ---- consts and defs (for tools; uses are already inlined) ---------------------------------

struct ConstInfo {
  std::string name;  // qualified
  TypeId type;
  ConstValue value;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
};

struct DefInfo {
  std::string name;  // qualified
  std::vector<std::pair<std::string, TypeId>> params;
  TypeId result;
  CExprId body;      // the template: parameters appear as `Param` nodes / `Attr` on Root::Param
  uint32_t numVars = 0;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
};

// ---- rules ----------------------------------------------------------------------------------

enum class SeverityLevel : uint8_t { None, Low, Medium, High, Critical };  // `@severity`
std::string_view severityLevelName(SeverityLevel s);

/// One top-level conjunct of a rule's condition (`when a and b unless c` gives a, b, not c).
struct Conjunct {
  CExprId expr;        // Bool; for the unless conjunct, the `Not` of the unless expression
  SourceRange range;   // the conjunct as written (for unless: the unless expression)
  bool fromUnless = false;
};

struct GrantAssignment {
  std::string grant;
  CExprId value;
  SourceRange range;  // `name = expr`
};

struct ExceptionInfo {
  RuleId lifts;
  int64_t until = 0;  // seconds since the epoch; active while context.time < until
  std::string owner;
  std::optional<std::string> ticket;
};

struct RuleInfo {
  std::string name;  // qualified
  ast::Effect effect;
  std::vector<RequestId> targets;  // sorted; with onStar every request type
  bool onStar = false;
  std::vector<Conjunct> condition;  // empty: always true
  std::vector<CExprId> approvers;   // approve: String group expressions
  int64_t quorum = 1;
  std::vector<GrantAssignment> grants;  // allow/approve
  std::optional<std::string> because;
  std::optional<ExceptionInfo> exception;  // exception rules
  // Annotations.
  std::vector<std::string> controls;  // qualified members, e.g. `std.controls.NistCsf.PR_AA_05`
  SeverityLevel severity = SeverityLevel::None;
  std::vector<std::string> allowLints;
  uint32_t numVars = 0;  // quantifier variables 0..numVars-1 used in this rule's expressions
  std::string doc;
  ast::DeclId decl;
  SourceRange range;  // the declaration (from the effect keyword)
  FileId file;
};

// ---- tests (SPEC §9.1) ----------------------------------------------------------------------

struct TestFieldValue {
  std::string name;
  ConstValue value;
  SourceRange range;
};

enum class Outcome : uint8_t { Allow, Approval, Deny };
std::string_view outcomeName(Outcome o);

struct Expectation {
  ast::ExpectKind kind;
  Outcome decision = Outcome::Deny;  // Decision
  std::vector<RuleId> rules;         // Decision: `by` rules; Exception: [the exception]
  std::string grant;                 // Grant
  std::optional<ConstValue> value;   // Grant
  std::string errorCode;             // Error
  SourceRange range;
};

struct TestInfo {
  std::string name;  // qualified
  RequestId request;      // invalid when the test has no request block
  PrincipalId principal;  // invalid when the test has no principal block
  std::vector<TestFieldValue> requestFields;  // may be incomplete (missing-attribute tests)
  std::vector<TestFieldValue> principalFields;
  std::vector<TestFieldValue> contextFields;
  std::vector<Expectation> expects;
  std::string doc;
  ast::DeclId decl;
  SourceRange range;
};

// ---- side tables for the language server ----------------------------------------------------

enum class RefKind : uint8_t {
  Decl,        // decl: the declaration
  EnumMember,  // decl: the enum; index: member
  Attribute,   // decl: principal/request/context declaration (invalid for implicit `time`); index: attr
  Grant,       // decl: the request declaration; index: grant
  Param,       // decl: the def; index: parameter
  Variable,    // a quantifier variable; target: its binding
  Namespace,   // a namespace path (no declaration)
};

/// What one name use or member access resolved to.
struct Reference {
  SourceRange use;
  RefKind kind;
  ast::DeclId decl;
  uint32_t index = 0;
  SourceRange target;  // where the referenced thing is declared (invalid for namespaces)
};

// ---- the program ----------------------------------------------------------------------------

struct CheckedProgram {
  TypeTable types;
  std::vector<std::string> strings;  // StrId → text (attribute names, like patterns)
  std::vector<ConstValue> constants;  // ConstId → value
  std::vector<CExpr> exprs;
  std::vector<CExprId> exprChildren;

  std::vector<EnumInfo> enums;
  std::vector<PrincipalInfo> principals;
  std::vector<RequestInfo> requests;
  ContextInfo context;
  std::vector<ConstInfo> consts;
  std::vector<DefInfo> defs;
  std::vector<RuleInfo> rules;  // files ordered by path, then position
  std::vector<TestInfo> tests;
  std::vector<RecordInfo> records;
  std::vector<TableInfo> tables;

  // Language-server side tables.
  std::vector<TypeId> astExprTypes;  // indexed by ast::ExprId; invalid where not checked
  std::vector<Reference> references;

  // Accessors.
  const CExpr& expr(CExprId id) const { return exprs[id.value]; }
  CExprId child(CExprId id, uint32_t i) const { return exprChildren[exprs[id.value].firstChild + i]; }
  uint32_t numChildren(CExprId id) const { return exprs[id.value].numChildren; }
  std::string_view str(StrId id) const { return strings[id.value]; }
  const ConstValue& constant(ConstId id) const { return constants[id.value]; }
  const RuleInfo& rule(RuleId id) const { return rules[id.value]; }

  std::optional<RuleId> findRule(std::string_view qualifiedName) const;
  std::optional<RequestId> findRequest(std::string_view qualifiedName) const;
  std::optional<PrincipalId> findPrincipal(std::string_view qualifiedName) const;

  /// `String`, `Set<acme.Env>`, `acme.Human`.
  std::string typeName(TypeId t) const;
  /// Source-like rendering of a value: `"x"`, `1h30m`, `2026-01-01T00:00:00Z`, `acme.Env.prod`,
  /// `ip("10.0.0.1")`, `["a", "b"]`, `{"k": 1}`.
  std::string formatValue(const ConstValue& v) const;
  /// A readable rendering of a checked expression (for tests and debugging).
  std::string dump(CExprId id) const;

  // Builders used by sema.
  StrId intern(std::string_view s);
  ConstId addConstant(ConstValue v);
  CExprId addExpr(CExpr node, const std::vector<CExprId>& children);

 private:
  std::unordered_map<std::string, uint32_t> stringIndex_;
};

}  // namespace pave::sema
