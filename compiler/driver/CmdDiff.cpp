// `pave diff OLD NEW`: semantic change impact between two policy versions (SPEC §9.2).
#include <iostream>

#include "analysis/Diff.h"
#include "diag/Emit.h"
#include "driver/Build.h"
#include "driver/Commands.h"

namespace pave::driver {
namespace {

struct DiffArgs {
  std::string before, after;
  std::string format = "text";
  unsigned timeoutMs = 5000;
};

/// Compiles one version; prints its diagnostics when it has errors.
int compileVersion(const std::string& path, Compilation& c, const char* label) {
  int status = compileErrorFree({path}, c);
  if (status != kExitFindings) return status;
  printError(std::string("the ") + label + " version (" + path + ") has errors; `pave diff` compares error-free versions");
  return kExitUsage;  // exit 1 means "something changes"; a version that does not compile is 2
}

int runDiff(const DiffArgs& args) {
  if (args.format != "text" && args.format != "json") {
    printError("unknown format `" + args.format + "` (expected text or json)");
    return kExitUsage;
  }
  Compilation before, after;
  if (int rc = compileVersion(args.before, before, "old")) return rc;
  if (int rc = compileVersion(args.after, after, "new")) return rc;
  analysis::DiffOptions options;
  options.timeoutMs = args.timeoutMs;
  analysis::DiffResult result;
  std::string error;
  if (!analysis::diffPrograms(*before.program, before.sources, *after.program, after.sources, options, result, error)) {
    printError(error);
    return kExitUsage;
  }
  if (args.format == "json") std::cout << analysis::diffJson(result).dump(2) << "\n";
  else std::cout << analysis::diffText(result);
  return result.changed() ? kExitFindings : kExitOk;
}

}  // namespace

void registerDiff(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<DiffArgs>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Semantic change impact between two policy versions, with witnesses (exit 1 when something changes)");
  cmd->add_option("old", args->before, "The old version (a directory or file)")->required();
  cmd->add_option("new", args->after, "The new version (a directory or file)")->required();
  cmd->add_option("--format", args->format, "Output format: text (Markdown) or json")->capture_default_str();
  cmd->add_option("--timeout-ms", args->timeoutMs, "Solver budget per query")->capture_default_str();
  cmd->callback([args, &exitCode] { exitCode = runDiff(*args); });
}

}  // namespace pave::driver
