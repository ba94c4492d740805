// `pave fmt`: rewrites policy sources in the canonical layout (SPEC §9.2).
#include <iostream>
#include <iterator>

#include "diag/Emit.h"
#include "driver/Commands.h"
#include "driver/Compile.h"
#include "driver/Files.h"
#include "format/Format.h"

namespace pave::driver {

namespace {

struct FmtArgs {
  std::vector<std::string> paths;
  bool check = false;
  bool stdinMode = false;
};

struct FmtTally {
  bool ioError = false;
  bool syntaxError = false;
  bool changed = false;
};

void reportSyntax(const DiagnosticEngine& diags, const SourceManager& sources) {
  emitDiagnostics(std::cerr, diags.all(), sources, DiagFormat::Text, EmitOptions{});
}

/// Formats one text; returns the result, printing syntax errors and internal failures.
format::FormatResult formatOne(const std::string& path, std::string text, FmtTally& tally) {
  SourceManager sources;
  FileId id = sources.add(path, std::move(text));
  DiagnosticEngine diags;
  format::FormatResult result = format::formatFile(sources, id, diags);
  if (!result.ok) {
    tally.syntaxError = true;
    if (!result.internalError.empty()) printError(result.internalError);
    reportSyntax(diags, sources);
    if (result.internalError.empty()) std::cerr << path << ": not formatted: it has a syntax error\n";
  }
  return result;
}

void formatPath(const std::string& path, bool check, FmtTally& tally) {
  std::string text;
  if (auto err = readFile(path, text)) {
    printError(*err);
    tally.ioError = true;
    return;
  }
  format::FormatResult result = formatOne(path, text, tally);
  if (!result.ok || result.text == text) return;
  tally.changed = true;
  if (check) {
    std::cout << path << "\n";
    return;
  }
  if (auto err = writeFile(path, result.text)) {
    printError(*err);
    tally.ioError = true;
  }
}

int runStdin(bool check, FmtTally& tally) {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) {
    printError("cannot read standard input");
    return kExitUsage;
  }
  format::FormatResult result = formatOne("<stdin>", text, tally);
  if (!result.ok) return kExitFindings;
  if (check) return result.text == text ? kExitOk : kExitFindings;
  std::cout << result.text;
  return kExitOk;
}

int runFmt(const FmtArgs& args) {
  FmtTally tally;
  bool dash = args.paths.size() == 1 && args.paths[0] == "-";
  if (args.stdinMode || dash) {
    if (args.stdinMode && !args.paths.empty() && !dash) {
      printError("--stdin takes no paths");
      return kExitUsage;
    }
    return runStdin(args.check, tally);
  }
  std::vector<std::string> files;
  if (auto err = collectSourceFiles(args.paths, files)) {
    printError(*err);
    return kExitUsage;
  }
  for (const std::string& f : files) formatPath(f, args.check, tally);
  if (tally.ioError) return kExitUsage;
  if (tally.syntaxError || (args.check && tally.changed)) return kExitFindings;
  return kExitOk;
}

}  // namespace

void registerFmt(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<FmtArgs>();
  CLI::App* cmd = app.add_subcommand("fmt", "Rewrite policy sources in the canonical layout");
  cmd->add_option("paths", args->paths, "Files or directories (default: the current directory; `-`: standard input)");
  cmd->add_flag("--check", args->check, "Change nothing; list the files that would change and exit 1 if any");
  cmd->add_flag("--stdin", args->stdinMode, "Format standard input to standard output");
  cmd->callback([args, &exitCode] { exitCode = runFmt(*args); });
}

}  // namespace pave::driver
