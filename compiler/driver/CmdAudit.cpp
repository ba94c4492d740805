// `pave audit` (SPEC §11): exceptions as control failures, continuous re-evaluation of
// logged grants, and one decision explained, all read from decision logs (SPEC §10.1).
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <pave/runtime.h>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "audit/Json.h"
#include "audit/LogReader.h"
#include "audit/Record.h"
#include "driver/Commands.h"
#include "pipeline/Files.h"
#include <pave/literals.h>

namespace pave::driver {
namespace {

using audit::Class;
using audit::Record;
using nlohmann::json;

struct AuditArgs {
  std::string bundle;
  std::vector<std::string> logs;
  std::vector<std::string> publicKeys;
  std::string now;
  std::string expiring = "14d";
  std::string maxRate;
  std::string format = "text";
  std::string at = "now";
  std::string id;
};

enum class Format { Text, Json, Csv };

std::optional<Format> parseFormat(const std::string& f, bool csv) {
  if (f == "text") return Format::Text;
  if (f == "json") return Format::Json;
  if (f == "csv" && csv) return Format::Csv;
  printError("unknown format `" + f + (csv ? "` (expected text, json or csv)" : "` (expected text or json)"));
  return std::nullopt;
}

std::shared_ptr<const rt::LoadedBundle> loadBundle(const AuditArgs& args) {
  rt::LoadOptions options;
  for (const std::string& path : args.publicKeys) {
    std::string pem;
    if (auto err = readFile(path, pem)) {
      printError(*err);
      return nullptr;
    }
    options.publicKeysPem.push_back(std::move(pem));
  }
  std::string error;
  auto bundle = rt::LoadedBundle::loadFile(args.bundle, options, &error);
  if (!bundle) printError(args.bundle + ": " + error);
  return bundle;
}

std::string_view str(const rt::Bundle& b, rt::StrId id) { return id == rt::kNone ? std::string_view() : b.str(id); }

/// Transparent hashing, so that maps keyed by std::string are searched with string_views.
struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, Hash, std::equal_to<>>;

template <class V>
V& entry(StringMap<V>& m, std::string_view key) {
  auto it = m.find(key);
  if (it == m.end()) it = m.emplace(std::string(key), V{}).first;
  return it->second;
}

/// Counts of the log as a whole, and the bundles its records were made with.
struct LogSummary {
  uint64_t lines = 0, records = 0, malformed = 0;
  struct Bundle {
    uint64_t records = 0;
    std::string name, revision, first, last;
  };
  std::map<std::string, Bundle> bundles;  // by digest

