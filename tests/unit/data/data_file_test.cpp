// The reader of table data files (SPEC §2.3): rows of a JSON object file and of a JSON
// Lines file, the line and path of each row, and the line, path and message of every error.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/DataFile.h"

namespace pave::data {
namespace {

using nlohmann::json;

struct Read {
  bool ok = false;
  std::vector<Row> rows;
  DataError err;
};

Read read(std::string_view bytes, Format format = Format::JsonObject) {
  Read r;
  r.ok = readRows(bytes, format, [&](Row&& row) { r.rows.push_back(std::move(row)); return true; }, r.err);
  return r;
}

Read readLines(std::string_view bytes) { return read(bytes, Format::JsonLines); }

// Asserts that reading fails with exactly this line, path and message.
void expectError(const Read& r, uint32_t line, std::string_view path, std::string_view message) {
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.err.line, line);
  EXPECT_EQ(r.err.path, path);
  EXPECT_EQ(r.err.message, message);
}

TEST(DataFormat, ChosenByExtension) {
  EXPECT_EQ(formatFor("data/accounts.jsonl"), Format::JsonLines);
  EXPECT_EQ(formatFor("accounts.ndjson"), Format::JsonLines);
  EXPECT_EQ(formatFor("data/accounts.json"), Format::JsonObject);
  EXPECT_EQ(formatFor("accounts.jsonl.bak"), Format::JsonObject);
  EXPECT_EQ(formatFor("accounts"), Format::JsonObject);
  EXPECT_EQ(formatFor("jsonl"), Format::JsonObject);
}

TEST(DataPath, Steps) {
  EXPECT_EQ(memberStep("owner"), ".owner");
  EXPECT_EQ(memberStep("_a1"), "._a1");
  EXPECT_EQ(memberStep("1a"), "[\"1a\"]");
  EXPECT_EQ(memberStep("cost-center"), "[\"cost-center\"]");
  EXPECT_EQ(memberStep(""), "[\"\"]");
  EXPECT_EQ(rowStep("owner"), "[\"owner\"]");
  EXPECT_EQ(rowStep("a\"b\\c\n\x01"), "[\"a\\\"b\\\\c\\n\\u0001\"]");
}

// ---- object files ----

TEST(DataObject, RowsInFileOrderWithLinesAndPaths) {
  Read r = read(
      "{\n"
      "  \"123\": {\"owner\": \"team-17\", \"env\": \"prod\",\n"
      "          \"admins\": [\"a@x.io\", \"b@x.io\"], \"frozen\": false},\n"
      "\n"
      "  \"001\":\n"
      "    {\n"
      "      \"owner\": \"team-2\", \"n\": -5, \"f\": 1.5, \"u\": 18446744073709551615,\n"
      "      \"nested\": {\"x\": [null, {\"y\": true}]}\n"
      "    },\n"
      "  \"a\\\"b\": {}\n"
      "}\n");
  ASSERT_TRUE(r.ok) << r.err.message;
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].key, "123");  // file order, not sorted
  EXPECT_EQ(r.rows[0].line, 2u);
  EXPECT_EQ(r.rows[0].path, "$[\"123\"]");
  EXPECT_EQ(r.rows[0].value, json::parse(R"({"owner":"team-17","env":"prod","admins":["a@x.io","b@x.io"],"frozen":false})"));
  EXPECT_EQ(r.rows[1].key, "001");
  EXPECT_EQ(r.rows[1].line, 6u);  // the line of the row's `{`
  EXPECT_EQ(r.rows[1].value["u"], json(18446744073709551615ull));
  EXPECT_EQ(r.rows[1].value["nested"], json::parse(R"({"x":[null,{"y":true}]})"));
  EXPECT_EQ(r.rows[2].key, "a\"b");
  EXPECT_EQ(r.rows[2].line, 10u);
  EXPECT_EQ(r.rows[2].path, "$[\"a\\\"b\"]");
  EXPECT_EQ(r.rows[2].value, json::object());
}

