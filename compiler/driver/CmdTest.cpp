// `pave test`: run the policy's `test` blocks through the VM (SPEC §9.1).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pave/runtime.h>
#include <regex>
#include <map>
#include <set>

#include "driver/Build.h"
#include "driver/Commands.h"
#include "sema/InputJson.h"
#include "sema/Program.h"
#include "support/Escape.h"

namespace pave::driver {
namespace {

using nlohmann::json;
using sema::CheckedProgram;

json testInput(const CheckedProgram& p, const sema::TestInfo& t) {
  json in = json::object();
  if (t.request) in["type"] = p.requests[t.request.value].name;
  json principal = sema::fieldsToJson(p, t.principalFields);
  if (t.principal) principal["type"] = p.principals[t.principal.value].name;
  in["principal"] = principal;
  in["request"] = sema::fieldsToJson(p, t.requestFields);
  in["context"] = sema::fieldsToJson(p, t.contextFields);
  return in;
}

std::string outcomeOf(const json& d) {
  std::string s = d.value("decision", "");
  return s;
}

bool contains(const json& list, const std::string& name) {
  if (!list.is_array()) return false;
  for (const auto& e : list)
    if ((e.is_string() && e == name) || (e.is_object() && e.value("id", "") == name)) return true;
  return false;
}

/// Checks one test's expectations against its decision; returns the failures.
std::vector<std::string> checkExpectations(const CheckedProgram& p, const sema::TestInfo& t, const json& d) {
  std::vector<std::string> failures;
  for (const sema::Expectation& e : t.expects) {
    switch (e.kind) {
      case ast::ExpectKind::Decision: {
        std::string want(sema::outcomeName(e.decision));
        if (outcomeOf(d) != want) {
          failures.push_back("expected " + want + ", got " + outcomeOf(d));
          break;
        }
        const char* list = e.decision == sema::Outcome::Deny ? "deny_rules" : "rules";
        for (sema::RuleId r : e.rules)
          if (!contains(d[list], p.rule(r).name))
            failures.push_back("expected `" + p.rule(r).name + "` among " + list + ", got " + d[list].dump());
        break;
      }
      case ast::ExpectKind::Exception:
        for (sema::RuleId r : e.rules)
          if (!contains(d["exceptions"], p.rule(r).name))
            failures.push_back("expected exception `" + p.rule(r).name + "` to lift a deny, got " +
                               d["exceptions"].dump());
        break;
      case ast::ExpectKind::Grant: {
        json want = e.value ? sema::valueToJson(p, *e.value) : json();
        const json& grants = d["grants"];
        if (!grants.contains(e.grant)) {
          failures.push_back("expected grant `" + e.grant + "` == " + want.dump() + ", but the decision (" +
                             outcomeOf(d) + ") has no such grant");
        } else if (grants[e.grant] != want) {
          failures.push_back("expected grant `" + e.grant + "` == " + want.dump() + ", got " +
                             grants[e.grant].dump());
        }
        break;
      }
      case ast::ExpectKind::Error: {
        bool found = false;
        for (const auto& err : d["errors"])
          if (err.value("code", "") == e.errorCode) found = true;
        if (!found) failures.push_back("expected error `" + e.errorCode + "`, got " + d["errors"].dump());
        break;
      }
    }
  }
  return failures;
}

/// What a failing test's decision says beyond its outcome: `denyRules`, `reasons` and
/// `errors`, those that are not empty, each as `key: JSON`.
std::vector<std::string> decisionDetails(const json& d) {
  std::vector<std::string> out;
  for (const char* key : {"deny_rules", "reasons", "errors"})
    if (d.contains(key) && d[key].is_array() && !d[key].empty()) out.push_back(std::string(key) + ": " + d[key].dump());
  return out;
}

struct TestResult {
  std::string name;
  bool passed;
  std::string message;
  std::vector<std::string> details;  // of a failure: decisionDetails
};

struct TestArgs {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string now;
  std::string run;  // a regular expression the test names must contain a match of
  bool coverage = false;
};

namespace fs = std::filesystem;

/// The nearest directory holding a `pave.toml`, from `path` (a file's directory, or the
/// directory itself) upwards; empty when there is none.
fs::path nearestRepository(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) return {};
  if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
  for (; !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_regular_file(dir / "pave.toml", ec)) return dir;
    if (dir == dir.root_path()) break;
  }
  return {};
}

