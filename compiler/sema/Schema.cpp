// The catalog schema (SPEC §2): types as written, enums, principal and request types with
// their grants, and the context.
#include <algorithm>

#include "sema/internal/Checker.h"

namespace pave::sema::internal {

namespace {
constexpr std::string_view kScalarNames[] = {"Bool", "Int", "String", "Duration", "Timestamp", "Ip", "Cidr"};
}  // namespace

TypeId Checker::resolveSetElem(ast::TypeId ref) {
  TypeId t = resolveType(ref, false, false, nullptr);
  TypeKind k = p_.types.kind(t);
  if (k == TypeKind::Error || k == TypeKind::String || k == TypeKind::Int || k == TypeKind::Ip || k == TypeKind::Enum)
    return t;
  report(msg::SetElementType, ast_.type(ref).range, tname(t));
  return p_.types.error();
}

TypeId Checker::resolveType(ast::TypeId ref, bool allowOptional, bool allowEntities, bool* optional) {
  const ast::TypeRef& tr = ast_.type(ref);
  if (optional) *optional = tr.optional;
  if (tr.optional && !allowOptional) {
    report(msg::OptionalOutsideAttribute, tr.range);
    return p_.types.error();
  }
  const ast::QualifiedName& qn = ast_.name(tr.name);
  std::string_view head = ast_.str(ast_.segment(tr.name, 0).name);
  auto arity = [&](size_t n) {
    if (tr.args.size() == n) return true;
    report(msg::TypeArgumentCount, tr.range, head, n, tr.args.size());
    return false;
  };
  if (qn.numSegments == 1) {
    for (size_t i = 0; i < std::size(kScalarNames); ++i)
      if (head == kScalarNames[i]) return arity(0) ? TypeId{static_cast<uint32_t>(2 + i)} : p_.types.error();
    if (head == "Set") {
      if (!arity(1)) return p_.types.error();
      TypeId elem = resolveSetElem(tr.args[0]);
      return p_.types.isError(elem) ? elem : p_.types.setOf(elem);
    }
    if (head == "Map") {
      if (!arity(2)) return p_.types.error();
      TypeId key = resolveType(tr.args[0], false, false, nullptr);
      TypeId value = resolveType(tr.args[1], false, false, nullptr);
      if (p_.types.isError(key) || p_.types.isError(value)) return p_.types.error();
      if (key != p_.types.string()) {
        report(msg::MapKeyType, ast_.type(tr.args[0]).range, tname(key));
        return p_.types.error();
      }
      TypeKind vk = p_.types.kind(value);
      if (vk != TypeKind::String && vk != TypeKind::Int && vk != TypeKind::Bool) {
        report(msg::MapValueType, ast_.type(tr.args[1]).range, tname(value));
        return p_.types.error();
      }
      return p_.types.mapOf(value);
    }
  }
  auto decl = resolveDeclName(
      tr.name, {ast::DeclKind::Enum, ast::DeclKind::Principal, ast::DeclKind::Request, ast::DeclKind::Record}, "type");
  if (!decl || !arity(0)) return p_.types.error();
  const ast::Decl& d = ast_.decl(*decl);
  if (d.kind == ast::DeclKind::Record) {
    report(msg::RecordTypeOutsideTable, tr.range, entry(*decl).qname, ast_.nameText(tr.name));
    return p_.types.error();
  }
  if (d.kind == ast::DeclKind::Enum) return p_.types.enumType(enumOf_.at(decl->value));
  if (!allowEntities) {
    report(msg::EntityTypeOutsideDef, tr.range, entry(*decl).qname, ast::declKindName(d.kind));
    return p_.types.error();
  }
  if (d.kind == ast::DeclKind::Principal) return p_.types.principal(principalOf_.at(decl->value).value);
  return p_.types.request(requestOf_.at(decl->value).value);
}

void Checker::checkEnum(const DeclEntry& e) {
  const ast::Decl& d = ast_.decl(e.id);
  const ast::EnumDecl& en = ast_.enums[d.index];
  EnumInfo info;
  setDeclInfo(info, e);
  for (const ast::EnumMember& m : en.members) {
    std::string name(ast_.str(m.name));
    if (info.member(name)) {
      report(msg::DuplicateEnumMember, m.range, name, e.qname);
      continue;
    }
    info.members.push_back(name);
    info.memberRanges.push_back(m.range);
  }
  enumOf_[e.id.value] = EnumId{static_cast<uint32_t>(p_.enums.size())};
  p_.enums.push_back(std::move(info));
}

std::vector<AttrInfo> Checker::checkAttrs(const std::vector<ast::Attr>& attrs) {
  std::vector<AttrInfo> out;
  for (const ast::Attr& a : attrs) {
    std::string name(ast_.str(a.name));
    bool optional = false;
    TypeId type = resolveType(a.type, true, false, &optional);
    if (std::any_of(out.begin(), out.end(), [&](const AttrInfo& x) { return x.name == name; })) {
      report(msg::DuplicateAttribute, a.range, name);
      continue;
    }
    out.push_back({name, type, optional, a.range});
  }
  return out;
}

void Checker::checkAttributedType(const DeclEntry& e) {
  const ast::Decl& d = ast_.decl(e.id);
  bool record = d.kind == ast::DeclKind::Record;
  AttributedTypeInfo& info = record ? p_.records[recordOf_.at(e.id.value).value]
                                    : p_.principals[principalOf_.at(e.id.value).value];
  info.attrs = checkAttrs(record ? ast_.records[d.index].attrs : ast_.principals[d.index].attrs);
}

void Checker::checkRequestHeader(const DeclEntry& e) {
  const ast::Decl& d = ast_.decl(e.id);
  const ast::RequestDecl& rq = ast_.requests[d.index];
  RequestInfo& info = p_.requests[requestOf_.at(e.id.value).value];
  info.hasFor = rq.hasFor;
  if (rq.hasFor) {
    for (ast::NameId n : rq.forTypes)
      if (auto p = resolveDeclName(n, {ast::DeclKind::Principal}, "principal type"))
        info.principals.push_back(principalOf_.at(p->value));
  } else {
    for (uint32_t i = 0; i < p_.principals.size(); ++i) info.principals.push_back(PrincipalId{i});
  }
  std::sort(info.principals.begin(), info.principals.end());
  info.principals.erase(std::unique(info.principals.begin(), info.principals.end()), info.principals.end());
  info.attrs = checkAttrs(rq.attrs);
}

std::optional<MergeOp> Checker::checkMergeOp(const ast::GrantDecl& g, TypeId type) {
  static const std::pair<std::string_view, MergeOp> kOps[] = {
      {"min", MergeOp::Min}, {"max", MergeOp::Max}, {"union", MergeOp::Union}, {"intersect", MergeOp::Intersect},
      {"and", MergeOp::And}, {"or", MergeOp::Or},   {"unique", MergeOp::Unique}};
  std::string_view name = g.mergeOp ? ast_.str(g.mergeOp) : "";
  auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const auto& x) { return x.first == name; });
  if (it == std::end(kOps)) {
    DiagBuilder d = report(msg::UnknownMergeOperator, g.mergeRange, name);
    suggest(d, name, {"min", "max", "union", "intersect", "and", "or", "unique"}, g.mergeRange);
    return std::nullopt;
  }
  if (p_.types.isError(type)) return it->second;
  TypeKind k = p_.types.kind(type);
  bool fits = true;
  std::string_view takes;
  switch (it->second) {
    case MergeOp::Min:
    case MergeOp::Max:
      fits = k == TypeKind::Int || k == TypeKind::Duration || k == TypeKind::Timestamp;
      takes = "`Int`, `Duration` or `Timestamp`";
      break;
    case MergeOp::Union:
    case MergeOp::Intersect:
      fits = k == TypeKind::Set;
      takes = "sets";
      break;
    case MergeOp::And:
    case MergeOp::Or:
      fits = k == TypeKind::Bool;
      takes = "`Bool`";
      break;
    case MergeOp::Unique: break;
  }
  if (!fits) {
    report(msg::MergeOperatorType, g.mergeRange, name, tname(type))
        .note(bt(name) + " takes " + std::string(takes) + "; `unique` takes any type");
    return std::nullopt;
  }
  return it->second;
}

