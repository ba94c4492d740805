// textDocument/completion. Works from the tokens before the cursor (the text is usually
// half-typed and does not parse) and the unit's checked program (from the last text of
// each file that did parse).
#include <algorithm>
#include <set>

#include "lsp/CompletionContext.h"
#include "sema/Builtins.h"
#include "lsp/Describe.h"
#include "lsp/Features.h"

namespace pave::lsp {

using json = nlohmann::json;
using syntax::TokenKind;

namespace {

enum ItemKind {
  Method = 2,
  Function = 3,
  Field = 5,
  Variable = 6,
  Class = 7,
  Module = 9,
  Property = 10,
  Enum = 13,
  Keyword = 14,
  EnumMember = 20,
  Constant = 21,
  Reference = 18,
  Struct = 22
};

class Items {
 public:
  void add(const std::string& label, int kind, const std::string& detail = {}, const std::string& doc = {}) {
    if (label.empty() || !seen_.insert(label).second) return;
    json item = {{"label", label}, {"kind", kind}};
    if (!detail.empty()) item["detail"] = detail;
    if (!doc.empty()) item["documentation"] = {{"kind", "markdown"}, {"value", doc}};
    list_.push_back(std::move(item));
  }
  json result() { return {{"isIncomplete", false}, {"items", std::move(list_)}}; }