/// Whether `file` is one of `paths` or lies under one of them (canonical paths).
bool within(const fs::path& file, const std::vector<fs::path>& paths) {
  for (const fs::path& p : paths) {
    auto [end, _] = std::mismatch(p.begin(), p.end(), file.begin(), file.end());
    if (end == p.end()) return true;
  }
  return false;
}

std::string xmlEscape(const std::string& s) {
  return escapeChars(s, {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}});
}

void printResults(const TestArgs& args, const std::vector<TestResult>& results, const std::vector<std::string>& uncovered) {
  size_t passed = 0, failed = 0;
  for (const auto& r : results) (r.passed ? passed : failed)++;
  if (args.format == "json") {
    json out;
    out["tests"] = json::array();
    for (const auto& r : results) {
      json t = {{"name", r.name}, {"status", r.passed ? "pass" : "fail"}, {"message", r.message}};
      if (!r.details.empty()) t["details"] = r.details;
      out["tests"].push_back(std::move(t));
    }
    out["summary"] = {{"passed", passed}, {"failed", failed}};
    out["uncovered"] = uncovered;
    std::cout << out.dump(2) << "\n";
  } else if (args.format == "junit") {
    std::cout << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              << "<testsuites tests=\"" << results.size() << "\" failures=\"" << failed << "\">\n"
              << "  <testsuite name=\"pave\" tests=\"" << results.size() << "\" failures=\"" << failed << "\">\n";
    for (const auto& r : results) {
      std::cout << "    <testcase classname=\"pave\" name=\"" << xmlEscape(r.name) << "\"";
      if (r.passed) {
        std::cout << "/>\n";
      } else {
        std::string message = r.message;
        for (const auto& d : r.details) message += "; " + d;
        std::cout << ">\n      <failure message=\"" << xmlEscape(message) << "\"/>\n    </testcase>\n";
      }
    }
    std::cout << "  </testsuite>\n</testsuites>\n";
  } else {
    for (const auto& r : results) {
      std::cout << (r.passed ? "pass " : "FAIL ") << r.name << (r.message.empty() ? "" : ": " + r.message) << "\n";
      for (const auto& d : r.details) std::cout << "  " << d << "\n";
    }
    if (args.coverage) {
      if (uncovered.empty()) std::cout << "coverage: every rule and exception matched in some test\n";
      for (const auto& u : uncovered) std::cout << "uncovered: " << u << "\n";
    }
    std::cout << passed << " passed, " << failed << " failed\n";
  }
}