void Checker::checkGrants(const DeclEntry& e) {
  const ast::Decl& d = ast_.decl(e.id);
  const ast::RequestDecl& rq = ast_.requests[d.index];
  RequestInfo& info = p_.requests[requestOf_.at(e.id.value).value];
  for (const ast::GrantDecl& g : rq.grants) {
    std::string name(ast_.str(g.name));
    TypeId type = resolveType(g.type, false, false, nullptr);
    std::optional<MergeOp> op = checkMergeOp(g, type);
    std::optional<ConstValue> def;
    {
      UnitGuard unit(*this, UnitScope{UnitScope::Kind::Const, {}, false, {}, {}, "grant default"}, d.file);
      CExprId v = check(g.defaultValue);
      if (!p_.types.isError(type) && expect(v, type, "the default of grant " + bt(name)))
        def = constantOf(v, ast_.expr(g.defaultValue).range, "a grant default");
    }
    if (info.grant(name)) {
      report(msg::DuplicateGrant, g.range, name);
      continue;
    }
    info.grants.push_back(
        {name, type, def ? *def : ConstValue{}, op ? *op : MergeOp::Unique, g.range});
  }
}

void Checker::checkContext() {
  const DeclEntry* first = nullptr;
  for (const DeclEntry& e : decls_)
    if (ast_.decl(e.id).kind == ast::DeclKind::Context && !first) first = &e;
  if (first) {
    const ast::Decl& d = ast_.decl(first->id);
    unit_.file = d.file;
    p_.context.decl = first->id;
    p_.context.range = d.range;
    p_.context.attrs = checkAttrs(ast_.contexts[d.index].attrs);
  }
  auto time = std::find_if(p_.context.attrs.begin(), p_.context.attrs.end(),
                           [](const AttrInfo& a) { return a.name == "time"; });
  if (time == p_.context.attrs.end()) {
    p_.context.attrs.insert(p_.context.attrs.begin(), AttrInfo{"time", p_.types.timestamp(), false, {}});
  } else if (time->optional || (time->type != p_.types.timestamp() && !p_.types.isError(time->type))) {
    report(msg::ContextTimeType, time->range, tname(time->type), time->optional ? "?" : "")
        .note("every request carries the required `time: Timestamp` in its context");
  }
}

