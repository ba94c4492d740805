// Load-time tables of the JSON input decoder and the decision writer (json_tables.h).
#include "json_tables.h"

#include <bit>
#include <cstring>

#include "pave/literals.h"
#include "program.h"

namespace pave::rt {

void appendJsonQuoted(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

namespace {

std::string quoted(std::string_view s) {
  std::string q;
  appendJsonQuoted(s, q);
  return q;
}

// Qualified names first; a short name only where TypeNames::find would reach it.
NameTable typeNameTable(const TypeNames& names) {
  std::vector<std::pair<std::string_view, int32_t>> entries(names.qualified.begin(), names.qualified.end());
  for (const auto& [name, index] : names.shortNames)
    if (index >= 0) entries.emplace_back(name, index);
  return NameTable(entries);
}

template <typename Attrs, typename NameOf>
NameTable attributeTable(const Attrs& attrs, NameOf nameOf) {
  std::vector<std::pair<std::string_view, int32_t>> entries;
  for (size_t a = 0; a < attrs.size(); ++a) entries.emplace_back(nameOf(attrs[a]), int32_t(a));
  return NameTable(entries);
}

}  // namespace

void buildJsonTables(LoadedBundle::Impl& impl) {
  const Bundle& m = impl.model;
  const Schema& s = m.schema;
  JsonTables& j = impl.json;
  auto attrName = [&](const Attribute& a) { return impl.str(a.name); };

  j.requestTypes = typeNameTable(impl.requestNames);
  j.principalTypes = typeNameTable(impl.principalNames);
  for (const RequestType& rt : s.requests) {
    j.requestAttrs.push_back(
        attributeTable(rt.attrs, [&](const RequestAttr& a) { return impl.str(s.requestSlots[a.slot].name); }));
    j.requestTypeNames.push_back(quoted(impl.str(rt.name)));
    std::vector<std::string>& keys = j.grantKeys.emplace_back();
    for (const GrantDecl& g : rt.grants) keys.push_back(quoted(impl.str(g.name)) + ':');
  }
  for (const PrincipalType& pt : s.principals) j.principalAttrs.push_back(attributeTable(pt.attrs, attrName));
  j.contextAttrs = attributeTable(s.context, attrName);

  auto optional = [&](StrId id) { return id == kNone ? std::string("null") : quoted(impl.str(id)); };
  for (const Rule& r : m.rules) j.ruleNames.push_back(quoted(impl.str(r.name)));
  for (const Rule& r : m.rules) {
    std::string& e = j.exceptions.emplace_back();
    if (r.effect != Effect::Exception) continue;
    std::string until;
    formatTimestamp(r.until, until);
    e = "{\"id\":" + quoted(impl.str(r.name)) + ",\"lifts\":" + quoted(impl.str(m.rules[r.lifts].name)) +
        ",\"until\":" + quoted(until) + ",\"owner\":" + optional(r.owner);
    if (r.ticket != kNone) e += ",\"ticket\":" + quoted(impl.str(r.ticket));
    e += '}';
  }
  j.approvals.resize(m.rules.size());
  for (const RequestIndex& ri : impl.plan.requests)
    for (const RuleUse& use : ri.rules) {
      JsonTables::ConstApproval& a = j.approvals[use.rule];
      if (!use.approversConst || !a.tail.empty()) continue;
      a.groups = use.groups;
      a.quorum = m.rules[use.rule].quorum;
      a.tail = ",\"groups\":[";
      for (size_t g = 0; g < a.groups.size(); ++g) a.tail += (g ? "," : "") + quoted(a.groups[g]);
      a.tail += "],\"quorum\":" + std::to_string(a.quorum) + "}";
    }
  for (const Rule& r : m.rules) {
    std::string& t = j.traceMeta.emplace_back();
    if (r.doc != kNone) t += ",\"doc\":" + quoted(impl.str(r.doc));
    if (!r.controls.empty()) {
      t += ",\"controls\":[";
      for (size_t i = 0; i < r.controls.size(); ++i) t += (i ? "," : "") + quoted(impl.str(r.controls[i]));
      t += ']';
    }
    if (r.severity != Severity::None) t += ",\"severity\":" + quoted(severityName(r.severity));
    j.traceFile.push_back(r.file == kNone ? std::string() : "\"file\":" + quoted(impl.str(r.file)) + ",");
  }
  j.bundle = "\"bundle\":{\"name\":" + optional(m.meta.name) + ",\"revision\":" + optional(m.meta.revision) +
             ",\"digest\":\"sha256:" + impl.digestHex + "\"" +
             (m.meta.dataDigest == kNone ? "" : ",\"data_digest\":" + quoted(impl.str(m.meta.dataDigest))) + "}";
}

}  // namespace pave::rt
