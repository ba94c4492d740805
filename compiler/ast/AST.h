// Pave's abstract syntax tree.
//
// Nodes live in vectors owned by `Ast` and are addressed by small typed ids. Expressions
// are uniform `ExprNode`s whose operands sit in a side vector of child ids; declarations
// are plain structs (there are few of them). Semantic information (types, resolutions)
// never lives here: sema keeps side tables keyed by these ids.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <vector>

#include "source/Source.h"
#include "support/Id.h"

namespace pave::ast {

using pave::Id;
using ExprId = Id<struct ExprTag>;
using NameId = Id<struct NameTag>;  // a qualified name
using TypeId = Id<struct TypeRefTag>;
using Symbol = Id<struct SymbolTag>;  // an interned string

/// Interned strings (identifiers, decoded string literals).
class SymbolTable {
 public:
  Symbol intern(std::string_view s);
  std::string_view str(Symbol s) const { return strings_[s.value]; }
  size_t size() const { return strings_.size(); }

  SymbolTable();
  ~SymbolTable();
  SymbolTable(SymbolTable&&) noexcept;
  SymbolTable& operator=(SymbolTable&&) noexcept;
  /// A copy interns the same strings in the same order, so every Symbol stays valid.
  SymbolTable(const SymbolTable& other);
  SymbolTable& operator=(const SymbolTable& other);

 private:
  struct Impl;  // an llvm::StringMap; entries are stable, so views stay valid
  std::unique_ptr<Impl> impl_;
  std::vector<std::string_view> strings_;
};

/// One segment of a qualified name, with its own range.
struct NameSegment {
  Symbol name;
  SourceRange range;
};

/// A dotted name `a.b.c` as written. Segments are stored in `Ast::nameSegments`.
struct QualifiedName {
  uint32_t firstSegment = 0;
  uint32_t numSegments = 0;
  SourceRange range;
};

enum class ExprKind : uint8_t {
  BoolLit,       // intValue: 0/1
  IntLit,        // intValue
  StringLit,     // symbol: the decoded text
  DurationLit,   // intValue: seconds
  TimestampLit,  // intValue: seconds since the epoch (UTC)
  LikePattern,   // symbol: decoded pattern; only as child 1 of Like. `\*` is decoded to
                 // the byte 0x01 so that a literal star differs from a wildcard `*`.
  Name,          // name: a qualified name as written (`Env.prod`, `x`, `MAX`, `std.nhi`)
  Call,          // name: callee as written (`nhi.short_lived`, `s.startsWith`, `ip`); children: args
  Principal,     // the root `principal`
  Request,       // the root `request`
  Context,       // the root `context`
  Member,        // symbol: attribute name; children: [object]
  MethodCall,    // symbol: method name; children: [receiver, args...]
  Index,         // children: [map, key]
  Not,           // children: [operand]
  Neg,           // children: [operand]
  And,           // children: [operands...] (n-ary, n >= 2, flattened, source order)
  Or,            // children: [operands...] (n-ary, n >= 2, flattened, source order)
  Compare,       // op: CompareOp; children: [lhs, rhs]
  Add,           // children: [lhs, rhs]
  Sub,           // children: [lhs, rhs]
  In,            // children: [element, collection]
  Like,          // children: [string, LikePattern]
  Is,            // name: the principal type as written; children: [operand]
  Has,           // children: [the Member (or Name) expression whose presence is tested]
  Any,           // symbol: bound variable; children: [collection, body]
  All,           // symbol: bound variable; children: [collection, body]
  If,            // children: [cond, then, else]
  SetLit,        // children: elements
  MapLit,        // children: alternating [key StringLit, value, key, value, ...] (tests only)
  Error,         // a placeholder where the parser recovered; never reaches sema
};

enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
std::string_view compareOpSpelling(CompareOp op);

struct ExprNode {
  ExprKind kind;
  uint8_t op = 0;  // CompareOp for Compare
  uint16_t unused = 0;
  uint32_t firstChild = 0;  // index into Ast::exprChildren
  uint32_t numChildren = 0;
  Symbol symbol;  // see ExprKind
  NameId name;    // see ExprKind
  int64_t intValue = 0;
  SourceRange range;
};

/// A type as written: `String`, `Set<String>`, `Map<String, Int>`, `acme.Env?`.
struct TypeRef {
  NameId name;
  std::vector<TypeId> args;
  bool optional = false;
  SourceRange range;
};

struct Attr {
  Symbol name;
  SourceRange nameRange;
  TypeId type;
  SourceRange range;
};

struct GrantDecl {
  Symbol name;
  SourceRange nameRange;
  TypeId type;
  ExprId defaultValue;
  Symbol mergeOp;  // min max union intersect and or unique (unchecked)
  SourceRange mergeRange;
  SourceRange range;
};

struct EnumMember {
  Symbol name;
  SourceRange range;
};

struct EnumDecl {
  std::vector<EnumMember> members;
};

struct PrincipalDecl {
  std::vector<Attr> attrs;
};

struct ContextDecl {
  std::vector<Attr> attrs;
};

struct RequestDecl {
  bool hasFor = false;
  std::vector<NameId> forTypes;  // empty with hasFor=false: all principal types
  std::vector<Attr> attrs;
  std::vector<GrantDecl> grants;
};

/// `record Name { attr: Type, … }` (SPEC §2.3): the value type of a table's rows.
struct RecordDecl {
  std::vector<Attr> attrs;
};

/// `table name: Map<String, R> from "path";` (SPEC §2.3).
struct TableDecl {
  TypeId type;
  std::string path;       // decoded, relative to the repository root
  SourceRange pathRange;  // the string literal
};

struct ConstDecl {
  TypeId type;
  ExprId value;
};

struct Param {
  Symbol name;
  SourceRange nameRange;
  TypeId type;
};

struct DefDecl {
  std::vector<Param> params;
  TypeId result;
  ExprId body;
};

enum class Effect : uint8_t { Allow, Approve, Deny, Exception };
std::string_view effectName(Effect e);

struct Annotation {
  Symbol name;
  SourceRange range;  // from `@` to the closing parenthesis
  std::vector<ExprId> args;
};

enum class ClauseKind : uint8_t { When, Unless, By, Grant, Because, Lifts, Until, Owner, Ticket };
std::string_view clauseKeyword(ClauseKind k);

struct GrantAssign {
  Symbol name;
  SourceRange nameRange;
  ExprId value;
};

struct Clause {
  ClauseKind kind;
  SourceRange range;                 // keyword through the clause's last token
  SourceRange keywordRange;
  std::vector<ExprId> exprs;         // When/Unless: [cond]; By: groups
  std::optional<int64_t> quorum;     // By
  SourceRange quorumRange;
  std::vector<GrantAssign> grants;   // Grant
  std::string text;                  // Because/Owner/Ticket: decoded string
  NameId lifts;                      // Lifts
  int64_t until = 0;                 // Until: seconds since the epoch
  bool untilValid = true;            // false when the literal was invalid (already reported)
};

struct RuleDecl {
  Effect effect;
  std::vector<Annotation> annotations;
  bool hasOn = false;
  bool onStar = false;
  std::vector<NameId> targets;
  SourceRange onRange;
  std::vector<Clause> clauses;
};

struct TestField {
  Symbol name;
  SourceRange nameRange;
  ExprId value;  // an expression or a MapLit
};

struct TestInput {
  bool present = false;
  NameId type;  // request/principal type; invalid for context
  SourceRange range;
  std::vector<TestField> fields;
};

enum class ExpectKind : uint8_t { Decision, Exception, Grant, Error };
struct Expect {
  ExpectKind kind;
  SourceRange range;
  // Decision: `allow`, `approval` or `deny` (anything else is reported by sema).
  std::string decision;
  SourceRange decisionRange;
  std::vector<NameId> rules;  // Decision: `by r1, r2`; Exception: [e]
  Symbol grant;               // Grant
  SourceRange grantRange;
  ExprId value;               // Grant
  std::string errorCode;      // Error
};

struct TestDecl {
  TestInput request;
  TestInput principal;
  TestInput context;
  std::vector<Expect> expects;
};

enum class DeclKind : uint8_t { Enum, Principal, Request, Context, Const, Def, Rule, Test, Record, Table };
std::string_view declKindName(DeclKind k);

/// A top-level declaration. `index` points into the per-kind vector of `Ast`.
struct Decl {
  DeclKind kind;
  uint32_t index = 0;
  Symbol name;            // invalid for Context
  SourceRange nameRange;
  SourceRange range;      // first token after doc comments and annotations .. the last token
  std::string doc;        // `///` lines joined with '\n', markers and one space stripped
  uint32_t file = 0;      // index into Ast::files
};
using DeclId = Id<struct DeclTag>;

struct UseDecl {
  NameId target;
  Symbol alias;  // invalid when there is no `as`
  SourceRange range;
};

struct SourceFile {
  FileId file;
  NameId namespaceName;  // invalid: the root namespace
  std::vector<UseDecl> uses;
  std::vector<DeclId> decls;
  bool fromStdlib = false;
};

/// All files of one compilation unit (the user's files and the embedded std library).
struct Ast {
  SymbolTable symbols;
  std::vector<ExprNode> exprs;
  std::vector<ExprId> exprChildren;
  std::vector<NameSegment> nameSegments;
  std::vector<QualifiedName> names;
  std::vector<TypeRef> types;

