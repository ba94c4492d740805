// pave.toml (SPEC §9.4): bundle name and lint severities.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "diag/Diagnostic.h"

namespace pave {

struct Config {
  std::string bundleName;                      // [bundle] name
  std::map<std::string, Severity> severities;  // [lint] "code" = "off|info|warning|error"
  std::string path;                            // where it was read from, if anywhere
};

/// Reads `<root>/pave.toml` if present. Returns an error message for a malformed file
/// (bad TOML, unknown code, unknown severity).
std::optional<std::string> loadConfig(const std::string& root, Config& out);

}  // namespace pave