  void count(const Record& r) {
    ++records;
    Bundle& b = bundles[std::string(r.digest)];
    if (b.records++ == 0) {
      b.name = r.bundleName;
      b.revision = r.revision;
      b.first = r.time;
    }
    b.last = r.time;
  }
  json bundlesJson() const {
    json out = json::array();
    for (const auto& [digest, b] : bundles)
      out.push_back({{"digest", digest}, {"name", b.name}, {"revision", b.revision}, {"records", b.records},
                     {"first", b.first}, {"last", b.last}});
    return out;
  }
};

/// Reads every record of `logs` and hands it to `f` (which returns false to stop). A line
/// that is not a record is reported on stderr with its file and line (the first 20; then a
/// count) and counted. Returns false on an I/O error, reported.
bool readLogs(const std::vector<std::string>& logs, LogSummary& summary, const std::function<bool(Record&)>& f,
              std::string_view mustContain = {}) {
  constexpr uint64_t kShown = 20;
  audit::LogReader reader(logs);
  Record r;
  std::string why;
  std::string_view line;
  while (reader.next(line)) {
    ++summary.lines;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    // A line without the text sought is skipped unread, unless escapes could hide it.
    if (!mustContain.empty() && line.find(mustContain) == std::string_view::npos && line.find('\\') == std::string_view::npos)
      continue;
    if (!audit::parseRecord(line, r, why)) {
      if (++summary.malformed <= kShown)
        std::cerr << "pave: warning: " << reader.file() << ":" << reader.line() << ": skipped a line that is not a decision record: " << why
                  << (reader.unterminated() ? " (the file's last line, without a newline)" : "") << "\n";
      continue;
    }
    summary.count(r);
    if (!f(r)) break;
  }
  if (summary.malformed > kShown)
    std::cerr << "pave: warning: " << summary.malformed - kShown << " more lines skipped (" << summary.malformed << " in all)\n";
  if (!reader.error().empty()) {
    printError(reader.error());
    return false;
  }
  return true;
}

std::string csvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

template <class List>
std::string joined(const List& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

std::string bundleLine(const rt::LoadedBundle& b) {
  const rt::Bundle& m = b.model();
  std::string rev(str(m, m.meta.revision));
  return std::string(str(m, m.meta.name)) + (rev.empty() ? "" : " revision " + rev) + " (sha256:" + std::string(b.digestHex()) + ")";
}

json bundleJson(const rt::LoadedBundle& b) {
  const rt::Bundle& m = b.model();
  return {{"name", str(m, m.meta.name)}, {"revision", str(m, m.meta.revision)}, {"digest", "sha256:" + std::string(b.digestHex())}};
}

void printLogLine(const LogSummary& log, std::string_view digest, std::ostream& out) {
  uint64_t same = 0;
  auto it = log.bundles.find(std::string(digest));
  if (it != log.bundles.end()) same = it->second.records;
  out << "log: " << log.records << " records, " << same << " made with this bundle";
  if (log.records > same)
    out << ", " << log.records - same << " with " << log.bundles.size() - (same ? 1 : 0) << " other bundle(s), not counted below";
  out << "; " << log.malformed << " malformed lines skipped\n";
}

// ---- pave audit exceptions ------------------------------------------------------------------

struct ExceptionUse {
  std::string id, lifts, owner, ticket;
  int64_t until = 0;
  uint64_t uses = 0;
  std::unordered_set<uint64_t> principals;  // hashes of the principals' compact JSON
  std::string first, last;
  std::set<std::string> types;
  uint64_t afterUntil = 0;
  std::vector<json> afterSamples;  // the first few uses after `until`
};

struct TypeShare {
  uint64_t decisions = 0, lifted = 0;
};

std::optional<double> parseRate(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string t = text;
  bool pct = t.back() == '%';
  if (pct) t.pop_back();
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || v < 0) return -1.0;
  if (pct) v /= 100;
  return v > 1 ? -1.0 : v;
}

int runExceptions(const AuditArgs& args) {
  auto format = parseFormat(args.format, true);
  if (!format) return kExitUsage;
  auto now = resolveNow(args.now);
  if (!now) return kExitUsage;
  std::optional<int64_t> window(0);
  if (!rt::parseDuration(args.expiring, *window, false)) {
    printError("--expiring: `" + args.expiring + "` is not a duration such as 14d");
    return kExitUsage;
  }
  auto maxRate = parseRate(args.maxRate);
  if (maxRate && *maxRate < 0) {
    printError("--max-rate: `" + args.maxRate + "` is not a share such as 0.05 or 5%");
    return kExitUsage;
  }
  auto bundle = loadBundle(args);
  if (!bundle) return kExitUsage;
  const rt::Bundle& m = bundle->model();
  std::string digest = "sha256:" + std::string(bundle->digestHex());

  std::vector<ExceptionUse> exceptions;
  StringMap<size_t> byId;
  for (const rt::Rule& rule : m.rules) {
    if (rule.effect != rt::Effect::Exception) continue;
    ExceptionUse e;
    e.id = str(m, rule.name);
    e.lifts = rule.lifts < m.rules.size() ? str(m, m.rules[rule.lifts].name) : "";
    e.owner = str(m, rule.owner);
    e.ticket = str(m, rule.ticket);
    e.until = rule.until;
    byId.emplace(e.id, exceptions.size());
    exceptions.push_back(std::move(e));
  }
  std::sort(exceptions.begin(), exceptions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  byId.clear();
  for (size_t i = 0; i < exceptions.size(); ++i) byId.emplace(exceptions[i].id, i);

  StringMap<TypeShare> types;
  LogSummary log;
  bool ok = readLogs(args.logs, log, [&](Record& r) {
    bool same = r.digest == digest;
    if (same) {
      TypeShare& t = entry(types, r.requestType);
      ++t.decisions;
      t.lifted += !r.exceptions.empty();
    }
    if (r.exceptions.empty()) return true;
    uint64_t principal = 0;
    bool havePrincipal = false;
    for (const audit::LiftedException& x : r.exceptions) {
      auto it = byId.find(x.id);
      if (it == byId.end()) continue;  // not in this bundle
      ExceptionUse& e = exceptions[it->second];
      if (r.timeSeconds >= e.until) {  // a use the bundle would not allow any more
        if (e.afterUntil++ < 5)
          e.afterSamples.push_back({{"id", r.id}, {"time", r.time}, {"digest", r.digest}, {"revision", r.revision}});
      }
      if (!same) continue;
      if (!havePrincipal) {
        auto p = audit::member(r.input, "principal");
        principal = std::hash<std::string>{}(p ? audit::compact(*p) : std::string());
        havePrincipal = true;
      }
      if (e.uses++ == 0) e.first = r.time;
      e.last = r.time;
      e.principals.insert(principal);
      if (e.types.size() < 64) e.types.emplace(r.requestType);
    }
    return true;
  });
  if (!ok) return kExitUsage;

  bool flagged = false;
  std::vector<std::string> typeNames;
  for (const auto& [name, t] : types) typeNames.push_back(name);
  std::sort(typeNames.begin(), typeNames.end());
  auto overRate = [&](const TypeShare& t) {
    return maxRate && t.decisions > 0 && double(t.lifted) / double(t.decisions) > *maxRate;
  };
  for (const ExceptionUse& e : exceptions) flagged |= e.until - *now <= *window || e.afterUntil > 0;
  for (const auto& [name, t] : types) flagged |= overRate(t);

  auto timeLeft = [&](const ExceptionUse& e) {
    return e.until <= *now ? std::string("expired") : rt::formatDuration(e.until - *now) + " left";
  };
  if (*format == Format::Csv) {
    std::cout << "exception,lifts,owner,ticket,until,seconds_left,uses,principals,first_use,last_use,request_types,"
                 "uses_after_until,expiring\n";
    for (const ExceptionUse& e : exceptions)
      std::cout << csvField(e.id) << "," << csvField(e.lifts) << "," << csvField(e.owner) << "," << csvField(e.ticket) << ","
                << rt::formatTimestamp(e.until) << "," << e.until - *now << "," << e.uses << "," << e.principals.size()
                << "," << e.first << "," << e.last << "," << csvField(joined(e.types, ";")) << "," << e.afterUntil << ","
                << (e.until - *now <= *window ? "true" : "false") << "\n";
    return flagged ? kExitFindings : kExitOk;
  }
  if (*format == Format::Json) {
    json out;
    out["bundle"] = bundleJson(*bundle);
    out["now"] = rt::formatTimestamp(*now);
    out["expiring_window"] = rt::formatDuration(*window);
    if (maxRate) out["max_rate"] = *maxRate;
    json list = json::array();
    for (const ExceptionUse& e : exceptions)
      list.push_back({{"id", e.id}, {"lifts", e.lifts}, {"owner", e.owner}, {"ticket", e.ticket},
                      {"until", rt::formatTimestamp(e.until)}, {"seconds_left", e.until - *now},
                      {"expiring", e.until - *now <= *window}, {"uses", e.uses}, {"principals", e.principals.size()},
                      {"first_use", e.uses ? json(e.first) : json(nullptr)}, {"last_use", e.uses ? json(e.last) : json(nullptr)},
                      {"request_types", e.types}, {"uses_after_until", e.afterUntil}, {"uses_after_until_sample", e.afterSamples}});
    out["exceptions"] = std::move(list);
    json never = json::array();
    for (const ExceptionUse& e : exceptions)
      if (e.uses == 0) never.push_back(e.id);
    out["never_used"] = std::move(never);
    json shares = json::array();
    for (const std::string& name : typeNames) {
      const TypeShare& t = types.find(name)->second;
      shares.push_back({{"request_type", name.empty() ? json(nullptr) : json(name)}, {"decisions", t.decisions},
                        {"lifted", t.lifted}, {"share", t.decisions ? double(t.lifted) / double(t.decisions) : 0.0},
                        {"over_max_rate", overRate(t)}});
    }
    out["request_types"] = std::move(shares);
    out["log"] = {{"lines", log.lines}, {"records", log.records}, {"malformed", log.malformed}, {"bundles", log.bundlesJson()}};
    out["findings"] = flagged;
    std::cout << out.dump(2) << "\n";
    return flagged ? kExitFindings : kExitOk;
  }

  std::ostream& out = std::cout;
  out << "bundle " << bundleLine(*bundle) << ", at " << rt::formatTimestamp(*now) << "\n";
  printLogLine(log, digest, out);
  out << "\nexceptions (" << exceptions.size() << "):\n";
  for (const ExceptionUse& e : exceptions) {
    out << "  " << e.id << " lifts " << e.lifts << "\n    owner " << e.owner << (e.ticket.empty() ? "" : ", ticket " + e.ticket)
        << ", until " << rt::formatTimestamp(e.until) << " (" << timeLeft(e) << ")\n";
    if (e.uses == 0) out << "    never used\n";
    else
      out << "    " << e.uses << " uses by " << e.principals.size() << " principals, first " << e.first << ", last " << e.last
          << "; request types: " << joined(e.types, ", ") << "\n";
  }
  auto section = [&](const std::string& title, const std::vector<std::string>& lines) {
    out << "\n" << title << (lines.empty() ? ": none\n" : ":\n");
    for (const std::string& l : lines) out << "  " << l << "\n";
  };
  std::vector<std::string> lines;
  for (const ExceptionUse& e : exceptions)
    if (e.until - *now <= *window) lines.push_back(e.id + " (" + rt::formatTimestamp(e.until) + ", " + timeLeft(e) + ")");
  section("expiring within " + rt::formatDuration(*window), lines);
  lines.clear();
  for (const ExceptionUse& e : exceptions)
    if (e.uses == 0) lines.push_back(e.id + " (candidate to remove)");
  section("never used", lines);
  lines.clear();
  for (const ExceptionUse& e : exceptions) {
    if (!e.afterUntil) continue;
    std::string l = e.id + ": " + std::to_string(e.afterUntil) + " uses at or after " + rt::formatTimestamp(e.until) +
                    " (an enforcement point with a stale bundle?), e.g.";
    for (const json& s : e.afterSamples)
      l += "\n    " + s["id"].get<std::string>() + " at " + s["time"].get<std::string>() + " with " + s["digest"].get<std::string>();
    lines.push_back(l);
  }
  section("used after until", lines);
  lines.clear();
  for (const std::string& name : typeNames) {
    const TypeShare& t = types.find(name)->second;
    lines.push_back((name.empty() ? std::string("(invalid input)") : name) + ": " + std::to_string(t.decisions) + " decisions, " +
                    std::to_string(t.lifted) + " lifted by an exception (" + percent(double(t.lifted) / double(t.decisions)) + ")" +
                    (overRate(t) ? "  over --max-rate " + percent(*maxRate) : ""));
  }
  section("exception share per request type", lines);
  lines.clear();
  for (const auto& [d, b] : log.bundles)
    if (d != digest)
      lines.push_back(d + (b.revision.empty() ? "" : " revision " + b.revision) + ": " + std::to_string(b.records) + " records, " +
                      b.first + " … " + b.last);
  section("records made with other bundles (not counted above)", lines);
  return flagged ? kExitFindings : kExitOk;
}

// ---- pave audit recheck ---------------------------------------------------------------------

bool revoked(Class before, rt::Outcome after) {
  return (before != Class::Deny && after == rt::Outcome::Deny) ||
         (before == Class::Allow && after == rt::Outcome::Approval);
}

Class classOf(rt::Outcome o) {
  return o == rt::Outcome::Allow ? Class::Allow : o == rt::Outcome::Approval ? Class::Approval : Class::Deny;
}

/// `input` with its `context.time` replaced by `time` (a JSON string), in `out`; false
/// (and `out` untouched) when the input has no `context.time`.
bool withTime(std::string_view input, const std::string& time, std::string& out) {
  auto context = audit::member(input, "context");
  if (!context) return false;
  auto t = audit::member(*context, "time");
  if (!t) return false;
  out.assign(input.data(), size_t(t->data() - input.data()));
  out += time;
  out.append(t->data() + t->size(), size_t(input.data() + input.size() - (t->data() + t->size())));
  return true;
}

int runRecheck(const AuditArgs& args) {
  auto format = parseFormat(args.format, true);
  if (!format) return kExitUsage;
  if (args.at != "now" && args.at != "logged") {
    printError("--at: expected now or logged, not `" + args.at + "`");
    return kExitUsage;
  }
  bool atNow = args.at == "now";
  auto now = resolveNow(args.now);
  if (!now) return kExitUsage;
  auto bundle = loadBundle(args);
  if (!bundle) return kExitUsage;
  const rt::Bundle& m = bundle->model();
  rt::Decider decider(bundle);
  std::string nowJson = "\"" + rt::formatTimestamp(*now) + "\"";
  auto names = [&](std::span<const uint32_t> rules) {
    std::vector<std::string> out;
    for (uint32_t i : rules) out.emplace_back(str(m, m.rules[i].name));
    return out;
  };

  uint64_t rechecked = 0, denied = 0, redacted = 0, changed = 0, loosened = 0;
  std::string input;
  std::ostream& out = std::cout;
  if (*format == Format::Json)
    out << "{\"bundle\": " << bundleJson(*bundle).dump() << ",\n \"now\": \"" << rt::formatTimestamp(*now) << "\", \"at\": \""
        << args.at << "\",\n \"changes\": [";
  if (*format == Format::Csv) out << "id,time,request_type,from,to,deny_rules,reasons,exceptions,errors\n";
  if (*format == Format::Text)
    out << "recheck with bundle " << bundleLine(*bundle) << ", "
        << (atNow ? "at " + rt::formatTimestamp(*now) : std::string("at each record's logged context.time")) << "\n\n";

  LogSummary log;
  bool ok = readLogs(args.logs, log, [&](Record& r) {
    if (r.decision == Class::Deny) {
      ++denied;
      return true;
    }
    if (audit::containsRedaction(r.input)) {
      ++redacted;
      return true;
    }
    std::string_view text = r.input;
    if (atNow && withTime(r.input, nowJson, input)) text = input;
    const rt::Decision& d = decider.decide(text);
    ++rechecked;
    if (d.outcome == rt::Outcome::Allow && r.decision == Class::Approval) ++loosened;
    if (!revoked(r.decision, d.outcome)) return true;
    ++changed;
    std::vector<std::string> reasons(d.reasons.begin(), d.reasons.end());
    std::vector<std::string> errors;
    for (const rt::DecisionError& e : d.errors) errors.push_back(e.code + (e.path.empty() ? "" : " at " + e.path));
    std::string from = audit::className(r.decision), to = audit::className(classOf(d.outcome));
    if (*format == Format::Csv) {
      out << csvField(r.id) << "," << r.time << "," << csvField(r.requestType) << "," << from << "," << to << ","
          << csvField(joined(names(d.denyRules), ";")) << "," << csvField(joined(reasons, ";")) << ","
          << csvField(joined(names(d.exceptions), ";")) << "," << csvField(joined(errors, ";")) << "\n";
    } else if (*format == Format::Json) {
      auto principal = audit::member(r.input, "principal");
      json c = {{"id", r.id},
                {"time", r.time},
                {"request_type", r.requestType},
                {"from", from},
                {"to", to},
                {"deny_rules", names(d.denyRules)},
                {"reasons", reasons},
                {"exceptions", names(d.exceptions)},
                {"errors", errors},
                {"logged_digest", r.digest},
                {"principal", principal ? json::parse(*principal, nullptr, false) : json(nullptr)}};
      out << (changed > 1 ? ",\n  " : "\n  ") << c.dump();
    } else {
      auto principal = audit::member(r.input, "principal");
      out << "revoke " << r.id << " (" << r.time << ") " << r.requestType << ": " << from << " → " << to << "\n";
      if (principal) out << "  principal  " << audit::compact(*principal) << "\n";
      if (!d.denyRules.empty()) out << "  deny rules " << joined(names(d.denyRules), ", ") << "\n";
      if (!reasons.empty()) out << "  reasons    " << joined(reasons, "; ") << "\n";
      if (!d.exceptions.empty()) out << "  exceptions " << joined(names(d.exceptions), ", ") << "\n";
      if (!errors.empty()) out << "  errors     " << joined(errors, "; ") << "\n";
      if (d.outcome == rt::Outcome::Approval)
        for (const rt::Approval& a : d.approvals)
          out << "  approval   " << str(m, m.rules[a.rule].name) << " by " << joined(a.groups, ", ") << " (quorum " << a.quorum << ")\n";
    }
    return true;
  });
  if (!ok) return kExitUsage;
  json summary = {{"records", log.records},          {"rechecked", rechecked}, {"changed", changed},
                  {"loosened", loosened},            {"redacted", redacted},   {"deny", denied},
                  {"malformed", log.malformed},      {"logged_with", log.bundlesJson()}};
  if (*format == Format::Json) {
    out << (changed ? "\n ],\n" : "],\n") << " \"summary\": " << summary.dump() << "}\n";
  } else if (*format == Format::Text) {
    if (changed) out << "\n";
    out << changed << " of " << rechecked << " logged grants would be revoked (" << loosened
        << " approvals would now be allowed); " << redacted << " records with redacted values not re-decided; " << denied
        << " denies not re-decided; " << log.malformed << " malformed lines skipped\n";
    for (const auto& [d, b] : log.bundles)
      out << "logged with " << d << (b.revision.empty() ? "" : " revision " + b.revision) << ": " << b.records << " records\n";
  }
  return changed ? kExitFindings : kExitOk;
}

// ---- pave audit show ------------------------------------------------------------------------

std::string valueText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

int runShow(const AuditArgs& args) {
  auto format = parseFormat(args.format, false);
  if (!format) return kExitUsage;
  std::shared_ptr<const rt::LoadedBundle> bundle;
  if (!args.bundle.empty() && !(bundle = loadBundle(args))) return kExitUsage;
  std::string found;
  LogSummary log;
  std::string quoted = "\"" + args.id + "\"";
  bool ok = readLogs(args.logs, log, [&](Record& r) {
    if (r.id != args.id) return true;
    // Keep the record's text: the line goes away with the next read.
    found.append("{");
    found.append("\"time\":").append(json(std::string(r.time)).dump());
    found.append(",\"source\":").append(json(std::string(r.source)).dump());
    found.append(",\"client\":").append(r.client.empty() ? "null" : json(std::string(r.client)).dump());
    found.append(",\"input\":").append(r.input);
    found.append(",\"decision\":").append(r.decisionJson);
    found.append("}");
    return false;
  }, quoted);
  if (!ok) return kExitUsage;
  if (found.empty()) {
    printError("no decision with id `" + args.id + "` in the log (" + std::to_string(log.records) + " records read)");
    return kExitFindings;
  }
  json rec = json::parse(found);
  const json& input = rec["input"];
  const json& d = rec["decision"];
  // Where each rule is, from the bundle's source map.
  json sources = json::object();
  std::string digest;
  if (bundle) {
    const rt::Bundle& m = bundle->model();
    digest = "sha256:" + std::string(bundle->digestHex());
    StringMap<size_t> byName;
    for (size_t i = 0; i < m.rules.size(); ++i) byName.emplace(std::string(str(m, m.rules[i].name)), i);
    auto place = [&](const std::string& name) {
      auto it = byName.find(name);
      if (it == byName.end()) return;
      const rt::Rule& rule = m.rules[it->second];
      if (rule.line == 0) return;
      sources[name] = {{"file", rule.file == rt::kNone ? json(nullptr) : json(str(m, rule.file))}, {"line", rule.line}};
    };
    for (const char* list : {"rules", "deny_rules"})
      if (d.contains(list) && d[list].is_array())
        for (const json& n : d[list])
          if (n.is_string()) place(n.get<std::string>());
    if (d.contains("exceptions") && d["exceptions"].is_array())
      for (const json& e : d["exceptions"])
        if (e.is_object() && e.value("id", json()).is_string()) place(e["id"].get<std::string>());
  }
  std::string logged = d.contains("bundle") ? d["bundle"].value("digest", "") : "";
  if (*format == Format::Json) {
    json out = {{"id", args.id}, {"record", rec}, {"sources", sources}};
    if (bundle) out["sources_from"] = {{"digest", digest}, {"same_bundle", digest == logged}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  auto where = [&](const std::string& name) -> std::string {
    if (!sources.contains(name)) return "";
    const json& s = sources[name];
    return "  (" + (s["file"].is_string() ? s["file"].get<std::string>() : std::string("?")) + ":" +
           std::to_string(s["line"].get<int>()) + ")";
  };
  std::ostream& out = std::cout;
  out << "decision " << args.id << "\n";
  out << "  when      " << rec["time"].get<std::string>() << " (by " << rec["source"].get<std::string>()
      << (rec["client"].is_string() ? " for client " + rec["client"].get<std::string>() : std::string()) << ")\n";
  if (!input.is_object()) {
    out << "  request   not a JSON object: " << input.dump() << "\n";
  } else if (input.contains("raw")) {
    out << "  request   not JSON: " << valueText(input["raw"]) << "\n";
  } else {
    const json& p = input.value("principal", json::object());
    out << "  who       " << (p.is_object() && p.contains("type") ? valueText(p["type"]) : std::string("?"));
    if (p.is_object())
      for (auto& [k, v] : p.items())
        if (k != "type") out << " " << k << "=" << valueText(v);
    out << "\n  asked for " << valueText(input.value("type", json("?")));
    const json& rq = input.value("request", json::object());
    if (rq.is_object())
      for (auto& [k, v] : rq.items()) out << " " << k << "=" << valueText(v);
    out << "\n  context   " << input.value("context", json::object()).dump() << "\n";
  }
  out << "  decision  " << valueText(d.value("decision", json("?"))) << " (" << valueText(d.value("request_type", json(nullptr)))
      << ")\n";
  std::string klass = d.value("decision", "");
  for (const json& n : d.value("rules", json::array()))
    out << "  " << (klass == "deny" ? "overridden " : "by rule    ") << valueText(n) << where(valueText(n)) << "\n";
  const json& reasons = d.value("reasons", json::array());
  size_t i = 0;
  for (const json& n : d.value("deny_rules", json::array())) {
    out << "  denied by  " << valueText(n) << where(valueText(n));
    if (i < reasons.size()) out << ": " << valueText(reasons[i]);
    out << "\n";
    ++i;
  }
  if (d.value("deny_rules", json::array()).empty() && klass == "deny")
    for (const json& r : reasons) out << "  reason     " << valueText(r) << "\n";
  for (const json& e : d.value("exceptions", json::array()))
    if (e.is_object())
      out << "  exception  " << valueText(e.value("id", json("?"))) << " lifted " << valueText(e.value("lifts", json("?")))
          << ": owner " << valueText(e.value("owner", json(""))) << ", ticket " << valueText(e.value("ticket", json("")))
          << ", until " << valueText(e.value("until", json(""))) << where(valueText(e.value("id", json("")))) << "\n";
  for (const json& a : d.value("approvals", json::array()))
    if (a.is_object())
      out << "  approval   " << valueText(a.value("rule", json("?"))) << " by " << valueText(a.value("groups", json::array()))
          << ", quorum " << valueText(a.value("quorum", json(1))) << "\n";
  const json& grants = d.value("grants", json::object());
  if (grants.is_object() && !grants.empty()) {
    out << "  grants   ";
    for (auto& [k, v] : grants.items()) out << " " << k << "=" << valueText(v);
    out << "\n";
  }
  for (const json& e : d.value("errors", json::array())) out << "  error      " << e.dump() << "\n";
  const json& b = d.value("bundle", json::object());
  out << "  bundle    " << valueText(b.value("name", json(""))) << " revision " << valueText(b.value("revision", json("")))
      << " " << logged << "\n";
  if (bundle && digest != logged)
    out << "  note: file and line come from bundle " << digest << ", not the one that made the decision\n";
  return kExitOk;
}

}  // namespace

void registerAudit(CLI::App& app, int& exitCode) {
  CLI::App* audit = app.add_subcommand("audit", "Read decision logs: exception use, re-evaluation, one decision explained");
  audit->require_subcommand(1);
  auto common = [](CLI::App* cmd, AuditArgs& a, bool needBundle) {
    auto* b = cmd->add_option("--bundle", a.bundle, needBundle ? "The bundle (.pvb)" : "The bundle (.pvb) for file and line of each rule");
    if (needBundle) b->required();
    cmd->add_option("--public-key", a.publicKeys, "Ed25519 public key file (PEM); the bundle must be signed by one of them")
        ->allow_extra_args(false);
    cmd->add_option("--format", a.format, "Output format")->capture_default_str();
  };

  auto ex = std::make_shared<AuditArgs>();
  CLI::App* cmd = audit->add_subcommand("exceptions", "Per exception: uses, principals, time left; never-used ones; share per request type");
  common(cmd, *ex, true);
  cmd->add_option("logs", ex->logs, "Decision logs: files (plain or .gz), directories, or - for stdin")->required();
  cmd->add_option("--now", ex->now, "The time to measure `until` against (default: the current UTC time)");
  cmd->add_option("--expiring", ex->expiring, "Exit 1 when an exception expires within this duration")->capture_default_str();
  cmd->add_option("--max-rate", ex->maxRate, "Exit 1 when a request type's share of decisions lifted by an exception exceeds this (0.05 or 5%)");
  cmd->callback([ex, &exitCode] { exitCode = runExceptions(*ex); });

  auto re = std::make_shared<AuditArgs>();
  cmd = audit->add_subcommand("recheck", "Re-decide logged allows and approvals with a (new) bundle; list the grants to revoke");
  common(cmd, *re, true);
  cmd->add_option("logs", re->logs, "Decision logs: files (plain or .gz), directories, or - for stdin")->required();
  cmd->add_option("--now", re->now, "The time to decide at (default: the current UTC time)");
  cmd->add_option("--at", re->at, "now: decide at --now; logged: at each record's context.time")->capture_default_str();
  cmd->callback([re, &exitCode] { exitCode = runRecheck(*re); });

  auto show = std::make_shared<AuditArgs>();
  cmd = audit->add_subcommand("show", "One logged decision, rendered for a person");
  common(cmd, *show, false);
  cmd->add_option("id", show->id, "The decision id")->required();
  cmd->add_option("logs", show->logs, "Decision logs: files (plain or .gz), directories, or - for stdin")->required();
  cmd->callback([show, &exitCode] { exitCode = runShow(*show); });
}

}  // namespace pave::driver
