// `pave test`: run the policy's `test` blocks through the VM (SPEC §9.1).
#include <iostream>
#include <nlohmann/json.hpp>
#include <pave/runtime.h>
#include <set>

#include "driver/Build.h"
#include "driver/Commands.h"
#include "sema/InputJson.h"
#include "sema/Program.h"

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

struct TestResult {
  std::string name;
  bool passed;
  std::string message;
};

struct TestArgs {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string now;
  bool coverage = false;
};

std::string xmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void printResults(const TestArgs& args, const std::vector<TestResult>& results, const std::vector<std::string>& uncovered) {
  size_t passed = 0, failed = 0;
  for (const auto& r : results) (r.passed ? passed : failed)++;
  if (args.format == "json") {
    json out;
    out["tests"] = json::array();
    for (const auto& r : results)
      out["tests"].push_back({{"name", r.name}, {"status", r.passed ? "pass" : "fail"}, {"message", r.message}});
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
        std::cout << ">\n      <failure message=\"" << xmlEscape(r.message) << "\"/>\n    </testcase>\n";
      }
    }
    std::cout << "  </testsuite>\n</testsuites>\n";
  } else {
    for (const auto& r : results)
      std::cout << (r.passed ? "pass " : "FAIL ") << r.name << (r.message.empty() ? "" : ": " + r.message) << "\n";
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
  BuildOptions options;
  options.compile.paths = args.paths;
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
  for (const sema::TestInfo& t : p.tests) {
    json input = testInput(p, t);
    json d = json::parse(decider.decideJson(input.dump(), /*explain=*/true), nullptr, false);
    if (d.is_discarded()) {
      results.push_back({t.name, false, "internal error: the decision is not JSON"});
      continue;
    }
    for (const auto& tr : d["trace"])
      if (tr.value("matched", json(false)) == json(true)) matched.insert(tr.value("rule", ""));
    std::vector<std::string> failures = checkExpectations(p, t, d);
    std::string message;
    for (const auto& f : failures) message += (message.empty() ? "" : "; ") + f;
    results.push_back({t.name, failures.empty(), message});
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
  cmd->add_flag("--coverage", args->coverage, "List rules and exceptions no test matched");
  cmd->add_option("--now", args->now, "Check time for expired exceptions (default: the current UTC time)");
  cmd->callback([args, &exitCode] { exitCode = runTests(*args); });
}

}  // namespace pave::driver
