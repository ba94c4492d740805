// `pave report controls`: which rules cover which `std.controls` members, which rules
// claim a control but can never match, and which exceptions lift a control's denies.
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "driver/Build.h"
#include "driver/Commands.h"
#include "sema/Program.h"
#include <pave/literals.h>

namespace pave::driver {
namespace {

struct ReportArgs {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string now;
  bool noAnalyze = false;
};

/// A rule that names a control but can never decide: the analyzer's finding.
struct NeverMatches {
  std::string rule;
  std::string code;  // dead-rule or shadowed-rule
};

struct LiftingException {
  std::string id, lifts, owner, until;
  std::optional<std::string> ticket;
};

struct Row {
  std::string control;  // qualified member
  std::string title;    // from the enum's doc comment, may be empty
  std::vector<std::string> rules;  // rules that can match
  std::vector<NeverMatches> neverMatch;
  std::vector<LiftingException> exceptions;
};

std::string collapse(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out;
}

/// The titles a control enum's doc comment gives: the enum's (the text before the first
/// `:`, without a trailing "one member per …") and each member's (a `;`-separated entry
/// that starts with the member's name: `NHI7 long-lived secrets;`).
std::pair<std::string, std::map<std::string, std::string>> controlTitles(const sema::EnumInfo& e) {
  std::string doc = collapse(e.doc);
  std::map<std::string, std::string> members;
  size_t colon = doc.find(':');
  std::string title = colon == std::string::npos ? doc : doc.substr(0, colon);
  if (size_t per = title.find(", one member per"); per != std::string::npos) title.resize(per);
  if (colon == std::string::npos) return {title, members};
  size_t at = colon + 1;
  while (at < doc.size()) {
    size_t semi = doc.find(';', at);
    std::string entry = collapse(doc.substr(at, semi == std::string::npos ? std::string::npos : semi - at));
    while (!entry.empty() && entry.front() == ' ') entry.erase(0, 1);
    size_t space = entry.find(' ');
    if (space != std::string::npos && e.member(entry.substr(0, space))) members[entry.substr(0, space)] = entry.substr(space + 1);
    if (semi == std::string::npos) break;
    at = semi + 1;
  }
  return {title, members};
}

int runControls(const ReportArgs& args) {
  if (args.format != "text" && args.format != "json") {
    printError("unknown format `" + args.format + "` (expected text or json)");
    return kExitUsage;
  }
  auto now = resolveNow(args.now);
  if (!now) return kExitUsage;
  Compilation c;
  if (int status = compileErrorFree(args.paths, c, *now); status != kExitOk) return status;
  const sema::CheckedProgram& p = *c.program;
  // Rules that can never match (or never decide) do not cover anything.
  std::map<std::string, std::string> never;
  if (!args.noAnalyze) {
    if (auto err = analyzeProgram(c, *now, false)) {
      printError(*err);
      return kExitUsage;
    }
    for (const Diagnostic& d : c.diags.all())
      if ((d.kind == DiagKind::DeadRule || d.kind == DiagKind::ShadowedRule) && !d.rule.empty())
        never.emplace(d.rule, std::string(d.code()));
  }
  // Every member of every enum in std.controls, in declaration order.
  std::vector<Row> rows;
  std::vector<std::pair<std::string, std::string>> frameworks;  // enum, title
  std::map<std::string, size_t> index;
  for (const sema::EnumInfo& e : p.enums) {
    if (e.name.rfind("std.controls.", 0) != 0) continue;
    auto [title, members] = controlTitles(e);
    frameworks.push_back({e.name, title});
    for (const std::string& m : e.members) {
      index[e.name + "." + m] = rows.size();
      rows.push_back({e.name + "." + m, members.count(m) ? members[m] : "", {}, {}, {}});
    }
  }
  // Exceptions by the deny they lift.
  std::map<uint32_t, std::vector<const sema::RuleInfo*>> liftedBy;
  for (const sema::RuleInfo& r : p.rules)
    if (r.exception) liftedBy[r.exception->lifts.value].push_back(&r);
  auto describe = [&](const sema::RuleInfo& x) {
    return LiftingException{x.name, p.rule(x.exception->lifts).name, x.exception->owner,
                            rt::formatTimestamp(x.exception->until), x.exception->ticket};
  };
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const sema::RuleInfo& r = p.rules[i];
    for (const std::string& control : r.controls) {
      auto it = index.find(control);
      if (it == index.end()) continue;
      Row& row = rows[it->second];
      if (r.exception) {  // an exception is a control failure, not coverage
        row.exceptions.push_back(describe(r));
        continue;
      }
      if (auto n = never.find(r.name); n != never.end()) row.neverMatch.push_back({r.name, n->second});
      else row.rules.push_back(r.name);
      if (r.effect == ast::Effect::Deny)
        for (const sema::RuleInfo* x : liftedBy[i]) row.exceptions.push_back(describe(*x));
    }
  }
  size_t covered = 0, lifted = 0;
  for (Row& row : rows) {
    std::sort(row.rules.begin(), row.rules.end());
    std::sort(row.neverMatch.begin(), row.neverMatch.end(),
              [](const NeverMatches& a, const NeverMatches& b) { return a.rule < b.rule; });
    std::sort(row.exceptions.begin(), row.exceptions.end(),
              [](const LiftingException& a, const LiftingException& b) { return a.id < b.id; });
    row.exceptions.erase(std::unique(row.exceptions.begin(), row.exceptions.end(),
                                     [](const LiftingException& a, const LiftingException& b) { return a.id == b.id; }),
                         row.exceptions.end());
    covered += !row.rules.empty();
    lifted += !row.exceptions.empty();
  }
  if (args.format == "json") {
    nlohmann::json out;
    out["controls"] = nlohmann::json::array();
    for (const Row& row : rows) {
      nlohmann::json never = nlohmann::json::array(), exceptions = nlohmann::json::array();
      for (const auto& n : row.neverMatch) never.push_back({{"rule", n.rule}, {"code", n.code}});
      for (const auto& x : row.exceptions) {
        nlohmann::json e = {{"id", x.id}, {"lifts", x.lifts}, {"owner", x.owner}, {"until", x.until}};
        if (x.ticket) e["ticket"] = *x.ticket;
        exceptions.push_back(std::move(e));
      }
      out["controls"].push_back({{"control", row.control},
                                 {"title", row.title},
                                 {"rules", row.rules},
                                 {"never_match", never},
                                 {"exceptions", exceptions}});
    }
    out["summary"] = {{"controls", rows.size()}, {"covered", covered}, {"with_exceptions", lifted}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::string framework;
  for (const Row& row : rows) {
    std::string fw = row.control.substr(0, row.control.rfind('.'));
    if (fw != framework) {
      framework = fw;
      std::string title;
      for (const auto& [name, t] : frameworks)
        if (name == fw) title = t;
      std::cout << framework << (title.empty() ? "" : "  " + title) << "\n";
    }
    std::cout << "  " << row.control.substr(row.control.rfind('.') + 1)
              << (row.title.empty() ? "" : "  " + row.title) << "\n";
    std::cout << "    rules: ";
    if (row.rules.empty()) std::cout << "-";
    for (size_t i = 0; i < row.rules.size(); ++i) std::cout << (i ? ", " : "") << row.rules[i];
    std::cout << "\n";
    for (const auto& n : row.neverMatch)
      std::cout << "    never matches: " << n.rule << " (" << n.code << ", not counted)\n";
    for (const auto& x : row.exceptions)
      std::cout << "    exception: " << x.id << " lifts " << x.lifts << " (owner \"" << x.owner << "\", until "
                << x.until << (x.ticket ? ", ticket \"" + *x.ticket + "\"" : "") << ")\n";
  }
  std::cout << covered << " of " << rows.size() << " controls covered";
  if (lifted) std::cout << "; " << lifted << " with exceptions lifting their denies";
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

void registerReport(CLI::App& app, int& exitCode) {
  CLI::App* report = app.add_subcommand("report", "Reports over a policy repository");
  report->require_subcommand(1);
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = report->add_subcommand("controls", "Control coverage matrix from `@controls` annotations");
  cmd->add_option("paths", args->paths, "Files or directories (default: the current directory)");
  cmd->add_option("--format", args->format, "Output format: text or json")->capture_default_str();
  cmd->add_option("--now", args->now, "Check time for the analyzer and expired exceptions (default: the current UTC time)");
  cmd->add_flag("--no-analyze", args->noAnalyze, "Count every annotated rule, without finding those that never match");
  cmd->callback([args, &exitCode] { exitCode = runControls(*args); });
}

}  // namespace pave::driver