TEST(DataObject, OneLineAndEmptyAndBomAndCrlf) {
  Read one = read(R"({"a":{"x":1},"b":{"x":2}})");
  ASSERT_TRUE(one.ok);
  ASSERT_EQ(one.rows.size(), 2u);
  EXPECT_EQ(one.rows[0].line, 1u);
  EXPECT_EQ(one.rows[1].line, 1u);

  Read empty = read(" {\n}\n");
  EXPECT_TRUE(empty.ok);
  EXPECT_TRUE(empty.rows.empty());

  Read crlf = read("\xEF\xBB\xBF{\r\n\"a\": {},\r\n\"b\": {}\r\n}\r\n");
  ASSERT_TRUE(crlf.ok) << crlf.err.message;
  ASSERT_EQ(crlf.rows.size(), 2u);
  EXPECT_EQ(crlf.rows[1].line, 3u);
}

TEST(DataObject, TopLevelNotAnObject) {
  expectError(read("[{\"a\": 1}]"), 1, "$", "the top level must be a JSON object, not an array");
  expectError(read("\n\n\"accounts\"\n"), 3, "$", "the top level must be a JSON object, not a string");
  expectError(read("42"), 1, "$", "the top level must be a JSON object, not a number");
  expectError(read("null"), 1, "$", "the top level must be a JSON object, not null");
  expectError(read(""), 1, "$", "the file is empty; expected a JSON object");
  expectError(read(" \n\t\n"), 1, "$", "the file is empty; expected a JSON object");
}

TEST(DataObject, RowNotAnObject) {
  expectError(read("{\n  \"a\": {},\n  \"b\": 5\n}"), 3, "$[\"b\"]", "a row must be a JSON object, not a number");
  expectError(read("{\n  \"a\":\n  [\"x\"]\n}"), 3, "$[\"a\"]", "a row must be a JSON object, not an array");
  expectError(read("{\"a\": \"team\"}"), 1, "$[\"a\"]", "a row must be a JSON object, not a string");
  expectError(read("{\"a\": true}"), 1, "$[\"a\"]", "a row must be a JSON object, not a boolean");
}

TEST(DataObject, DuplicateRowKey) {
  Read r = read("{\n  \"a\": {},\n  \"b\": {},\n  \"a\": {}\n}");
  expectError(r, 4, "$[\"a\"]", "duplicate row key \"a\" (first at line 2)");
  EXPECT_EQ(r.rows.size(), 2u);  // rows before the problem were handed over
}

TEST(DataObject, DuplicateMember) {
  expectError(read("{\n \"a\": {\n  \"owner\": \"x\",\n  \"owner\": \"y\"\n }\n}"), 4, "$[\"a\"].owner",
              "duplicate member \"owner\"");
  expectError(read("{\"a\": {\"list\": [{}, {\"x-y\": 1,\n\"x-y\": 2}]}}"), 2, "$[\"a\"].list[1][\"x-y\"]",
              "duplicate member \"x-y\"");
  expectError(read("{\"a\": {\"m\": {\"k\": {}, \"k\": {}}}}"), 1, "$[\"a\"].m.k", "duplicate member \"k\"");
}

TEST(DataObject, InvalidUtf8) {
  expectError(read("{\n  \"a\": {\n    \"owner\": \"te\xFFm\"\n  }\n}"), 3, "$[\"a\"].owner", "invalid UTF-8");
  // in a member name: the member is not known yet, so the path is its object's
  expectError(read("{\"a\": {\"ok\": 1,\n \"o\xC3\x28\": 1}}"), 2, "$[\"a\"]", "invalid UTF-8");
  // in a row key
  expectError(read("{\n\"\xE2\x82\": {}}"), 2, "$", "invalid UTF-8");
  // an overlong encoding and a surrogate encoded in UTF-8 are invalid too
  expectError(read("{\"a\": {\"x\": \"\xC0\xAF\"}}"), 1, "$[\"a\"].x", "invalid UTF-8");
  expectError(read("{\"a\": {\"x\": \"\xED\xA0\x80\"}}"), 1, "$[\"a\"].x", "invalid UTF-8");
  // valid multi-byte text is kept as is
  Read ok = read("{\"\xC3\xA9t\xC3\xA9\": {\"x\": \"\xF0\x9F\x98\x80\"}}");
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.rows[0].key, "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(ok.rows[0].value["x"], "\xF0\x9F\x98\x80");
}

