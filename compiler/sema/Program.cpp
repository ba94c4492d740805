#include "sema/Program.h"
#include "support/Escape.h"

#include <algorithm>

#include <pave/literals.h>

namespace pave::sema {

std::string_view typeKindName(TypeKind k) {
  switch (k) {
    case TypeKind::Error: return "<error>";
    case TypeKind::Never: return "<unknown>";
    case TypeKind::Bool: return "Bool";
    case TypeKind::Int: return "Int";
    case TypeKind::String: return "String";
    case TypeKind::Duration: return "Duration";
    case TypeKind::Timestamp: return "Timestamp";
    case TypeKind::Ip: return "Ip";
    case TypeKind::Cidr: return "Cidr";
    case TypeKind::Enum: return "enum";
    case TypeKind::Set: return "Set";
    case TypeKind::Map: return "Map";
    case TypeKind::Principal: return "principal";
    case TypeKind::Request: return "request";
    case TypeKind::Record: return "record";
  }
  return "?";
}

TypeTable::TypeTable() {
  // The fixed prefix matches the accessors in the header.
  for (TypeKind k : {TypeKind::Error, TypeKind::Never, TypeKind::Bool, TypeKind::Int, TypeKind::String,
                     TypeKind::Duration, TypeKind::Timestamp, TypeKind::Ip, TypeKind::Cidr})
    types_.push_back({k, kNoIndex, {}});
}

TypeId TypeTable::intern(Type t) {
  for (uint32_t i = 0; i < types_.size(); ++i)
    if (types_[i] == t) return TypeId{i};
  types_.push_back(t);
  return TypeId{static_cast<uint32_t>(types_.size() - 1)};
}

bool TypeTable::containsError(TypeId id) const {
  const Type& t = get(id);
  if (t.kind == TypeKind::Error) return true;
  return (t.kind == TypeKind::Set || t.kind == TypeKind::Map) && containsError(t.elem);
}

// ---- values ---------------------------------------------------------------------------------

ConstValue ConstValue::boolean(TypeId t, bool b) {
  ConstValue v;
  v.kind = Kind::Bool;
  v.type = t;
  v.i = b ? 1 : 0;
  return v;
}

ConstValue ConstValue::integer(Kind k, TypeId t, int64_t value) {
  ConstValue v;
  v.kind = k;
  v.type = t;
  v.i = value;
  return v;
}

ConstValue ConstValue::string(TypeId t, std::string s) {
  ConstValue v;
  v.kind = Kind::String;
  v.type = t;
  v.s = std::move(s);
  return v;
}

ConstValue ConstValue::set(TypeId t, std::vector<ConstValue> elems) {
  std::sort(elems.begin(), elems.end());
  elems.erase(std::unique(elems.begin(), elems.end()), elems.end());
  ConstValue v;
  v.kind = Kind::Set;
  v.type = t;
  v.elems = std::move(elems);
  return v;
}

ConstValue ConstValue::map(TypeId t, std::vector<ConstEntry> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ConstEntry> unique;
  for (auto& e : entries) {
    if (!unique.empty() && unique.back().first == e.first)
      unique.back() = std::move(e);
    else
      unique.push_back(std::move(e));
  }
  ConstValue v;
  v.kind = Kind::Map;
  v.type = t;
  v.entries = std::move(unique);
  return v;
}

namespace {
template <typename T>
int cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}
}  // namespace