void Checker::checkSchema() {
  // Register every type first: attributes and `for` lists refer to them in any order.
  for (const DeclEntry& e : decls_) {
    const ast::Decl& d = ast_.decl(e.id);
    unit_.file = d.file;
    if (d.kind == ast::DeclKind::Enum) checkEnum(e);
    if (d.kind == ast::DeclKind::Principal) {
      principalOf_[e.id.value] = PrincipalId{static_cast<uint32_t>(p_.principals.size())};
      p_.principals.push_back({e.qname, {}, d.doc, e.id, d.range});
    }
    if (d.kind == ast::DeclKind::Record) {
      recordOf_[e.id.value] = RecordId{static_cast<uint32_t>(p_.records.size())};
      p_.records.push_back({e.qname, {}, d.doc, e.id, d.range});
    }
    if (d.kind == ast::DeclKind::Table) {
      tableOf_[e.id.value] = TableId{static_cast<uint32_t>(p_.tables.size())};
      p_.tables.emplace_back();
    }
    if (d.kind == ast::DeclKind::Request) {
      requestOf_[e.id.value] = RequestId{static_cast<uint32_t>(p_.requests.size())};
      RequestInfo info;
      setDeclInfo(info, e);
      p_.requests.push_back(std::move(info));
    }
  }
  for (const DeclEntry& e : decls_) {
    const ast::Decl& d = ast_.decl(e.id);
    unit_.file = d.file;
    if (d.kind == ast::DeclKind::Principal) checkAttributedType(e);
    if (d.kind == ast::DeclKind::Request) checkRequestHeader(e);
  }
  checkContext();
  for (const DeclEntry& e : decls_)
    if (ast_.decl(e.id).kind == ast::DeclKind::Request) checkGrants(e);
  // Reference data (SPEC §2.3): records first, then the tables whose rows they type.
  for (const DeclEntry& e : decls_) {
    unit_.file = ast_.decl(e.id).file;
    if (ast_.decl(e.id).kind == ast::DeclKind::Record) checkAttributedType(e);
  }
  for (const DeclEntry& e : decls_) {
    unit_.file = ast_.decl(e.id).file;
    if (ast_.decl(e.id).kind == ast::DeclKind::Table) checkTable(e);
  }
}


void Checker::checkTable(const DeclEntry& e) {
  const ast::Decl& d = ast_.decl(e.id);
  const ast::TableDecl& td = ast_.tables[d.index];
  const ast::TypeRef& tr = ast_.type(td.type);
  auto wrongShape = [&] {
    report(msg::TableShape, tr.range, text(tr.range)).note("declare the row type with `record R { attr: Type, … }`");
  };
  TableInfo info;
  setDeclInfo(info, e);
  info.path = td.path;
  info.pathRange = td.pathRange;
  const ast::QualifiedName& qn = ast_.name(tr.name);
  bool ok = false;
  if (qn.numSegments == 1 && ast_.str(ast_.segment(tr.name, 0).name) == "Map" && tr.args.size() == 2 && !tr.optional) {
    TypeId key = resolveType(tr.args[0], false, false, nullptr);
    const ast::TypeRef& vr = ast_.type(tr.args[1]);
    if (p_.types.isError(key)) {
      ok = false;
    } else if (key != p_.types.string()) {
      report(msg::TableKeyType, ast_.type(tr.args[0]).range, tname(key));
    } else if (!vr.args.empty() || vr.optional) {
      wrongShape();
    } else if (auto rec = resolveDeclName(vr.name, {ast::DeclKind::Record}, "record type")) {
      info.record = recordOf_.at(rec->value);
      info.type = p_.types.mapOf(p_.types.record(info.record));
      addRef(vr.range, RefKind::Decl, *rec, 0, ast_.decl(*rec).nameRange);
      ok = true;
    }
  } else {
    wrongShape();
  }
  if (!ok) info.type = p_.types.error();
  if (td.path.empty()) report(msg::TableWithoutPath, td.pathRange.valid() ? td.pathRange : d.range);
  p_.tables[tableOf_.at(e.id.value).value] = std::move(info);
}

}  // namespace pave::sema::internal
