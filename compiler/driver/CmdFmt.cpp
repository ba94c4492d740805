// `pave fmt`: rewrites policy sources in the canonical layout (SPEC §9.2).
#include <atomic>
#include <iostream>
#include <sstream>
#include <iterator>

#include "diag/Emit.h"
#include "driver/Commands.h"
#include "pipeline/Compile.h"
#include "pipeline/Files.h"
#include "format/Format.h"
#include "support/BigStackThread.h"

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

/// What formatting one file printed and produced; files are formatted on two threads and
/// reported in order.
struct FileOutcome {
  std::string errors;  // for standard error
  bool ioError = false;
  bool syntaxError = false;
  bool changed = false;
  std::string text;    // the formatted text, when changed
};

/// Formats one text; syntax errors and internal failures go to `out.errors`.
format::FormatResult formatOne(const std::string& path, std::string text, FileOutcome& out) {
  SourceManager sources;
  FileId id = sources.add(path, std::move(text));
  DiagnosticEngine diags;
  format::FormatResult result = format::formatFile(sources, id, diags);
  if (!result.ok) {
    out.syntaxError = true;
    std::ostringstream err;
    if (!result.internalError.empty()) err << "pave: error: " << result.internalError << "\n";
    emitDiagnostics(err, diags.all(), sources, DiagFormat::Text, EmitOptions{});
    if (result.internalError.empty()) err << path << ": not formatted: it has a syntax error\n";
    out.errors = err.str();
  }
  return result;
}

FileOutcome formatPath(const std::string& path) {
  FileOutcome out;
  std::string text;
  if (auto err = readFile(path, text)) {
    out.errors = "pave: error: " + *err + "\n";
    out.ioError = true;
    return out;
  }
  format::FormatResult result = formatOne(path, text, out);
  if (!result.ok || result.text == text) return out;
  out.changed = true;
  out.text = std::move(result.text);
  return out;
}

int runStdin(bool check) {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) {
    printError("cannot read standard input");
    return kExitUsage;
  }
  FileOutcome outcome;
  format::FormatResult result = formatOne("<stdin>", text, outcome);
  std::cerr << outcome.errors;
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
    return runStdin(args.check);
  }
  std::vector<std::string> files;
  if (auto err = collectSourceFiles(args.paths, files)) {
    printError(*err);
    return kExitUsage;
  }
  // Two threads take files in turn; the parser inside runs one file at a time, so one
  // thread parses while the other lays out, prints and re-lexes to check.
  std::vector<FileOutcome> outcomes(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) outcomes[i] = formatPath(files[i]);
  };
  {
    BigStackThread helper(work);
    work();
  }
  for (size_t i = 0; i < files.size(); ++i) {
    FileOutcome& o = outcomes[i];
    std::cerr << o.errors;
    tally.ioError |= o.ioError;
    tally.syntaxError |= o.syntaxError;
    if (!o.changed) continue;
    tally.changed = true;
    if (args.check) {
      std::cout << files[i] << "\n";
      continue;
    }
    if (auto err = writeFile(files[i], o.text)) {
      printError(*err);
      tally.ioError = true;
    }
  }
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
