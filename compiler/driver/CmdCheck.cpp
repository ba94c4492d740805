// `pave check`: parse, resolve, type-check and analyze a policy repository.
#include <iostream>

#include "diag/Emit.h"
#include "driver/Commands.h"
#include "driver/Build.h"
#include "pipeline/Compile.h"

namespace pave::driver {

void printError(const std::string& message) { std::cerr << "pave: error: " << message << "\n"; }

std::optional<int64_t> resolveNow(const std::string& flag) {
  if (flag.empty()) return currentTime();
  auto now = parseNow(flag);
  if (!now) printError("--now: `" + flag + "` is not a timestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)");
  return now;
}

namespace {

struct CheckArgs {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string now;
  bool noAnalyze = false;
  bool verbose = false;
};

int runCheck(const CheckArgs& args) {
  auto format = parseDiagFormat(args.format);
  if (!format) {
    printError("unknown format `" + args.format + "` (expected text, json, sarif or github)");
    return kExitUsage;
  }
  CompileOptions options;
  options.paths = args.paths;
  auto now = resolveNow(args.now);
  if (!now) return kExitUsage;
  options.now = *now;
  Compilation c;
  if (auto err = compile(options, c)) {
    printError(*err);
    return kExitUsage;
  }
  if (!args.noAnalyze)
    if (auto err = analyzeProgram(c, options.now, args.verbose)) {
      printError(*err);
      return kExitUsage;
    }
  finalizeDiagnostics(c);
  EmitOptions emit;
  emit.toolVersion = PAVE_VERSION;
  emitDiagnostics(std::cout, c.diags.all(), c.sources, *format, emit);
  return c.diags.hasErrors() ? kExitFindings : kExitOk;
}

}  // namespace

void registerCheck(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand("check", "Parse, resolve, type-check and analyze policy sources");
  cmd->add_option("paths", args->paths, "Files or directories (default: the current directory)");
  cmd->add_option("--format", args->format, "Output format: text, json, sarif or github")->capture_default_str();
  cmd->add_option("--now", args->now, "Check time for expired exceptions (default: the current UTC time)");
  cmd->add_flag("--no-analyze", args->noAnalyze, "Run the front end only, without the analyzer");
  cmd->add_flag("--verbose", args->verbose, "Print analyzer statistics (queries, cache hits, times) on stderr");
  cmd->callback([args, &exitCode] { exitCode = runCheck(*args); });
}

}  // namespace pave::driver
