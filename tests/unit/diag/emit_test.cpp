// Tests of the diagnostic emitters: exact text, §7.5 JSON, SARIF 2.1.0 shape, GitHub escaping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "diag/Emit.h"

namespace pave {
namespace {

using nlohmann::json;

// Line 1 has a non-ASCII character, line 2 starts with a tab and has one more.
constexpr std::string_view kText = "namespace café\n\tallow x when é == 1\n}\n";

class EmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file = sources.add("p/a.pave", std::string(kText));
    other = sources.add("q/b.pave", "deny y on *\n");
  }

  SourceRange find(std::string_view needle, size_t occurrence = 0) const {
    size_t pos = kText.find(needle);
    for (size_t i = 0; i < occurrence; ++i) pos = kText.find(needle, pos + 1);
    EXPECT_NE(pos, std::string_view::npos) << needle;
    return {file, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + needle.size())};
  }

  /// warning on line 2, after a tab and with a non-ASCII character in the range.
  Diagnostic deadRule() const {
    DiagnosticEngine e;
    e.report(DiagKind::DeadRule, find("é == 1"), "the rule `cloud.x` can never match").rule("cloud.x");
    return e.all()[0];
  }

  /// error spanning lines 1–2 with notes, related items, a fix and a witness.
  Diagnostic grantConflict() const {
    DiagnosticEngine e;
    SourceRange r = find("café").to(find("allow"));
    SourceRange one = find("1\n");
    one.end = one.begin + 1;  // just the `1`
    e.report(DiagKind::GrantConflict, r, "rules assign different values to `max_ttl`")
        .rule("cloud.x")
        .note("both rules assign `max_ttl`")
        .related("cloud.y", find("x when"))
        .related("", SourceRange{other, 0, 4}, "the other rule")
        .fix("change the value", one, "2")
        .witness(R"({"type": "CloudRole",  "principal": {"env": "prod"}})");
    return e.all()[0];
  }

  /// info without a location.
  Diagnostic inconclusive() const {
    DiagnosticEngine e;
    e.report(DiagKind::AnalysisInconclusive, SourceRange{}, "the solver gave up");
    return e.all()[0];
  }

  std::vector<Diagnostic> all() const { return {deadRule(), grantConflict(), inconclusive()}; }

  std::string emit(const std::vector<Diagnostic>& diags, DiagFormat format, EmitOptions options = {}) const {
    std::ostringstream out;
    emitDiagnostics(out, diags, sources, format, options);
    return out.str();
  }

  SourceManager sources;
  FileId file, other;
};

TEST(DiagFormatTest, Parse) {
  EXPECT_EQ(parseDiagFormat("text"), DiagFormat::Text);
  EXPECT_EQ(parseDiagFormat("json"), DiagFormat::Json);
  EXPECT_EQ(parseDiagFormat("sarif"), DiagFormat::Sarif);
  EXPECT_EQ(parseDiagFormat("github"), DiagFormat::Github);
  EXPECT_EQ(parseDiagFormat("xml"), std::nullopt);
  EXPECT_EQ(parseDiagFormat("Text"), std::nullopt);
}

TEST_F(EmitTest, Summarize) {
  std::vector<Diagnostic> diags = all();
  diags.push_back(deadRule());
  diags.back().severity = Severity::Off;
  DiagSummary s = summarize(diags);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.warnings, 1u);
  EXPECT_EQ(s.infos, 1u);
  EXPECT_EQ(summaryLine({2, 1, 0}), "2 errors, 1 warning");
  EXPECT_EQ(summaryLine({0, 0, 3}), "3 infos");
  EXPECT_EQ(summaryLine({}), "no problems found");
}

TEST_F(EmitTest, TextExact) {
  std::string expected =
      "p/a.pave:2:15: warning[dead-rule]: the rule `cloud.x` can never match\n"
      "\tallow x when é == 1\n"
      "\t             ^~~~~~\n"
      "p/a.pave:1:11: error[grant-conflict]: rules assign different values to `max_ttl`\n"
      "namespace café\n"
      "          ^~~~\n"
      "  note: both rules assign `max_ttl`\n"
      "p/a.pave:2:8: note: related rule `cloud.y`\n"
      "q/b.pave:1:1: note: the other rule\n"
      "  fix: change the value: replace with `2`\n"
      "  witness: {\"type\":\"CloudRole\",\"principal\":{\"env\":\"prod\"}}\n"
      "pave: info[analysis-inconclusive]: the solver gave up\n"
      "1 error, 1 warning, 1 info\n";
  EXPECT_EQ(emit(all(), DiagFormat::Text), expected);
}