int compareValues(const ConstValue& a, const ConstValue& b) {
  if (a.kind != b.kind) return cmp3(a.kind, b.kind);
  switch (a.kind) {
    case ConstValue::Kind::String: return a.s.compare(b.s) < 0 ? -1 : (a.s == b.s ? 0 : 1);
    case ConstValue::Kind::Ip:
    case ConstValue::Kind::Cidr:
      if (a.ip.v6 != b.ip.v6) return a.ip.v6 ? 1 : -1;
      if (int c = cmp3(a.ip.bytes, b.ip.bytes)) return c;
      return cmp3(a.ip.prefix, b.ip.prefix);
    case ConstValue::Kind::Set:
      for (size_t i = 0; i < a.elems.size() && i < b.elems.size(); ++i)
        if (int c = compareValues(a.elems[i], b.elems[i])) return c;
      return cmp3(a.elems.size(), b.elems.size());
    case ConstValue::Kind::Map:
      for (size_t i = 0; i < a.entries.size() && i < b.entries.size(); ++i) {
        if (int c = cmp3(a.entries[i].first, b.entries[i].first)) return c;
        if (int c = compareValues(a.entries[i].second, b.entries[i].second)) return c;
      }
      return cmp3(a.entries.size(), b.entries.size());
    default: return cmp3(a.i, b.i);
  }
}

// ---- IP addresses -----------------------------------------------------------------------------

namespace {

IpValue fromRt(const rt::IpAddr& a) {
  IpValue ip;
  ip.v6 = a.family == 6;
  ip.bytes = a.bytes;
  ip.prefix = a.prefix;
  return ip;
}

rt::IpAddr toRt(const IpValue& ip) {
  rt::IpAddr a;
  a.family = ip.v6 ? 6 : 4;
  a.bytes = ip.bytes;
  a.prefix = ip.prefix;
  return a;
}

}  // namespace

std::optional<IpValue> parseIp(std::string_view text) {
  rt::IpAddr a;
  if (!rt::parseIp(text, a)) return std::nullopt;
  return fromRt(a);
}

std::optional<IpValue> parseCidr(std::string_view text, std::string* why) {
  rt::IpAddr a;
  std::string reason;
  switch (rt::parseCidrChecked(text, a)) {
    case rt::CidrError::None: return fromRt(a);
    case rt::CidrError::NoPrefix: reason = "a network needs a prefix length, like `10.0.0.0/8`"; break;
    case rt::CidrError::BadAddress:
      reason = "`" + std::string(text.substr(0, text.find('/'))) + "` is not an IPv4 or IPv6 address";
      break;
    case rt::CidrError::BadPrefix:
      reason = "the prefix length must be between 0 and " + std::string(a.family == 6 ? "128" : "32");
      break;
    case rt::CidrError::HostBits: reason = "host bits are set after the prefix"; break;
  }
  if (why) *why = std::move(reason);
  return std::nullopt;
}

std::string formatIp(const IpValue& ip, bool withPrefix) {
  std::string out;
  if (withPrefix) rt::formatCidr(toRt(ip), out);
  else rt::formatIp(toRt(ip), out);
  return out;
}

// ---- schema helpers ---------------------------------------------------------------------------

std::string_view mergeOpName(MergeOp op) {
  switch (op) {
    case MergeOp::Min: return "min";
    case MergeOp::Max: return "max";
    case MergeOp::Union: return "union";
    case MergeOp::Intersect: return "intersect";
    case MergeOp::And: return "and";
    case MergeOp::Or: return "or";
    case MergeOp::Unique: return "unique";
  }
  return "?";
}

std::string_view severityLevelName(SeverityLevel s) {
  switch (s) {
    case SeverityLevel::None: return "";
    case SeverityLevel::Low: return "low";
    case SeverityLevel::Medium: return "medium";
    case SeverityLevel::High: return "high";
    case SeverityLevel::Critical: return "critical";
  }
  return "";
}

std::string_view outcomeName(Outcome o) {
  switch (o) {
    case Outcome::Allow: return "allow";
    case Outcome::Approval: return "approval";
    case Outcome::Deny: return "deny";
  }
  return "?";
}

namespace {
template <typename T>
const T* findNamed(const std::vector<T>& v, std::string_view name) {
  for (const T& x : v)
    if (x.name == name) return &x;
  return nullptr;
}
}  // namespace

