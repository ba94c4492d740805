// pave.toml (SPEC §9.4): bundle name and lint severities.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "diag/Diagnostic.h"

namespace pave {

struct Config {
  std::string bundleName;                      // [bundle] name
  std::map<std::string, Severity> severities;  // [lint] "code" = "off|info|warning|error"
  int64_t expiringWindow = 14 * 86400;         // [lint] expiring-exception-window = "30d" (seconds)
  std::string path;                            // where it was read from, if anywhere
};

/// Reads `<root>/pave.toml` if present. Returns an error message for a malformed file
/// (bad TOML, unknown code, unknown severity, bad window).
std::optional<std::string> loadConfig(const std::string& root, Config& out);

}  // namespace pave
