// `pave build`: compile a policy repository into a (signed) bundle.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <pave/bundle.h>

#include "analysis/Analyzer.h"
#include "analysis/Cache.h"
#include "codegen/Codegen.h"
#include "diag/Emit.h"
#include "driver/Build.h"
#include "driver/Commands.h"
#include "pipeline/Files.h"

namespace pave::driver {

void reportDiagnostics(const Compilation& c) {
  EmitOptions emit;
  emit.toolVersion = PAVE_VERSION;
  emitDiagnostics(std::cerr, c.diags.all(), c.sources, DiagFormat::Text, emit);
}

int compileErrorFree(const std::vector<std::string>& paths, Compilation& c, std::optional<int64_t> now) {
  CompileOptions options;
  options.paths = paths;
  options.now = now ? *now : currentTime();
  if (auto err = compile(options, c)) {
    printError(*err);
    return kExitUsage;
  }
  finalizeDiagnostics(c);
  if (c.diags.hasErrors() || !c.program) {
    reportDiagnostics(c);
    return kExitFindings;
  }
  return kExitOk;
}

static std::string defaultName(const Compilation& c) {
  if (!c.config.bundleName.empty()) return c.config.bundleName;
  std::filesystem::path root = std::filesystem::weakly_canonical(c.root);
  std::string name = root.filename().string();
  return name.empty() ? "bundle" : name;
}

std::optional<std::string> analyzeProgram(Compilation& c, int64_t now, bool verbose) {
  if (!c.program || c.diags.hasErrors()) return std::nullopt;
  analysis::AnalysisOptions options;
  options.now = now;
  options.expiringWindow = c.config.expiringWindow;
  if (!std::getenv("PAVE_NO_CACHE")) options.cacheDirectory = analysis::QueryCache::defaultDirectory();
  options.repository = c.root;
  analysis::AnalysisStats stats;
  std::string error;
  if (!analysis::analyze(*c.program, c.sources, c.diags, options, &stats, error)) return error;
  if (verbose) std::cerr << "pave: " << analysis::formatStats(stats) << "\n";
  return std::nullopt;
}

BuildStatus buildBundle(const BuildOptions& options, Compilation& c, std::vector<uint8_t>& bytes, std::string& error) {
  if (auto err = compile(options.compile, c)) {
    error = *err;
    return BuildStatus::IoError;
  }
  if (options.analyze)
    if (auto err = analyzeProgram(c, options.compile.now, options.verbose)) {
      error = *err;
      return BuildStatus::IoError;
    }
  finalizeDiagnostics(c);
  if (c.diags.hasErrors() || !c.program) return BuildStatus::Diagnostics;

  codegen::CodegenOptions cg;
  cg.name = options.name.empty() ? defaultName(c) : options.name;
  cg.revision = options.revision;
  cg.sourcesDigest = codegen::digestSources(c.sources, c.root);
  cg.sourceMap = !options.strip;
  cg.root = c.root;
  rt::Bundle bundle;
  if (!codegen::generate(*c.program, c.sources, cg, bundle, error)) return BuildStatus::IoError;

  rt::WriteOptions write;
  write.strip = options.strip;
  if (!options.signKeyPath.empty())
    if (auto err = readFile(options.signKeyPath, write.signKeyPem)) {
      error = *err;
      return BuildStatus::IoError;
    }
  if (!rt::writeBundle(bundle, write, bytes, &error)) return BuildStatus::IoError;
  return BuildStatus::Ok;
}

namespace {

struct BuildArgs {
  BuildOptions options;
  std::vector<std::string> paths;
  std::string output;
  std::string now;
  bool noAnalyze = false;
};

int runBuild(BuildArgs& args) {
  args.options.analyze = !args.noAnalyze;
  args.options.compile.paths = args.paths;
  auto now = resolveNow(args.now);
  if (!now) return kExitUsage;
  args.options.compile.now = *now;
  Compilation c;
  std::vector<uint8_t> bytes;
  std::string error;
  switch (buildBundle(args.options, c, bytes, error)) {
    case BuildStatus::IoError: printError(error); return kExitUsage;
    case BuildStatus::Diagnostics: reportDiagnostics(c); return kExitFindings;
    case BuildStatus::Ok: break;
  }
  if (!c.diags.all().empty()) reportDiagnostics(c);  // warnings
  if (auto err = writeFile(args.output, std::string(bytes.begin(), bytes.end()))) {
    printError(*err);
    return kExitUsage;
  }
  std::cerr << "pave: wrote " << args.output << " (" << bytes.size() << " bytes, " << c.program->rules.size()
            << " rules)\n";
  return kExitOk;
}

}  // namespace

void registerBuild(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<BuildArgs>();
  CLI::App* cmd = app.add_subcommand("build", "Compile policy sources into a bundle (fails on any error)");
  cmd->add_option("paths", args->paths, "Files or directories (default: the current directory)");
  cmd->add_option("-o,--output", args->output, "The bundle file to write (.pvb)")->required();
  cmd->add_option("--name", args->options.name, "Bundle name (default: pave.toml [bundle] name, else the directory)");
  cmd->add_option("--revision", args->options.revision, "Revision recorded in the bundle (e.g. a commit id)");
  cmd->add_flag("--strip", args->options.strip, "Leave out the source map (no `failed` conjuncts in explanations)");
  cmd->add_option("--sign-key", args->options.signKeyPath, "Ed25519 private key (PEM) to sign the bundle with");
  cmd->add_option("--now", args->now, "Check time for expired exceptions (default: the current UTC time)");
  cmd->add_flag("--no-analyze", args->noAnalyze, "Skip the analyzer");
  cmd->add_flag("--verbose", args->options.verbose, "Print analyzer statistics on stderr");
  cmd->callback([args, &exitCode] { exitCode = runBuild(*args); });
}

}  // namespace pave::driver