int runTests(const TestArgs& args) {
  if (args.format != "text" && args.format != "json" && args.format != "junit") {
    printError("unknown format `" + args.format + "` (expected text, json or junit)");
    return kExitUsage;
  }
  std::optional<std::regex> select;
  if (!args.run.empty()) {
    try {
      select.emplace(args.run, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      printError("--run: `" + args.run + "` is not a regular expression: " + e.what());
      return kExitUsage;
    }
  }
  BuildOptions options;
  options.compile.paths = args.paths;
  // `pave test tests/one_test.pave`: compile the whole repository the path lies in (the
  // nearest pave.toml upwards), run the tests of the given paths.
  std::vector<fs::path> only;
  if (!args.paths.empty()) {
    fs::path root = nearestRepository(args.paths.front());
    bool allInRoot = !root.empty();
    std::vector<fs::path> given;
    std::error_code ec;
    for (const std::string& path : args.paths) {
      if (!fs::exists(path, ec)) {
        printError("no such file or directory: " + path);
        return kExitUsage;
      }
      given.push_back(fs::weakly_canonical(fs::absolute(path, ec), ec));
      if (nearestRepository(path) != root) allInRoot = false;
    }
    if (allInRoot && !(given.size() == 1 && given.front() == root)) {
      // Paths in diagnostics read like the ones given: relative to the current directory
      // when those were.
      std::string shown = fs::relative(root, fs::current_path(ec), ec).lexically_normal().string();
      options.compile.paths = {fs::path(args.paths.front()).is_absolute() || ec || shown.empty() ? root.string() : shown};
      only = std::move(given);
    }
  }
  auto now = resolveNow(args.now);
  if (!now) return kExitUsage;
  options.compile.now = *now;
  Compilation c;
  std::vector<uint8_t> bytes;
  std::string error;
  switch (buildBundle(options, c, bytes, error)) {
    case BuildStatus::IoError: printError(error); return kExitUsage;
    case BuildStatus::Diagnostics: reportDiagnostics(c); return kExitFindings;
    case BuildStatus::Ok: break;
  }
  auto bundle = rt::LoadedBundle::load(bytes, {}, &error);
  if (!bundle) {
    printError("internal error: the built bundle does not load: " + error);
    return 3;
  }
  const CheckedProgram& p = *c.program;
  rt::Decider decider(bundle);
  std::vector<TestResult> results;
  std::set<std::string> matched;
  std::map<uint32_t, bool> fileSelected;
  auto selected = [&](const sema::TestInfo& t) {
    if (select && !std::regex_search(t.name, *select)) return false;
    if (only.empty()) return true;
    FileId file = c.ast.files[c.ast.decl(t.decl).file].file;
    auto it = fileSelected.find(file.value);
    if (it == fileSelected.end()) {
      std::error_code ec;
      fs::path path = fs::weakly_canonical(fs::absolute(std::string(c.sources.path(file)), ec), ec);
      it = fileSelected.emplace(file.value, !ec && within(path, only)).first;
    }
    return it->second;
  };
  for (const sema::TestInfo& t : p.tests) {
    if (!selected(t)) continue;
    json input = testInput(p, t);
    json d = json::parse(decider.decideJson(input.dump(), /*explain=*/true), nullptr, false);
    if (d.is_discarded()) {
      results.push_back({t.name, false, "internal error: the decision is not JSON", {}});
      continue;
    }
    for (const auto& tr : d["trace"])
      if (tr.value("matched", json(false)) == json(true)) matched.insert(tr.value("rule", ""));
    std::vector<std::string> failures = checkExpectations(p, t, d);
    std::string message;
    for (const auto& f : failures) message += (message.empty() ? "" : "; ") + f;
    results.push_back({t.name, failures.empty(), message, failures.empty() ? std::vector<std::string>{} : decisionDetails(d)});
  }
  std::vector<std::string> uncovered;
  for (const sema::RuleInfo& r : p.rules)
    if (!matched.count(r.name)) uncovered.push_back(r.name);
  std::sort(uncovered.begin(), uncovered.end());
  printResults(args, results, uncovered);
  for (const auto& r : results)
    if (!r.passed) return kExitFindings;
  return kExitOk;
}

}  // namespace

void registerTest(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<TestArgs>();
  CLI::App* cmd = app.add_subcommand("test", "Run the policy's test blocks through the VM");
  cmd->add_option("paths", args->paths, "Files or directories (default: the current directory)");
  cmd->add_option("--format", args->format, "Output format: text, json or junit")->capture_default_str();
  cmd->add_option("--run", args->run, "Run only the tests whose qualified name matches this regular expression");
  cmd->add_flag("--coverage", args->coverage, "List rules and exceptions no test matched");
  cmd->add_option("--now", args->now, "Check time for expired exceptions (default: the current UTC time)");
  cmd->callback([args, &exitCode] { exitCode = runTests(*args); });
}

}  // namespace pave::driver
