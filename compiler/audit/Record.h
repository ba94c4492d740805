// One decision log record (SPEC §10.1), read from a line without building a document:
// the members the audit needs, as spans of the line (valid while the line is).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace pave::audit {

enum class Class : uint8_t { Allow, Approval, Deny };
const char* className(Class c);

struct LiftedException {
  std::string_view id, lifts, until, owner, ticket;  // decoded text
};

struct Record {
  std::string_view id, time, source, client;  // decoded text (client: empty when null)
  std::string_view input;                     // the input's JSON text
  std::string_view decisionJson;              // the decision's JSON text
  Class decision = Class::Deny;
  std::string_view requestType;
  std::vector<std::string_view> rules, denyRules, reasons;
  std::vector<LiftedException> exceptions;
  std::string_view digest, revision, bundleName;
  int64_t timeSeconds = 0;  // `time`, seconds since the epoch

  // Decoded copies of strings that had escapes (stable addresses).
  std::deque<std::string> storage;
  std::string_view text(std::string_view value);  // a string value's decoded text
  void clear();
};

/// Reads one line into `r`. False with `why` (a short lowercase phrase) when the line is
/// not a record of log version 1.
bool parseRecord(std::string_view line, Record& r, std::string& why);

}  // namespace pave::audit
