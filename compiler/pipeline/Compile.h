// Loading a policy repository and running the front end over it: the shared first step
// of `check`, `build`, `test`, `report` and the language server.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ast/AST.h"
#include "diag/Diagnostic.h"
#include "pipeline/Config.h"
#include "source/Source.h"

namespace pave {

namespace sema {
struct CheckedProgram;
}

/// One compilation unit: every `.pave` file under the given paths plus the std library.
struct Compilation {
  SourceManager sources;
  ast::Ast ast;
  DiagnosticEngine diags;
  Config config;
  std::string root;  // the repository root (where pave.toml is looked up)
  std::shared_ptr<sema::CheckedProgram> program;  // set when the front end found no error
  bool parsedCleanly = false;

  Compilation();
  ~Compilation();
};

struct CompileOptions {
  std::vector<std::string> paths;  // files or directories; empty means "."
  int64_t now = 0;                 // seconds since the epoch, for expired exceptions
};

/// Reads files, parses, resolves and type-checks. I/O problems (a missing path, an
/// unreadable file, a broken pave.toml) are returned as an error message: the caller
/// exits 2. User problems are diagnostics in `Compilation::diags`.
std::optional<std::string> compile(const CompileOptions& options, Compilation& out);

/// Collects `.pave` files under `paths`, sorted by path. Returns an error message for a
/// missing path.
std::optional<std::string> collectSourceFiles(const std::vector<std::string>& paths, std::vector<std::string>& files);

/// Drops `off` diagnostics (pave.toml severities apply as they are reported) and sorts
/// the rest by file, position and code.
void finalizeDiagnostics(Compilation& c);

/// Parses `--now` (a timestamp literal); nullopt when malformed.
std::optional<int64_t> parseNow(const std::string& text);
int64_t currentTime();

}  // namespace pave