  std::vector<Decl> decls;
  std::vector<EnumDecl> enums;
  std::vector<PrincipalDecl> principals;
  std::vector<RequestDecl> requests;
  std::vector<ContextDecl> contexts;
  std::vector<ConstDecl> consts;
  std::vector<DefDecl> defs;
  std::vector<RuleDecl> rules;
  std::vector<TestDecl> tests;
  std::vector<RecordDecl> records;
  std::vector<TableDecl> tables;

  std::vector<SourceFile> files;

  const ExprNode& expr(ExprId id) const { return exprs[id.value]; }
  ExprId child(ExprId id, uint32_t i) const { return exprChildren[exprs[id.value].firstChild + i]; }
  uint32_t numChildren(ExprId id) const { return exprs[id.value].numChildren; }
  const QualifiedName& name(NameId id) const { return names[id.value]; }
  const NameSegment& segment(NameId id, uint32_t i) const { return nameSegments[names[id.value].firstSegment + i]; }
  /// The dotted spelling of a qualified name.
  std::string nameText(NameId id) const;
  std::string_view str(Symbol s) const { return symbols.str(s); }
  const Decl& decl(DeclId id) const { return decls[id.value]; }
  const TypeRef& type(TypeId id) const { return types[id.value]; }

  // Builders used by the parser.
  ExprId addExpr(ExprNode node, std::span<const ExprId> children);
  NameId addName(std::span<const NameSegment> segments, SourceRange range);
};

static_assert(sizeof(ExprNode) <= 48, "keep expression nodes small");

}  // namespace pave::ast