const char* kDoc =
    "{\n"
    "  \"a\": {\"owner\": \"x\", \"n\": 12, \"admins\": [\"p\", \"q\"], \"frozen\": false},\n"
    "  \"b\": {\"owner\": \"y\"}\n"
    "}\n";

TEST(DataObject, TruncatedAtPoints) {
  std::string doc = kDoc;
  auto cutAfter = [&](std::string_view text) {
    size_t at = doc.find(text);
    EXPECT_NE(at, std::string::npos) << text;
    return read(std::string_view(doc).substr(0, at + text.size()));
  };
  expectError(cutAfter("{\n"), 1, "$", "unexpected end of file");
  expectError(cutAfter("\"a\""), 2, "$[\"a\"]", "unexpected end of file");
  expectError(cutAfter("\"a\": "), 2, "$[\"a\"]", "unexpected end of file");
  expectError(cutAfter("{\"ow"), 2, "$[\"a\"]", "unexpected end of file");
  expectError(cutAfter("\"owner\": \"x"), 2, "$[\"a\"].owner", "unexpected end of file");
  expectError(cutAfter("\"n\": 1"), 2, "$[\"a\"]", "unexpected end of file");
  expectError(cutAfter("[\"p\", "), 2, "$[\"a\"].admins", "unexpected end of file");
  expectError(cutAfter("\"frozen\": fal"), 2, "$[\"a\"].frozen", "unexpected end of file");
  expectError(cutAfter("false},\n"), 2, "$", "unexpected end of file");
  expectError(cutAfter("\"y\"}\n"), 3, "$", "unexpected end of file");
}

// Every proper prefix of a valid file that is not the file minus trailing blanks fails as
// truncated, on the line of its last non-blank byte.
TEST(DataObject, TruncatedAtEveryByte) {
  std::string doc = kDoc;
  size_t complete = doc.find_last_of('}') + 1;
  for (size_t n = 1; n < complete; ++n) {
    std::string_view prefix = std::string_view(doc).substr(0, n);
    size_t last = prefix.find_last_not_of(" \n");
    uint32_t line = 1 + static_cast<uint32_t>(std::count(prefix.begin(), prefix.begin() + last, '\n'));
    Read r = read(prefix);
    EXPECT_FALSE(r.ok) << n;
    EXPECT_EQ(r.err.message, "unexpected end of file") << n;
    EXPECT_EQ(r.err.line, line) << n;
  }
  EXPECT_TRUE(read(std::string_view(doc).substr(0, complete)).ok);
}

TEST(DataObject, TrailingContent) {
  expectError(read("{\"a\": {}}\n\nx\n"), 3, "$", "unexpected content after the top-level object");
  expectError(read("{}{}"), 1, "$", "unexpected content after the top-level object");
  expectError(read("{\"a\": {}}\n}"), 2, "$", "unexpected content after the top-level object");
  expectError(read("{\"a\": {}}\n\"\xFF\""), 2, "$", "invalid UTF-8");
  EXPECT_TRUE(read("{\"a\": {}}\n \n\t\r\n").ok);
}

