// Runs sema over the shared conformance cases: errors/* must report the expected codes on
// the expected lines; decision/* and tests/* must check cleanly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "SemaTestUtil.h"
#include "stdlib/Stdlib.h"
#include <pave/literals.h>
#include "syntax/Parser.h"

namespace pave::testing {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> cases(std::string_view group) {
  std::vector<fs::path> out;
  fs::path dir = fs::path(PAVE_CONFORMANCE_DIR) / group;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "policy.pave") && fs::exists(e.path() / "case.json")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Parses and checks one case like `pave check --no-analyze` does; a syntax error skips sema.
std::unique_ptr<Checked> runCase(const fs::path& dir, int64_t now) {
  auto c = std::make_unique<Checked>();
  FileId id = c->sources.add("policy.pave", readFile(dir / "policy.pave"));
  c->parsed = syntax::parseFile(c->ast, c->sources, id, c->diags, false);
  for (const EmbeddedFile& f : stdlibFiles()) {
    FileId sid = c->sources.add(std::string(f.path), std::string(f.text));
    syntax::parseFile(c->ast, c->sources, sid, c->diags, true);
  }
  if (!c->parsed) return c;
  sema::CheckOptions options;
  options.now = now;
  c->program = sema::check(c->ast, c->sources, c->diags, options);
  return c;
}

TEST(Conformance, FrontEndCases) {
  size_t ran = 0;
  for (const char* group : {"errors", "decision", "tests", "analysis"}) {
    for (const fs::path& dir : cases(group)) {
      nlohmann::json spec = nlohmann::json::parse(readFile(dir / "case.json"));
      int64_t now = kNow;
      if (spec.contains("now")) {
        ASSERT_TRUE(rt::parseTimestamp(spec["now"].get<std::string>(), now));
      }
      auto c = runCase(dir, now);
      std::vector<std::string> want, got;
      if (spec.contains("check"))
        for (const auto& d : spec["check"]["diagnostics"]) {
          std::string code = d["code"];
          auto kind = diagKindFromCode(code);
          if (kind && static_cast<int>(*kind) <= static_cast<int>(DiagKind::UnknownAnnotation))
            want.push_back(code + ":" + std::to_string(d.value("line", 0)));
        }
      for (const Diagnostic& d : c->diags.all())
        got.push_back(std::string(d.code()) + ":" + std::to_string(c->sources.lineCol(d.range.file, d.range.begin).line));
      EXPECT_EQ(got, want) << dir << "\n" << c->text();
      ++ran;
    }
  }
  if (ran == 0) GTEST_SKIP() << "no conformance cases at " << PAVE_CONFORMANCE_DIR;
}

}  // namespace
}  // namespace pave::testing
