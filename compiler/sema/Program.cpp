#include "sema/Program.h"

#include <algorithm>
#include <charconv>

#include "syntax/Literals.h"

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

std::optional<unsigned> parseDecimal(std::string_view s, unsigned max) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

bool parseV4(std::string_view s, uint8_t* out) {
  for (int part = 0; part < 4; ++part) {
    size_t dot = s.find('.');
    if ((part < 3) != (dot != std::string_view::npos)) return false;
    auto v = parseDecimal(s.substr(0, dot), 255);
    if (!v) return false;
    out[part] = static_cast<uint8_t>(*v);
    s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  }
  return true;
}

std::optional<unsigned> parseHex16(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// Parses colon-separated groups (possibly ending in an IPv4 tail) into 16-bit words.
bool parseGroups(std::string_view s, std::vector<uint16_t>& words, bool allowV4Tail) {
  if (s.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t colon = s.find(':', start);
    std::string_view group = s.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    if (colon == std::string_view::npos && allowV4Tail && group.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (!parseV4(group, v4)) return false;
      words.push_back(static_cast<uint16_t>(v4[0] << 8 | v4[1]));
      words.push_back(static_cast<uint16_t>(v4[2] << 8 | v4[3]));
      return true;
    }
    auto w = parseHex16(group);
    if (!w) return false;
    words.push_back(static_cast<uint16_t>(*w));
    if (colon == std::string_view::npos) return true;
    start = colon + 1;
  }
}

bool parseV6(std::string_view s, uint8_t* out) {
  std::vector<uint16_t> head, tail;
  size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parseGroups(s, head, true) || head.size() != 8) return false;
  } else {
    if (s.find("::", gap + 1) != std::string_view::npos) return false;
    if (!parseGroups(s.substr(0, gap), head, false) || !parseGroups(s.substr(gap + 2), tail, true)) return false;
    if (head.size() + tail.size() > 7) return false;
  }
  std::vector<uint16_t> words = head;
  words.resize(8 - tail.size(), 0);
  words.insert(words.end(), tail.begin(), tail.end());
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(words[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(words[i] & 0xFF);
  }
  return true;
}

bool isMappedV4(const IpValue& ip) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return ip.v6 && std::equal(kPrefix, kPrefix + 12, ip.bytes.begin());
}

/// `::ffff:a.b.c.d` as the IPv4 address `a.b.c.d` (SPEC §2.1).
void unmapV4(IpValue& ip) {
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), ip.bytes.begin());
  std::fill(ip.bytes.begin() + 4, ip.bytes.end(), uint8_t(0));
  ip.v6 = false;
}

/// The address as written: an IPv4-mapped IPv6 address stays IPv6.
std::optional<IpValue> parseIpExact(std::string_view text) {
  IpValue ip;
  if (text.find(':') != std::string_view::npos) {
    ip.v6 = true;
    if (!parseV6(text, ip.bytes.data())) return std::nullopt;
    return ip;
  }
  if (!parseV4(text, ip.bytes.data())) return std::nullopt;
  return ip;
}

}  // namespace

std::optional<IpValue> parseIp(std::string_view text) {
  auto ip = parseIpExact(text);
  if (ip && isMappedV4(*ip)) unmapV4(*ip);
  return ip;
}

std::optional<IpValue> parseCidr(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<IpValue> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return fail("a network needs a prefix length, like `10.0.0.0/8`");
  auto ip = parseIpExact(text.substr(0, slash));
  if (!ip) return fail("`" + std::string(text.substr(0, slash)) + "` is not an IPv4 or IPv6 address");
  unsigned max = ip->v6 ? 128 : 32;
  auto prefix = parseDecimal(text.substr(slash + 1), 999);
  if (!prefix || *prefix > max)
    return fail("the prefix length must be between 0 and " + std::to_string(max));
  if (isMappedV4(*ip) && *prefix >= 96) {  // a network of IPv4-mapped addresses is the IPv4 network
    unmapV4(*ip);
    max = 32;
    *prefix -= 96;
  }
  ip->prefix = static_cast<uint8_t>(*prefix);
  for (unsigned bit = *prefix; bit < max; ++bit)
    if (ip->bytes[bit / 8] & (0x80 >> (bit % 8))) return fail("host bits are set after the prefix");
  return ip;
}

std::string formatIp(const IpValue& ip, bool withPrefix) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) out += (i ? "." : "") + std::to_string(ip.bytes[i]);
  } else {
    // RFC 5952: compress the longest run (>= 2) of zero groups.
    uint16_t w[8];
    for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>(ip.bytes[2 * i] << 8 | ip.bytes[2 * i + 1]);
    int bestStart = -1, bestLen = 0;
    for (int i = 0; i < 8;) {
      int j = i;
      while (j < 8 && w[j] == 0) ++j;
      if (j - i > bestLen && j - i >= 2) bestStart = i, bestLen = j - i;
      i = j == i ? i + 1 : j;
    }
    char buf[8];
    for (int i = 0; i < 8; ++i) {
      if (i == bestStart) {
        out += "::";
        i += bestLen - 1;
        continue;
      }
      if (!out.empty() && out.back() != ':') out += ':';
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, w[i], 16);
      out.append(buf, p);
    }
  }
  if (withPrefix) out += "/" + std::to_string(ip.prefix);
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
const AttrInfo* PrincipalInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
const AttrInfo* RequestInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
const GrantInfo* RequestInfo::grant(std::string_view n) const { return findNamed(grants, n); }
const AttrInfo* ContextInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
const AttrInfo* RecordInfo::attr(std::string_view n) const { return findNamed(attrs, n); }
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
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out + "\"";
}
}  // namespace

std::string CheckedProgram::formatValue(const ConstValue& v) const {
  switch (v.kind) {
    case ConstValue::Kind::Bool: return v.i ? "true" : "false";
    case ConstValue::Kind::Int: return std::to_string(v.i);
    case ConstValue::Kind::String: return quote(v.s);
    case ConstValue::Kind::Duration: return syntax::formatDuration(v.i);
    case ConstValue::Kind::Timestamp: return syntax::formatTimestamp(v.i);
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