std::optional<uint32_t> EnumInfo::member(std::string_view name) const {
  for (uint32_t i = 0; i < members.size(); ++i)
    if (members[i] == name) return i;
  return std::nullopt;
}
const AttrInfo* AttributedTypeInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
const AttrInfo* RequestInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
const GrantInfo* RequestInfo::grant(std::string_view n) const { return findNamed(grants, n); }
const AttrInfo* ContextInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
const TableRow* TableData::find(std::string_view key) const {
  auto it = std::lower_bound(rows.begin(), rows.end(), key,
                             [](const TableRow& r, std::string_view k) { return std::string_view(r.key) < k; });
  return it != rows.end() && it->key == key ? &*it : nullptr;
}
bool RequestInfo::allows(PrincipalId p) const {
  return std::binary_search(principals.begin(), principals.end(), p);
}

// ---- the program ------------------------------------------------------------------------------

std::optional<RuleId> CheckedProgram::findRule(std::string_view n) const {
  for (uint32_t i = 0; i < rules.size(); ++i)
    if (rules[i].name == n) return RuleId{i};
  return std::nullopt;
}
std::optional<RequestId> CheckedProgram::findRequest(std::string_view n) const {
  for (uint32_t i = 0; i < requests.size(); ++i)
    if (requests[i].name == n) return RequestId{i};
  return std::nullopt;
}
std::optional<PrincipalId> CheckedProgram::findPrincipal(std::string_view n) const {
  for (uint32_t i = 0; i < principals.size(); ++i)
    if (principals[i].name == n) return PrincipalId{i};
  return std::nullopt;
}

std::string CheckedProgram::typeName(TypeId id) const {
  const Type& t = types.get(id);
  switch (t.kind) {
    case TypeKind::Enum: return enums[t.index].name;
    case TypeKind::Set: return "Set<" + typeName(t.elem) + ">";
    case TypeKind::Map: return "Map<String, " + typeName(t.elem) + ">";
    case TypeKind::Principal: return t.index == kNoIndex ? "principal" : principals[t.index].name;
    case TypeKind::Request: return t.index == kNoIndex ? "request" : requests[t.index].name;
    case TypeKind::Record: return t.index < records.size() ? records[t.index].name : "record";
    default: return std::string(typeKindName(t.kind));
  }
}

namespace {
std::string quote(std::string_view s) {
  return "\"" + escapeChars(s, {{'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\t', "\\t"}, {'\r', "\\r"}}) + "\"";
}
}  // namespace

std::string CheckedProgram::formatValue(const ConstValue& v) const {
  switch (v.kind) {
    case ConstValue::Kind::Bool: return v.i ? "true" : "false";
    case ConstValue::Kind::Int: return std::to_string(v.i);
    case ConstValue::Kind::String: return quote(v.s);
    case ConstValue::Kind::Duration: return rt::formatDuration(v.i);
    case ConstValue::Kind::Timestamp: return rt::formatTimestamp(v.i);
    case ConstValue::Kind::Ip: return "ip(\"" + formatIp(v.ip, false) + "\")";
    case ConstValue::Kind::Cidr: return "cidr(\"" + formatIp(v.ip, true) + "\")";
    case ConstValue::Kind::Enum: {
      const EnumInfo& e = enums[types.get(v.type).index];
      return e.name + "." + e.members[static_cast<size_t>(v.i)];
    }
    case ConstValue::Kind::Set: {
      std::string out = "[";
      for (size_t i = 0; i < v.elems.size(); ++i) out += (i ? ", " : "") + formatValue(v.elems[i]);
      return out + "]";
    }
    case ConstValue::Kind::Map: {
      std::string out = "{";
      for (size_t i = 0; i < v.entries.size(); ++i)
        out += (i ? ", " : "") + quote(v.entries[i].first) + ": " + formatValue(v.entries[i].second);
      return out + "}";
    }
  }
  return "?";
}

