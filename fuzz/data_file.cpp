// libFuzzer target: arbitrary bytes as a table data file (SPEC §2.3), read both as one JSON
// object and as JSON Lines. Nothing may crash, trip a sanitizer or hang, and:
//   - a failure has a message, a line within the input and a path starting at `$`;
//   - a row has a line within the input, and the rows' keys are distinct;
//   - an object file that reads agrees with a whole-document parse: same rows, same values;
//   - an object file that fails as malformed, truncated or not UTF-8 does not parse whole.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "data/DataFile.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_data_file: %s %s\n", what, detail.c_str());
  std::abort();
}

bool syntaxProblem(const std::string& message) {
  return message.rfind("malformed JSON", 0) == 0 || message == "unexpected end of file" ||
         message == "invalid UTF-8" || message == "number out of range" ||
         message == "unexpected content after the top-level object" || message.rfind("the file is empty", 0) == 0;
}

void read(std::string_view bytes, pave::data::Format format, uint32_t lineCount) {
  std::vector<pave::data::Row> rows;
  pave::data::DataError err;
  bool ok = pave::data::readRows(bytes, format, [&](pave::data::Row&& row) {
    if (row.line < 1 || row.line > lineCount) fail("row line out of range", std::to_string(row.line));
    if (row.path.empty() || row.path[0] != '$') fail("row path", row.path);
    if (!row.value.is_object()) fail("row value not an object");
    if (format == pave::data::Format::JsonLines && row.value.contains("key")) fail("JSON Lines row keeps its key");
    rows.push_back(std::move(row));
    return true;
  }, err);
  std::set<std::string> keys;
  for (const auto& row : rows)
    if (!keys.insert(row.key).second) fail("duplicate row key handed over", row.key);
  if (!ok) {
    if (err.message.empty()) fail("failure without a message");
    if (err.line < 1 || err.line > lineCount) fail("error line out of range", std::to_string(err.line) + " " + err.message);
    if (err.path.empty() || err.path[0] != '$') fail("error path", err.path);
  }
  if (format != pave::data::Format::JsonObject) return;
  // Compare with a whole-document parse.
  nlohmann::json whole = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (ok) {
    if (!whole.is_object()) fail("read, but does not parse as an object");
    if (whole.size() != rows.size()) fail("row count differs");
    for (const auto& row : rows)
      if (whole[row.key] != row.value) fail("row value differs", row.key);
  } else if (syntaxProblem(err.message) && !whole.is_discarded()) {
    fail("rejected as malformed, but parses", err.message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint32_t lineCount = 1;
  for (char c : bytes) lineCount += c == '\n';
  read(bytes, pave::data::Format::JsonObject, lineCount);
  read(bytes, pave::data::Format::JsonLines, lineCount);
  return 0;
}
