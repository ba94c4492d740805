// libFuzzer target: the decision log (SPEC §10.1), both directions, as untrusted bytes.
//   - Reading: any line given to `pave audit`'s record reader is either a record or a
//     clean refusal; nothing may crash, trip a sanitizer or hang.
//   - Writing: any input text (what a client sends `pave serve`), wrapped into a record
//     by the server's writer, gives one line of valid JSON whose `input` is the input
//     when that was JSON (else `{"raw": …}`), and which the reader accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "audit/Record.h"
#include "pave/decision_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pave::audit::Record record;
  std::string why;
  (void)pave::audit::parseRecord(text, record, why);

  // The server learns whether the input was JSON from the runtime's strict decoder; here
  // nlohmann's, which stops at a NUL byte as at the end of the input, so NULs are excluded.
  const bool is_json = text.find('\0') == std::string_view::npos && nlohmann::json::accept(text);
  pave::server::Redaction redaction;
  std::string error;
  const bool redact = size && (data[0] & 1);
  if (redact && !redaction.add("request.token", &error)) std::abort();
  std::string line;
  static const std::string kDecision =
      R"({"decision":"deny","request_type":null,"rules":[],"deny_rules":[],"exceptions":[],"approvals":[],)"
      R"("grants":{},"reasons":[],"errors":[],"bundle":{"name":"b","revision":"","digest":"sha256:00"}})";
  pave::server::appendRecord(line,
                             {.id = "0193a5c4-0000-7000-8000-000000000000",
                              .time = "2026-11-27T10:00:00.000Z",
                              .source = "serve",
                              .client = nullptr,
                              .input = text,
                              .inputIsJson = is_json,
                              .decision = kDecision,
                              .evalNs = 1},
                             redaction);
  if (line.find('\n') != std::string::npos) std::abort();  // JSON Lines: one line per record
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) std::abort();
  if (!is_json && !parsed["input"].contains("raw")) std::abort();
  if (is_json && !redact && parsed["input"] != nlohmann::json::parse(text)) std::abort();
  pave::audit::Record back;
  if (!pave::audit::parseRecord(line, back, why)) std::abort();
  return 0;
}