std::string_view cexprKindName(CExprKind k) {
  switch (k) {
#define PAVE_K(x) \
  case CExprKind::x: return #x;
    PAVE_K(Literal) PAVE_K(Attr) PAVE_K(Var) PAVE_K(Has) PAVE_K(IsPrincipal) PAVE_K(Not) PAVE_K(Neg)
    PAVE_K(And) PAVE_K(Or) PAVE_K(Compare) PAVE_K(Add) PAVE_K(Sub) PAVE_K(Concat) PAVE_K(SetBuild)
    PAVE_K(InSet) PAVE_K(InCidr) PAVE_K(InMap) PAVE_K(Like) PAVE_K(MapIndex) PAVE_K(Table) PAVE_K(Field) PAVE_K(If) PAVE_K(Any)
    PAVE_K(All) PAVE_K(StrStartsWith) PAVE_K(StrEndsWith) PAVE_K(StrContains) PAVE_K(StrLower)
    PAVE_K(StrUpper) PAVE_K(StrSize) PAVE_K(SetSize) PAVE_K(MapSize) PAVE_K(StrIsEmpty) PAVE_K(SetIsEmpty)
    PAVE_K(MapIsEmpty) PAVE_K(SetContains) PAVE_K(SetContainsAll) PAVE_K(SetContainsAny) PAVE_K(Hour)
    PAVE_K(Weekday) PAVE_K(Date) PAVE_K(Seconds) PAVE_K(Root) PAVE_K(Param) PAVE_K(Invalid)
#undef PAVE_K
  }
  return "?";
}

std::string CheckedProgram::dump(CExprId id) const {
  const CExpr& e = expr(id);
  static constexpr std::string_view kRoots[] = {"principal", "request", "context", "param"};
  std::string head;
  switch (e.kind) {
    case CExprKind::Literal: return formatValue(constant(ConstId{e.a}));
    case CExprKind::Attr:
      head = std::string(kRoots[e.op]);
      if (e.root() == Root::Param) head += std::to_string(e.b);
      return head + "." + std::string(str(StrId{e.a})) + (e.optional() ? "?" : "");
    case CExprKind::Var: return "$" + std::to_string(e.a);
    case CExprKind::Table: return e.a < tables.size() ? tables[e.a].name : "table";
    case CExprKind::Field:
      return "(. " + dump(child(id, 0)) + " " + std::string(str(StrId{e.a})) + (e.optional() ? "?" : "") + ")";
    case CExprKind::Param: return "%" + std::to_string(e.a);
    case CExprKind::Root: return std::string(kRoots[e.op]);
    case CExprKind::IsPrincipal: return "(is " + principals[e.a].name + ")";
    case CExprKind::Compare: head = std::string(ast::compareOpSpelling(static_cast<ast::CompareOp>(e.op))); break;
    case CExprKind::Like: head = "Like " + quote(str(StrId{e.a})); break;
    case CExprKind::Any:
    case CExprKind::All: head = std::string(cexprKindName(e.kind)) + " $" + std::to_string(e.a); break;
    default: head = std::string(cexprKindName(e.kind));
  }
  std::string out = "(" + head;
  for (uint32_t i = 0; i < e.numChildren; ++i) out += " " + dump(child(id, i));
  return out + ")";
}

StrId CheckedProgram::intern(std::string_view s) {
  auto [it, inserted] = stringIndex_.try_emplace(std::string(s), static_cast<uint32_t>(strings.size()));
  if (inserted) strings.emplace_back(s);
  return StrId{it->second};
}

ConstId CheckedProgram::addConstant(ConstValue v) {
  constants.push_back(std::move(v));
  return ConstId{static_cast<uint32_t>(constants.size() - 1)};
}

CExprId CheckedProgram::addExpr(CExpr node, const std::vector<CExprId>& children) {
  node.firstChild = static_cast<uint32_t>(exprChildren.size());
  node.numChildren = static_cast<uint32_t>(children.size());
  exprChildren.insert(exprChildren.end(), children.begin(), children.end());
  exprs.push_back(node);
  return CExprId{static_cast<uint32_t>(exprs.size() - 1)};
}

}  // namespace pave::sema