TEST_F(EmitTest, TextEmptyAndPointRanges) {
  EXPECT_EQ(emit({}, DiagFormat::Text), "no problems found\n");

  // An empty range at the end of a line still gets one caret, after the last character.
  Diagnostic d = deadRule();
  d.range = SourceRange{file, static_cast<uint32_t>(kText.find('\n')), static_cast<uint32_t>(kText.find('\n'))};
  EXPECT_EQ(emit({d}, DiagFormat::Text),
            "p/a.pave:1:15: warning[dead-rule]: the rule `cloud.x` can never match\n"
            "namespace café\n"
            "              ^\n"
            "1 warning\n");
}

TEST_F(EmitTest, TextColor) {
  EmitOptions options;
  options.color = true;
  std::string out = emit({deadRule()}, DiagFormat::Text, options);
  EXPECT_NE(out.find("\x1b[1;35mwarning[dead-rule]:\x1b[0m"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[1;32m^~~~~~\x1b[0m"), std::string::npos) << out;
  EXPECT_EQ(emit({deadRule()}, DiagFormat::Text).find('\x1b'), std::string::npos);
}

TEST_F(EmitTest, JsonFields) {
  std::string text = emit(all(), DiagFormat::Json);
  EXPECT_NE(text.find("\n  \"diagnostics\": ["), std::string::npos) << "2-space indent";
  json j = json::parse(text);
  ASSERT_TRUE(j.contains("diagnostics"));
  ASSERT_EQ(j["diagnostics"].size(), 3u);
  EXPECT_EQ(j["summary"], (json{{"errors", 1}, {"warnings", 1}, {"infos", 1}}));

  const json& d0 = j["diagnostics"][0];
  EXPECT_EQ(d0, (json{{"code", "dead-rule"},
                      {"severity", "warning"},
                      {"message", "the rule `cloud.x` can never match"},
                      {"file", "p/a.pave"},
                      {"line", 2},
                      {"column", 15},
                      {"end_line", 2},
                      {"end_column", 21},
                      {"rule", "cloud.x"}}));

  const json& d1 = j["diagnostics"][1];
  EXPECT_EQ(d1["code"], "grant-conflict");
  EXPECT_EQ(d1["severity"], "error");
  EXPECT_EQ(d1["line"], 1);
  EXPECT_EQ(d1["column"], 11);
  EXPECT_EQ(d1["end_line"], 2);
  EXPECT_EQ(d1["end_column"], 7);
  EXPECT_EQ(d1["rule"], "cloud.x");
  EXPECT_EQ(d1["related"], (json::array({json{{"rule", "cloud.y"}, {"file", "p/a.pave"}, {"line", 2}, {"column", 8}},
                                         json{{"file", "q/b.pave"}, {"line", 1}, {"column", 1},
                                              {"message", "the other rule"}}})));
  EXPECT_EQ(d1["notes"], (json::array({"both rules assign `max_ttl`"})));
  EXPECT_EQ(d1["fixes"], (json::array({json{{"title", "change the value"},
                                            {"file", "p/a.pave"},
                                            {"line", 2},
                                            {"column", 20},
                                            {"end_line", 2},
                                            {"end_column", 21},
                                            {"replacement", "2"}}})));
  EXPECT_EQ(d1["witness"], (json{{"type", "CloudRole"}, {"principal", {{"env", "prod"}}}}));

  const json& d2 = j["diagnostics"][2];
  EXPECT_EQ(d2, (json{{"code", "analysis-inconclusive"}, {"severity", "info"}, {"message", "the solver gave up"}}));
}

TEST_F(EmitTest, JsonKeyOrderAndEmpty) {
  std::string text = emit({deadRule()}, DiagFormat::Json);
  EXPECT_LT(text.find("\"code\""), text.find("\"severity\""));
  EXPECT_LT(text.find("\"severity\""), text.find("\"message\""));
  EXPECT_LT(text.find("\"end_column\""), text.find("\"rule\""));
  EXPECT_LT(text.find("\"diagnostics\""), text.find("\"summary\""));

  // Non-ASCII text is written as UTF-8, not \u escapes.
  Diagnostic d = deadRule();
  d.message = "unknown name `café`";
  EXPECT_NE(emit({d}, DiagFormat::Json).find("`café`"), std::string::npos);

  json empty = json::parse(emit({}, DiagFormat::Json));
  EXPECT_EQ(empty, (json{{"diagnostics", json::array()}, {"summary", {{"errors", 0}, {"warnings", 0}, {"infos", 0}}}}));
}

TEST_F(EmitTest, SarifStructure) {
  EmitOptions options;
  options.toolVersion = "0.1.0";
  json j = json::parse(emit(all(), DiagFormat::Sarif, options));
  EXPECT_EQ(j["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
  EXPECT_EQ(j["version"], "2.1.0");
  ASSERT_EQ(j["runs"].size(), 1u);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["columnKind"], "unicodeCodePoints");
  const json& driver = run["tool"]["driver"];
  EXPECT_EQ(driver["name"], "pave");
  EXPECT_EQ(driver["version"], "0.1.0");
  ASSERT_EQ(driver["rules"].size(), allDiagKinds().size());
  for (size_t i = 0; i < allDiagKinds().size(); ++i) {
    const DiagInfo& info = allDiagKinds()[i];
    EXPECT_EQ(driver["rules"][i]["id"], std::string(info.code));
    EXPECT_EQ(driver["rules"][i]["shortDescription"]["text"], std::string(info.summary));
  }
  auto ruleLevel = [&](DiagKind k) { return driver["rules"][static_cast<size_t>(k)]["defaultConfiguration"]["level"]; };
  EXPECT_EQ(ruleLevel(DiagKind::Syntax), "error");
  EXPECT_EQ(ruleLevel(DiagKind::DeadRule), "warning");
  EXPECT_EQ(ruleLevel(DiagKind::Conflict), "note");

  const json& results = run["results"];
  ASSERT_EQ(results.size(), 3u);
  for (const json& r : results) EXPECT_EQ(driver["rules"][r["ruleIndex"].get<size_t>()]["id"], r["ruleId"]);

  const json& r0 = results[0];
  EXPECT_EQ(r0["ruleId"], "dead-rule");
  EXPECT_EQ(r0["level"], "warning");
  EXPECT_EQ(r0["message"]["text"], "the rule `cloud.x` can never match");
  const json& loc = r0["locations"][0]["physicalLocation"];
  EXPECT_EQ(loc["artifactLocation"]["uri"], "p/a.pave");
  EXPECT_EQ(loc["region"], (json{{"startLine", 2}, {"startColumn", 15}, {"endLine", 2}, {"endColumn", 21}}));
  EXPECT_EQ(r0["properties"]["rule"], "cloud.x");
  EXPECT_FALSE(r0.contains("relatedLocations"));
  EXPECT_FALSE(r0.contains("fixes"));

  const json& r1 = results[1];
  EXPECT_EQ(r1["level"], "error");
  ASSERT_EQ(r1["relatedLocations"].size(), 2u);
  EXPECT_EQ(r1["relatedLocations"][0]["message"]["text"], "related rule `cloud.y`");
  EXPECT_EQ(r1["relatedLocations"][0]["physicalLocation"]["region"]["startColumn"], 8);
  EXPECT_EQ(r1["relatedLocations"][1]["physicalLocation"]["artifactLocation"]["uri"], "q/b.pave");
  EXPECT_EQ(r1["relatedLocations"][1]["message"]["text"], "the other rule");
  ASSERT_EQ(r1["fixes"].size(), 1u);
  const json& fix = r1["fixes"][0];
  EXPECT_EQ(fix["description"]["text"], "change the value");
  const json& change = fix["artifactChanges"][0];
  EXPECT_EQ(change["artifactLocation"]["uri"], "p/a.pave");
  EXPECT_EQ(change["replacements"][0]["deletedRegion"],
            (json{{"startLine", 2}, {"startColumn", 20}, {"endLine", 2}, {"endColumn", 21}}));
  EXPECT_EQ(change["replacements"][0]["insertedContent"]["text"], "2");
  EXPECT_EQ(r1["properties"]["witness"], (json{{"type", "CloudRole"}, {"principal", {{"env", "prod"}}}}));
  EXPECT_EQ(r1["properties"]["notes"], (json::array({"both rules assign `max_ttl`"})));

  const json& r2 = results[2];
  EXPECT_EQ(r2["level"], "note");
  EXPECT_FALSE(r2.contains("locations"));
}

TEST_F(EmitTest, SarifUriUsesForwardSlashes) {
  SourceManager sm;
  FileId f = sm.add("policies\\my dir\\a.pave", "allow x on *\n");
  Diagnostic d = deadRule();
  d.range = {f, 6, 7};
  std::ostringstream out;
  emitDiagnostics(out, {d}, sm, DiagFormat::Sarif, {});
  json j = json::parse(out.str());
  EXPECT_EQ(j["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "policies/my%20dir/a.pave");
  EXPECT_FALSE(j["runs"][0]["tool"]["driver"].contains("version"));
}

TEST_F(EmitTest, GithubCommands) {
  std::string out = emit(all(), DiagFormat::Github);
  std::istringstream lines(out);
  std::string l0, l1, l2, rest;
  std::getline(lines, l0);
  std::getline(lines, l1);
  std::getline(lines, l2);
  EXPECT_FALSE(std::getline(lines, rest)) << "one line per diagnostic";
  EXPECT_EQ(l0,
            "::warning file=p/a.pave,line=2,col=15,endLine=2,endColumn=21,title=pave[dead-rule]::"
            "the rule `cloud.x` can never match");
  // Multi-line ranges carry no columns (GitHub accepts them only on a single line); notes,
  // related items, fixes and the witness follow the message on escaped new lines.
  EXPECT_EQ(l1,
            "::error file=p/a.pave,line=1,endLine=2,title=pave[grant-conflict]::"
            "rules assign different values to `max_ttl`%0Anote: both rules assign `max_ttl`"
            "%0Ap/a.pave:2:8: note: related rule `cloud.y`%0Aq/b.pave:1:1: note: the other rule"
            "%0Afix: change the value: replace with `2`"
            "%0Awitness: {\"type\":\"CloudRole\",\"principal\":{\"env\":\"prod\"}}");
  EXPECT_EQ(l2, "::notice title=pave[analysis-inconclusive]::the solver gave up");
}

TEST_F(EmitTest, GithubEscaping) {
  SourceManager sm;
  FileId f = sm.add("a,b:c%d.pave", "allow x on *\n");
  Diagnostic d = deadRule();
  d.range = {f, 6, 7};
  d.message = "100% dead:\r\nreally, yes";
  std::ostringstream out;
  emitDiagnostics(out, {d}, sm, DiagFormat::Github, {});
  EXPECT_EQ(out.str(),
            "::warning file=a%2Cb%3Ac%25d.pave,line=1,col=7,endLine=1,endColumn=8,title=pave[dead-rule]::"
            "100%25 dead:%0D%0Areally, yes\n");
}

// Issue 29 item 5: the text format shows one finding per allow/approve rule for its
// conflicts, listing the deny rules; JSON keeps one finding per pair; the summary counts pairs.
TEST_F(EmitTest, TextGroupsConflictsOfOneRule) {
  DiagnosticEngine e;
  e.report(DiagKind::Conflict, find("allow"), "allow rule `cloud.x` and deny rule `cloud.d1` can match the same input; the deny wins")
      .rule("cloud.x")
      .related("cloud.d1", SourceRange{other, 0, 4})
      .witness(R"({"type": "A"})");
  e.report(DiagKind::Conflict, find("allow"), "allow rule `cloud.x` and deny rule `cloud.d2` can match the same input; the deny wins")
      .rule("cloud.x")
      .related("cloud.d2", SourceRange{other, 5, 6})
      .witness(R"({"type": "B"})");
  std::string text = emit(e.all(), DiagFormat::Text);
  EXPECT_NE(text.find("allow rule `cloud.x` and 2 deny rules can match the same input; the deny wins (a witness for "
                      "`cloud.d1`)"), std::string::npos) << text;
  EXPECT_NE(text.find("note: allow rule `cloud.x` and deny rule `cloud.d2` can match"), std::string::npos) << text;
  EXPECT_EQ(text.find("witness: {\"type\": \"B\"}"), std::string::npos) << text;  // the first pair's witness only
  EXPECT_NE(text.find("2 infos"), std::string::npos) << text;
  json j = json::parse(emit(e.all(), DiagFormat::Json));
  EXPECT_EQ(j["diagnostics"].size(), 2u);
}

}  // namespace
}  // namespace pave
