#include "pipeline/Compile.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "data/Tables.h"
#include "pipeline/Files.h"
#include "stdlib/Stdlib.h"
#include <pave/literals.h>
#include "sema/Sema.h"
#include "syntax/Parser.h"

namespace fs = std::filesystem;

namespace pave {

Compilation::Compilation() = default;
Compilation::~Compilation() = default;

std::optional<std::string> collectSourceFiles(const std::vector<std::string>& paths, std::vector<std::string>& files) {
  std::vector<std::string> roots = paths.empty() ? std::vector<std::string>{"."} : paths;
  for (const std::string& p : roots) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return "no such file or directory: " + p;
    if (fs::is_directory(st)) {
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) return "cannot read directory " + p + ": " + ec.message();
      for (; it != end; it.increment(ec)) {
        if (ec) return "cannot read directory " + p + ": " + ec.message();
        const fs::path& f = it->path();
        std::string name = f.filename().string();
        if (it->is_directory(ec) && !name.empty() && name[0] == '.') {
          it.disable_recursion_pending();  // .git, .cache, ...
          continue;
        }
        if (f.extension() == ".pave" && it->is_regular_file(ec)) files.push_back(f.lexically_normal().string());
      }
    } else {
      files.push_back(fs::path(p).lexically_normal().string());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return std::nullopt;
}

/// The repository root: the nearest folder at or above the first path that holds a
/// `pave.toml` (`pave check policies` in a repository reads the root's pave.toml), not
/// looking past a folder that holds `.git`; without one, the first path's folder.
static std::string repositoryRoot(const std::vector<std::string>& paths) {
  std::error_code ec;
  std::string start = ".";
  if (!paths.empty() && fs::is_directory(paths.front(), ec)) {
    start = paths.front();
  } else if (!paths.empty()) {
    fs::path parent = fs::path(paths.front()).parent_path();
    if (!parent.empty()) start = parent.string();
  }
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (ec) return start;
  if (!dir.has_filename() && dir.has_relative_path()) dir = dir.parent_path();  // `a/.` is `a/`
  fs::path up = start;
  for (int depth = 0; depth < 64; ++depth) {
    if (fs::exists(dir / "pave.toml", ec)) return depth == 0 ? start : up.lexically_normal().string();
    if (fs::exists(dir / ".git", ec) || !dir.has_relative_path()) break;
    dir = dir.parent_path();
    up /= "..";
  }
  return start;
}

std::optional<std::string> compile(const CompileOptions& options, Compilation& c) {
  c.root = repositoryRoot(options.paths);
  if (auto err = loadConfig(c.root, c.config)) return err;
  for (const auto& [code, severity] : c.config.severities) c.diags.setSeverity(*diagKindFromCode(code), severity);
  std::vector<std::string> files;
  if (auto err = collectSourceFiles(options.paths, files)) return err;

  std::vector<syntax::FileToParse> toParse;
  for (const EmbeddedFile& f : stdlibFiles())
    toParse.push_back({c.sources.add(std::string(f.path), std::string(f.text)), /*fromStdlib=*/true});
  for (const std::string& path : files) {
    std::string text;
    if (auto err = readFile(path, text)) return err;
    toParse.push_back({c.sources.add(path, std::move(text)), false});
  }
  bool clean = syntax::parseFiles(c.ast, c.sources, toParse, c.diags);
  c.parsedCleanly = clean;
  if (!clean) return std::nullopt;  // sema over a broken tree would only add noise
  sema::CheckOptions checkOptions;
  checkOptions.now = options.now;
  if (auto program = sema::check(c.ast, c.sources, c.diags, checkOptions)) {
    c.program = std::make_shared<sema::CheckedProgram>(std::move(*program));
    // Reference data (SPEC §2.3) is read once the policies check: a row that does not fit
    // its record is an error, and nothing later runs without the data.
    if (!c.program->tables.empty() && !data::loadTables(*c.program, c.root, c.sources, c.diags)) c.program.reset();
  }
  return std::nullopt;
}

void finalizeDiagnostics(Compilation& c) {
  auto& all = c.diags.all();
  all.erase(std::remove_if(all.begin(), all.end(), [](const Diagnostic& d) { return d.severity == Severity::Off; }),
            all.end());
  std::stable_sort(all.begin(), all.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    if (a.range.file.value != b.range.file.value) {
      if (!a.range.file.valid() || !b.range.file.valid()) return a.range.file.valid();
      return c.sources.path(a.range.file) < c.sources.path(b.range.file);
    }
    if (a.range.begin != b.range.begin) return a.range.begin < b.range.begin;
    return a.code() < b.code();
  });
}

std::optional<int64_t> parseNow(const std::string& text) {
  int64_t now = 0;
  if (!rt::parseTimestamp(text, now)) return std::nullopt;
  return now;
}

int64_t currentTime() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace pave