 private:
  std::set<std::string> seen_;
  json list_ = json::array();
};

void attributes(Items& items, const sema::CheckedProgram& p, const std::vector<AttrGroup>& groups) {
  for (const AttrGroup& g : groups)
    for (const sema::AttrInfo& a : *g.attrs) {
      std::string detail = attrLine(p, a) + (groups.size() > 1 ? " (" + g.owner + ")" : "");
      items.add(a.name, Field, detail);
    }
}

void methods(Items& items, const sema::CheckedProgram& p, sema::TypeId type) {
  const sema::TypeKind kind = p.types.kind(type);
  for (const sema::BuiltinMethod& m : sema::builtinMethods())
    if (m.receiver == kind) items.add(std::string(m.name), Method, std::string(m.name) + std::string(m.signature));
}

/// Declarations directly inside namespace `ns` (and its sub-namespaces, as modules).
void namespaceMembers(Items& items, const sema::CheckedProgram& p, const std::string& ns) {
  std::string prefix = ns.empty() ? "" : ns + ".";
  auto consider = [&](const std::string& name, int kind, const std::string& detail) {
    if (name.compare(0, prefix.size(), prefix) != 0) return;
    std::string rest = name.substr(prefix.size());
    size_t dot = rest.find('.');
    if (dot == std::string::npos) items.add(rest, kind, detail);
    else
      items.add(rest.substr(0, dot), Module, "namespace " + prefix + rest.substr(0, dot));
  };
  for (const auto& e : p.enums) consider(e.name, Enum, "enum " + e.name);
  for (const auto& pr : p.principals) consider(pr.name, Class, "principal " + pr.name);
  for (const auto& r : p.requests) consider(r.name, Class, "request " + r.name);
  for (const auto& c : p.consts) consider(c.name, Constant, "const " + c.name + ": " + p.typeName(c.type));
  for (const auto& d : p.defs) consider(d.name, Function, "def " + d.name);
  for (const auto& t : p.tables) consider(t.name, Variable, "table " + t.name + ": " + p.typeName(t.type));
}

void types(Items& items, const sema::CheckedProgram& p, const CompletionContext& ctx) {
  for (const char* t : {"Bool", "Int", "String", "Duration", "Timestamp", "Ip", "Cidr", "Set", "Map"})
    items.add(t, Class, "built-in type");
  for (const auto& e : p.enums) items.add(ctx.shortest(e.name), Enum, "enum " + e.name);
  for (const auto& pr : p.principals) items.add(ctx.shortest(pr.name), Class, "principal " + pr.name);
  for (const auto& r : p.requests) items.add(ctx.shortest(r.name), Class, "request " + r.name);
}

void keywords(Items& items) {
  for (const char* k : {"allow", "approve", "deny", "exception", "when", "unless", "and", "or", "not", "in", "is",
                        "like", "has", "if", "then", "else", "any", "all", "true", "false", "principal", "request",
                        "context", "namespace", "use", "enum", "const", "def", "test", "on", "for", "by", "quorum",
                        "grant", "because", "lifts", "until", "owner", "ticket", "expect", "record", "table"})
    items.add(k, Keyword);
}

void afterDot(Items& items, const sema::CheckedProgram& p, const CompletionContext& ctx) {
  const Receiver& r = ctx.receiver();
  switch (r.kind) {
    case Receiver::Principal: return attributes(items, p, ctx.principalAttrs());
    case Receiver::Request: return attributes(items, p, ctx.requestAttrs());
    case Receiver::Context: return attributes(items, p, {{&p.context.attrs, "context"}});
    case Receiver::Attribute:
      if (r.type.valid()) methods(items, p, r.type);
      return;
    case Receiver::Name:
      if (const sema::EnumInfo* e = ctx.findEnum(r.name)) {
        for (const std::string& m : e->members) items.add(m, EnumMember, e->name + "." + m, e->doc);
        return;
      }
      if (const sema::TableInfo* t = ctx.findTable(r.name)) return methods(items, p, t->type);
      for (const std::string& ns : ctx.candidates(r.name)) namespaceMembers(items, p, ns);
      return;
    case Receiver::Row:
      if (const sema::TableInfo* t = ctx.findTable(r.name); t && t->record.valid() && t->record.value < p.records.size())
        attributes(items, p, {{&p.records[t->record.value].attrs, p.records[t->record.value].name}});
      return;
    case Receiver::None: return;
  }
}

void general(Items& items, const sema::CheckedProgram& p, const CompletionContext& ctx) {
  keywords(items);
  namespaceMembers(items, p, ctx.ns());
  for (const auto& [alias, target] : ctx.uses()) items.add(alias, Reference, "use " + target);
  if (!ctx.ns().empty()) namespaceMembers(items, p, "");
  items.add("ip", Function, "ip(\"…\"): Ip");
  items.add("cidr", Function, "cidr(\"…\"): Cidr");
}

}  // namespace

json completion(const DocView& doc, Position pos) {
  Items items;
  if (!doc.snap.program) return items.result();
  const sema::CheckedProgram& p = *doc.snap.program;
  CompletionContext ctx(doc.text(), doc.lines().offset(pos), p);
  switch (ctx.site()) {
    case Site::None: break;
    case Site::AfterDot: afterDot(items, p, ctx); break;
    case Site::Annotation:
      items.add("controls", Function, "@controls(…): the controls this rule implements");
      items.add("severity", Function, "@severity(low|medium|high|critical)");
      items.add("allow_lint", Function, "@allow_lint(\"lint-name\", …)");
      break;
    case Site::Lifts:
      for (const sema::RuleInfo& r : p.rules)
        if (r.effect == ast::Effect::Deny) items.add(ctx.shortest(r.name), Reference, "deny " + r.name, r.doc);
      break;
    case Site::PrincipalType:
      for (const auto& pr : p.principals) items.add(ctx.shortest(pr.name), Class, "principal " + pr.name);
      break;
    case Site::RequestType:
      for (const auto& r : p.requests) items.add(ctx.shortest(r.name), Class, "request " + r.name);
      break;
    case Site::Type: types(items, p, ctx); break;
    case Site::MergeOp:
      for (const char* m : {"min", "max", "union", "intersect", "and", "or", "unique"}) items.add(m, Keyword);
      break;
    case Site::Expect:
      for (const char* e : {"allow", "approval", "deny", "exception", "grant", "error"}) items.add(e, Keyword);
      break;
    case Site::TestField: attributes(items, p, ctx.testFieldAttrs()); break;
    case Site::TableMap: items.add("Map", Class, "a table is a Map<String, R> of a record R"); break;
    case Site::TableKey: items.add("String", Class, "table keys are strings"); break;
    case Site::RecordType:
      for (const auto& r : p.records) items.add(ctx.shortest(r.name), Struct, "record " + r.name, r.doc);
      break;
    case Site::TableFrom:
      items.add("from", Keyword, "from \"path\": the data file, relative to the repository root");
      break;
    case Site::General: general(items, p, ctx); break;
  }
  return items.result();
}

}  // namespace pave::lsp