TEST(DataObject, MalformedJson) {
  expectError(read("{\n  \"a\": {\"owner\": tru}\n}"), 2, "$[\"a\"].owner", "malformed JSON: invalid literal");
  expectError(read("{\n  \"a\" {}\n}"), 2, "$[\"a\"]", "malformed JSON: unexpected '{'; expected ':'");
  expectError(read("{\"a\": {\"x\": 1,}}"), 1, "$[\"a\"]", "malformed JSON: unexpected '}'; expected string literal");
  expectError(read("{\"a\": {\"x\": [1 2]}}"), 1, "$[\"a\"].x", "malformed JSON: unexpected number literal; expected ']'");
  expectError(read("{\"a\": {\"x\": \"line\nbreak\"}}"), 1, "$[\"a\"].x",
              "malformed JSON: invalid string: control character U+000A (LF) must be escaped to \\u000A or \\n");
  expectError(read("{\"a\": {\"x\": -}}"), 1, "$[\"a\"].x", "malformed JSON: invalid number; expected digit after '-'");
  expectError(read("{\"a\": {\"x\": \"\\ud800\"}}"), 1, "$[\"a\"].x",
              "malformed JSON: invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
  expectError(read("{\"a\": {/* no comments */}}"), 1, "$[\"a\"]", "malformed JSON: invalid literal");
  expectError(read("{\"a\": {\"x\": 1e999}}"), 1, "$[\"a\"].x", "number out of range");
  expectError(read("\xEF\xBB{}"), 1, "$", "malformed JSON: invalid BOM; must be 0xEF 0xBB 0xBF if given");
}

TEST(DataObject, NestingLimit) {
  auto nested = [](int depth) {
    std::string s = "{\"a\": ";
    for (int i = 1; i < depth; ++i) s += "[";
    for (int i = 1; i < depth; ++i) s += "]";
    return s + "}";
  };
  // the top-level object and the row's arrays (the row here is an array: that error comes first
  // when within the limit)
  expectError(read(nested(3)), 1, "$[\"a\"]", "a row must be a JSON object, not an array");
  std::string deep = "{\"a\": ";
  for (int i = 1; i < kMaxDepth; ++i) deep += "{\"b\": ";
  std::string ok = deep + "1";
  for (int i = 1; i < kMaxDepth; ++i) ok += "}";
  ok += "}";
  EXPECT_TRUE(read(ok).ok);  // exactly kMaxDepth levels
  Read r = read(deep + "{}");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.err.message, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  EXPECT_EQ(r.err.path.substr(0, 11), "$[\"a\"].b.b.");
  // a million brackets: no crash, a clear error
  Read huge = read("{\"a\": {\"b\": " + std::string(1000000, '['));
  EXPECT_FALSE(huge.ok);
  EXPECT_EQ(huge.err.message, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
}

TEST(DataObject, CallerStops) {
  int seen = 0;
  DataError err;
  err.message = "stale";
  bool ok = readRows("{\"a\": {}, \"b\": {}, \"c\": {}}", Format::JsonObject,
                     [&](Row&& row) { ++seen; return row.key != "b"; }, err);
  EXPECT_FALSE(ok);
  EXPECT_EQ(seen, 2);
  EXPECT_TRUE(err.message.empty());
  EXPECT_EQ(err.line, 0u);
}

// ---- JSON Lines ----

TEST(DataLines, RowsWithLinesAndBlankLines) {
  Read r = readLines(
      "{\"key\": \"123\", \"owner\": \"team-17\", \"admins\": [\"a@x.io\"]}\n"
      "\n"
      "   \t\r\n"
      "{\"owner\": \"team-2\", \"key\": \"001\"}\r\n"
      "{\"key\": \"\"}");  // no final newline
  ASSERT_TRUE(r.ok) << r.err.message;
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].key, "123");
  EXPECT_EQ(r.rows[0].line, 1u);
  EXPECT_EQ(r.rows[0].path, "$");
  EXPECT_EQ(r.rows[0].value, json::parse(R"({"owner":"team-17","admins":["a@x.io"]})"));  // no "key"
  EXPECT_EQ(r.rows[1].key, "001");
  EXPECT_EQ(r.rows[1].line, 4u);
  EXPECT_EQ(r.rows[1].value, json::parse(R"({"owner":"team-2"})"));
  EXPECT_EQ(r.rows[2].key, "");
  EXPECT_EQ(r.rows[2].line, 5u);
  EXPECT_EQ(r.rows[2].value, json::object());

  Read bom = readLines("\xEF\xBB\xBF{\"key\": \"a\"}\n");
  ASSERT_TRUE(bom.ok) << bom.err.message;
  EXPECT_EQ(bom.rows[0].key, "a");
  expectError(readLines("{\"key\": \"a\"}\n\xEF\xBB\xBF{\"key\": \"b\"}\n"), 2, "$",
              "malformed JSON: a byte-order mark is only allowed at the start of the file");

  Read empty = readLines("");
  EXPECT_TRUE(empty.ok);
  EXPECT_TRUE(empty.rows.empty());
  EXPECT_TRUE(readLines("\n\n  \n").ok);
}

TEST(DataLines, LineNotAnObject) {
  expectError(readLines("{\"key\": \"a\"}\n[1]\n"), 2, "$", "a line must be a JSON object, not an array");
  expectError(readLines("\n\n\"a\"\n"), 3, "$", "a line must be a JSON object, not a string");
  expectError(readLines("5"), 1, "$", "a line must be a JSON object, not a number");
}

