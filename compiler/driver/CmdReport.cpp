// `pave report controls`: which rules cover which `std.controls` members.
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "driver/Build.h"
#include "driver/Commands.h"
#include "sema/Program.h"

namespace pave::driver {
namespace {

struct ReportArgs {
  std::vector<std::string> paths;
  std::string format = "text";
};

int runControls(const ReportArgs& args) {
  if (args.format != "text" && args.format != "json") {
    printError("unknown format `" + args.format + "` (expected text or json)");
    return kExitUsage;
  }
  Compilation c;
  if (int status = compileErrorFree(args.paths, c); status != kExitOk) return status;
  const sema::CheckedProgram& p = *c.program;
  // Every member of every enum in std.controls, in declaration order, with its rules.
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;
  std::map<std::string, size_t> index;
  for (const sema::EnumInfo& e : p.enums) {
    if (e.name.rfind("std.controls.", 0) != 0) continue;
    for (const std::string& m : e.members) {
      index[e.name + "." + m] = rows.size();
      rows.push_back({e.name + "." + m, {}});
    }
  }
  for (const sema::RuleInfo& r : p.rules)
    for (const std::string& control : r.controls)
      if (auto it = index.find(control); it != index.end()) rows[it->second].second.push_back(r.name);

  size_t covered = 0;
  for (auto& row : rows) {
    std::sort(row.second.begin(), row.second.end());
    covered += !row.second.empty();
  }
  if (args.format == "json") {
    nlohmann::json out;
    out["controls"] = nlohmann::json::array();
    for (const auto& [control, rules] : rows) out["controls"].push_back({{"control", control}, {"rules", rules}});
    out["summary"] = {{"controls", rows.size()}, {"covered", covered}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::string framework;
  for (const auto& [control, rules] : rows) {
    std::string fw = control.substr(0, control.rfind('.'));
    if (fw != framework) {
      framework = fw;
      std::cout << framework << "\n";
    }
    std::cout << "  " << control.substr(control.rfind('.') + 1) << "  ";
    if (rules.empty()) std::cout << "-";
    for (size_t i = 0; i < rules.size(); ++i) std::cout << (i ? ", " : "") << rules[i];
    std::cout << "\n";
  }
  std::cout << covered << " of " << rows.size() << " controls covered\n";
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
  cmd->callback([args, &exitCode] { exitCode = runControls(*args); });
}

}  // namespace pave::driver
