// What the cursor is in, for completion: read from the tokens before it, because the text
// being typed rarely parses.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sema/Program.h"
#include "syntax/Tokens.h"

namespace pave::lsp {

enum class Site {
  None,           // inside a comment or string
  AfterDot,       // `x.`: attributes, enum members, namespace members or methods
  Annotation,     // `@`
  Lifts,          // `lifts`: deny rules
  PrincipalType,  // after `is` or `for`
  RequestType,    // after `on`
  Type,           // an attribute, parameter, const or result type
  MergeOp,        // after `merge`
  Expect,         // after `expect`
  TestField,      // a field name of a test input
  TableMap,       // the type of a table: `table t: |` (`Map`)
  TableKey,       // the key type of a table: `table t: Map<|` (`String`)
  RecordType,     // the value type of a table: `table t: Map<String, |`
  TableFrom,      // after a table's type: `from`
  General,        // anywhere else: keywords and names in scope
};

/// What stands before the dot of `AfterDot`.
struct Receiver {
  enum Kind { None, Principal, Request, Context, Attribute, Name, Row } kind = None;
  std::string name;   // Name: the dotted name as written; Row: the table's name as written (`t[k].`)
  sema::TypeId type;  // Attribute: its type, when known
};

/// Attributes of one declaration, for completion lists.
struct AttrGroup {
  const std::vector<sema::AttrInfo>* attrs;
  std::string owner;
};

class CompletionContext {
 public:
  CompletionContext(std::string_view text, uint32_t offset, const sema::CheckedProgram& program);

  Site site() const { return site_; }
  const Receiver& receiver() const { return receiver_; }
  const std::string& ns() const { return ns_; }
  const std::map<std::string, std::string>& uses() const { return uses_; }

  /// `principal`'s attributes in the enclosing rule: of the type an `is` test narrowed it
  /// to, else of every principal type its targets allow.
  std::vector<AttrGroup> principalAttrs() const;
  /// `request`'s attributes: of the enclosing rule's targets.
  std::vector<AttrGroup> requestAttrs() const;
  /// Field names of the test input block the cursor is in.
  std::vector<AttrGroup> testFieldAttrs() const;

  /// The qualified names a name written here may stand for, most likely first.
  std::vector<std::string> candidates(const std::string& written) const;
  const sema::EnumInfo* findEnum(const std::string& written) const;
  const sema::TableInfo* findTable(const std::string& written) const;
  /// The shortest way to write a qualified name here (the file's namespace and `use`s).
  std::string shortest(const std::string& qualified) const;

 private:
  syntax::TokenKind kind(size_t i) const { return tokens_[code_[i]].kind; }
  std::string spelling(size_t i) const;
  bool isName(size_t i) const { return i < code_.size() && syntax::isNameToken(kind(i)); }
  /// The dotted name ending at code index `last`; `first` receives its first index.
  std::string dottedBefore(size_t last, size_t& first) const;
  std::optional<size_t> openerBefore(size_t i) const;
  void readHeader();
  Site classify();
  Receiver readReceiver(size_t dot) const;
  bool typePosition(size_t i) const;
  /// Whether code index `k` is inside a table declaration (`table t: …`).
  bool inTableDecl(size_t k) const;
  /// The table's name before the brackets ending at code index `close` (`t[k]`), else empty.
  std::string tableBefore(size_t close) const;
  std::optional<size_t> ruleStart() const;
  std::vector<sema::RequestId> ruleTargets() const;

  std::string_view text_;
  const sema::CheckedProgram& p_;
  std::vector<syntax::Token> tokens_;
  std::vector<size_t> code_;  // indexes of the code tokens before the word being typed
  std::string ns_;
  std::map<std::string, std::string> uses_;  // binding → qualified target
  Site site_ = Site::General;
  Receiver receiver_;
};

}  // namespace pave::lsp
