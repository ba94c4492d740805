// The shared middle of `pave build` and `pave test`: compile sources to bundle bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/Compile.h"

namespace pave::driver {

struct BuildOptions {
  CompileOptions compile;
  std::string name;      // default: pave.toml's [bundle] name, else the directory name
  std::string revision;
  std::string signKeyPath;
  bool strip = false;
  bool analyze = false;  // run the analyzer (SPEC §6.2) on an error-free program
  bool verbose = false;  // print analyzer statistics on stderr
};

enum class BuildStatus { Ok, Diagnostics, IoError };

/// Compiles and writes bundle bytes. On `Diagnostics`, the front end reported errors
/// (they are in `c.diags`, finalized); on `IoError`, `error` says what went wrong.
BuildStatus buildBundle(const BuildOptions& options, Compilation& c, std::vector<uint8_t>& bytes,
                        std::string& error);

/// Runs the analyzer over an error-free compilation, adding its findings to `c.diags`.
/// Returns an error message when the program cannot be analyzed.
std::optional<std::string> analyzeProgram(Compilation& c, int64_t now, bool verbose);

/// Prints the diagnostics of a failed compilation as text on stderr.
void reportDiagnostics(const Compilation& c);

/// Compiles `paths` (no analyzer) for commands that need an error-free program. Returns
/// kExitOk; or prints the I/O error and returns kExitUsage; or prints the diagnostics and
/// returns kExitFindings. `now` (default: the clock) decides which exceptions have expired.
int compileErrorFree(const std::vector<std::string>& paths, Compilation& c, std::optional<int64_t> now = std::nullopt);

}  // namespace pave::driver
