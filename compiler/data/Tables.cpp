#include "data/Tables.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <pave/literals.h>
#include "data/DataFile.h"
#include "diag/Messages.h"

namespace pave::data {

namespace {

using nlohmann::json;
using sema::CheckedProgram;
using sema::ConstValue;
using sema::TypeId;
using sema::TypeKind;

/// Converts JSON values to values of a type, as input is read (SPEC §2.1, §7.2): the first
/// problem is kept with its JSON path.
class RowChecker {
 public:
  explicit RowChecker(const CheckedProgram& p) : p_(p) {}

  std::string error;  // "<path>: <problem>" of the first problem

  std::optional<ConstValue> value(const json& v, TypeId t, const std::string& path) {
    const sema::Type& ty = p_.types.get(t);
    auto fail = [&](std::string what) -> std::optional<ConstValue> {
      if (error.empty()) error = path + ": " + what;
      return std::nullopt;
    };
    auto want = [&](const std::string& what) { return fail("expected " + what + ", found " + jsonKind(v)); };
    switch (ty.kind) {
      case TypeKind::Bool:
        if (!v.is_boolean()) return want("a Bool (true or false)");
        return ConstValue::boolean(t, v.get<bool>());
      case TypeKind::Int:
        if (v.is_number_integer()) {
          if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            return fail("integer out of the Int range");
          return ConstValue::integer(ConstValue::Kind::Int, t, v.get<int64_t>());
        }
        return want("an Int");
      case TypeKind::String:
        if (!v.is_string()) return want("a String");
        return ConstValue::string(t, v.get<std::string>());
      case TypeKind::Duration:
        if (v.is_number_integer()) {
          if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            return fail("duration out of range");
          return ConstValue::integer(ConstValue::Kind::Duration, t, v.get<int64_t>());
        }
        if (v.is_string()) {
          if (int64_t d = 0; rt::parseDuration(v.get_ref<const std::string&>(), d, false))
            return ConstValue::integer(ConstValue::Kind::Duration, t, d);
          return fail("invalid duration \"" + v.get<std::string>() + "\" (like \"1h30m\" or seconds)");
        }
        return want("a Duration");
      case TypeKind::Timestamp:
        if (v.is_string()) {
          if (int64_t s = 0; rt::parseTimestamp(v.get_ref<const std::string&>(), s))
            return ConstValue::integer(ConstValue::Kind::Timestamp, t, s);
          return fail("invalid timestamp \"" + v.get<std::string>() + "\" (like \"2026-11-27T10:00:00Z\")");
        }
        return want("a Timestamp");
      case TypeKind::Ip:
      case TypeKind::Cidr: {
        if (!v.is_string()) return want(ty.kind == TypeKind::Ip ? "an Ip" : "a Cidr");
        const std::string& s = v.get_ref<const std::string&>();
        std::string why;
        auto ip = ty.kind == TypeKind::Ip ? sema::parseIp(s) : sema::parseCidr(s, &why);
        if (!ip) return fail("invalid " + std::string(ty.kind == TypeKind::Ip ? "IP address" : "CIDR") + " \"" + s + "\"" +
                             (why.empty() ? "" : ": " + why));
        ConstValue c;
        c.kind = ty.kind == TypeKind::Ip ? ConstValue::Kind::Ip : ConstValue::Kind::Cidr;
        c.type = t;
        c.ip = *ip;
        return c;
      }
      case TypeKind::Enum: {
        const sema::EnumInfo& e = p_.enums[ty.index];
        if (!v.is_string()) return want("a member of enum `" + e.name + "`");
        if (auto m = e.member(v.get_ref<const std::string&>()))
          return ConstValue::integer(ConstValue::Kind::Enum, t, *m);
        return fail("\"" + v.get<std::string>() + "\" is not a member of enum `" + e.name + "`");
      }
      case TypeKind::Set: {
        if (!v.is_array()) return want("an array (a Set)");
        std::vector<ConstValue> elems;
        elems.reserve(v.size());
        for (size_t i = 0; i < v.size(); ++i) {
          auto e = value(v[i], ty.elem, path + "[" + std::to_string(i) + "]");
          if (!e) return std::nullopt;
          elems.push_back(std::move(*e));
        }
        return ConstValue::set(t, std::move(elems));
      }
      case TypeKind::Map: {
        if (!v.is_object()) return want("an object (a Map)");
        std::vector<sema::ConstEntry> entries;
        for (const auto& [k, x] : v.items()) {
          auto e = value(x, ty.elem, path + memberStep(k));
          if (!e) return std::nullopt;
          entries.push_back({k, std::move(*e)});
        }
        return ConstValue::map(t, std::move(entries));
      }
      default: return fail("a value of type `" + p_.typeName(t) + "` cannot be read from data");
    }
  }