TEST(DataLines, KeyMissingOrNotAString) {
  expectError(readLines("{\"key\": \"a\"}\n\n{\"owner\": \"x\"}\n"), 3, "$", "the line has no `key` member");
  expectError(readLines("{\"key\": 5, \"owner\": \"x\"}"), 1, "$.key", "`key` must be a string, not a number");
  expectError(readLines("{\"key\": null}"), 1, "$.key", "`key` must be a string, not null");
  expectError(readLines("{\"key\": [\"a\"]}"), 1, "$.key", "`key` must be a string, not an array");
  // only the top-level member counts
  expectError(readLines("{\"row\": {\"key\": \"a\"}}"), 1, "$", "the line has no `key` member");
}

TEST(DataLines, DuplicateRowKey) {
  Read r = readLines("{\"key\": \"a\"}\n{\"key\": \"b\"}\n\n{\"key\": \"a\", \"owner\": \"x\"}\n");
  expectError(r, 4, "$.key", "duplicate row key \"a\" (first at line 1)");
  EXPECT_EQ(r.rows.size(), 2u);
}

TEST(DataLines, DuplicateMember) {
  expectError(readLines("{\"key\": \"a\", \"x\": 1, \"x\": 2}"), 1, "$.x", "duplicate member \"x\"");
  expectError(readLines("{\"key\": \"a\"}\n{\"key\": \"b\", \"key\": \"c\"}"), 2, "$.key", "duplicate member \"key\"");
  expectError(readLines("{\"key\": \"a\", \"t\": {\"cost-center\": 1, \"cost-center\": 1}}"), 1,
              "$.t[\"cost-center\"]", "duplicate member \"cost-center\"");
}

TEST(DataLines, InvalidUtf8AndMalformedAndTruncated) {
  expectError(readLines("{\"key\": \"a\"}\n{\"key\": \"b\", \"owner\": \"\xFF\"}\n"), 2, "$.owner", "invalid UTF-8");
  expectError(readLines("{\"key\": \"\x80\"}"), 1, "$.key", "invalid UTF-8");
  expectError(readLines("{\"key\": \"a\"}\n{\"key\": \"b\", \"owner\": "), 2, "$.owner", "unexpected end of line");
  expectError(readLines("{\"key\": \"a\",\n\"owner\": \"x\"}\n"), 1, "$", "unexpected end of line");
  expectError(readLines("{\"key\": \"a\"} x\n"), 1, "$", "unexpected content after the line's object");
  expectError(readLines("{\"key\": \"a\"}{\"key\": \"b\"}\n"), 1, "$", "unexpected content after the line's object");
  // `0` is the value of n; the `1` after it is out of place in the object
  expectError(readLines("{\"key\": \"a\", \"n\": 01}"), 1, "$", "malformed JSON: unexpected number literal; expected '}'");
}

// ---- files ----

TEST(DataFile, ReadsByExtensionAndReportsIoErrors) {
  auto dir = std::filesystem::temp_directory_path() / ("pave-data-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string lines = (dir / "t.jsonl").string();
  std::ofstream(lines) << "{\"key\": \"a\", \"x\": 1}\n";
  std::string object = (dir / "t.json").string();
  std::ofstream(object) << "{\"a\": {\"x\": 1}}\n";

  for (const std::string& path : {lines, object}) {
    std::vector<Row> rows;
    DataError err;
    ASSERT_TRUE(readFile(path, [&](Row&& r) { rows.push_back(std::move(r)); return true; }, err)) << err.message;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].key, "a");
    EXPECT_EQ(rows[0].value, json::parse(R"({"x":1})"));
  }

  DataError err;
  std::string missing = (dir / "missing.json").string();
  EXPECT_FALSE(readFile(missing, [](Row&&) { return true; }, err));
  EXPECT_EQ(err.line, 0u);
  EXPECT_EQ(err.path, "");
  EXPECT_EQ(err.message, "cannot read `" + missing + "`: no such file or directory");

  EXPECT_FALSE(readFile(dir.string(), [](Row&&) { return true; }, err));
  EXPECT_EQ(err.line, 0u);
  EXPECT_EQ(err.message, "cannot read `" + dir.string() + "`: is a directory");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pave::data