  /// One row: every attribute of the record, nothing else.
  bool row(const json& v, const sema::RecordInfo& rec, const std::string& path, sema::TableRow& out) {
    out.fields.assign(rec.attrs.size(), std::nullopt);
    for (const auto& [k, x] : v.items()) {
      const sema::AttrInfo* a = rec.attr(k);
      if (!a) {
        if (error.empty()) error = path + memberStep(k) + ": unknown attribute `" + k + "` of record `" + rec.name + "`";
        return false;
      }
      if (x.is_null() && a->optional) continue;  // null for an optional attribute means absent
      auto c = value(x, a->type, path + memberStep(k));
      if (!c) return false;
      out.fields[size_t(a - rec.attrs.data())] = std::move(*c);
    }
    for (size_t i = 0; i < rec.attrs.size(); ++i) {
      if (out.fields[i] || rec.attrs[i].optional) continue;
      if (error.empty())
        error = path + ": missing attribute `" + rec.attrs[i].name + "` of record `" + rec.name + "`";
      return false;
    }
    return true;
  }

 private:
  static std::string jsonKind(const json& v) { return jsonKindName(v); }

  const CheckedProgram& p_;
};

/// The byte range of 1-based `line` of `text`, without leading blanks and the terminator.
std::pair<uint32_t, uint32_t> lineRange(std::string_view text, uint32_t line) {
  size_t at = 0;
  for (uint32_t l = 1; l < line && at != std::string_view::npos; ++l) {
    at = text.find('\n', at);
    if (at != std::string_view::npos) ++at;
  }
  if (at == std::string_view::npos || at > text.size()) at = text.size();
  size_t end = text.find('\n', at);
  if (end == std::string_view::npos) end = text.size();
  if (end > at && text[end - 1] == '\r') --end;
  while (at < end && (text[at] == ' ' || text[at] == '\t')) ++at;
  return {uint32_t(at), uint32_t(std::max(end, at))};
}

/// Replaces each byte that is not part of valid UTF-8 by `?` (offsets stay), so that a
/// diagnostic quoting a line of a data file never writes invalid UTF-8.
void sanitizeUtf8(std::string& s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = rt::utf8SequenceAt(s, i);
    if (!n) s[i] = '?', n = 1;
    i += n;
  }
}

bool readBytes(const std::string& path, std::string& out, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    why = std::filesystem::exists(path, ec) ? "cannot read the data file" : "no such data file";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

}  // namespace

bool loadTables(CheckedProgram& program, const std::string& root, SourceManager& sources, DiagnosticEngine& diags) {
  namespace fs = std::filesystem;
  bool ok = true;
  for (sema::TableInfo& table : program.tables) {
    if (program.types.isError(table.type) || table.path.empty()) {
      ok = false;
      continue;
    }
    const std::string file = (fs::path(root.empty() ? "." : root) / table.path).lexically_normal().string();
    std::string bytes, why;
    if (!readBytes(file, bytes, why)) {
      diags
          .report(msg::DataFileUnreadable, table.pathRange.valid() ? table.pathRange : table.range, why, table.path,
                  table.name)
          .note("the path is relative to the repository root (the folder of pave.toml)");
      ok = false;
      continue;
    }
    const sema::RecordInfo& rec = program.records[table.record.value];
    auto data = std::make_shared<sema::TableData>();
    data->file = file;
    RowChecker checker(program);
    uint32_t badLine = 0;
    DataError err;
    bool read = readRows(bytes, formatFor(file), [&](Row&& r) {
      sema::TableRow row;
      row.key = std::move(r.key);
      row.line = r.line;
      if (!checker.row(r.value, rec, r.path, row)) {
        badLine = r.line;
        return false;
      }
      data->rows.push_back(std::move(row));
      return true;
    }, err);
    if (!read) {
      std::string message = !checker.error.empty() ? checker.error
                            : err.path.empty()     ? err.message
                                                   : err.path + ": " + err.message;
      uint32_t line = !checker.error.empty() ? badLine : err.line;
      SourceRange at = table.pathRange.valid() ? table.pathRange : table.range;
      if (line > 0) {
        auto [begin, end] = lineRange(bytes, line);
        sanitizeUtf8(bytes);
        FileId id = sources.add(file, std::move(bytes));
        at = SourceRange{id, begin, end};
      }
      diags.report(msg::DataRowsInvalid, at, table.name, message)
          .note("the rows of `" + table.path + "` must fit record `" + rec.name + "`; nothing is built until they do");
      ok = false;
      continue;
    }
    // Sorted by key (bytewise), as the bundle holds them; the reader refused duplicates.
    std::sort(data->rows.begin(), data->rows.end(),
              [](const sema::TableRow& a, const sema::TableRow& b) { return a.key < b.key; });
    table.data = std::move(data);
  }
  return ok;
}

}  // namespace pave::data
