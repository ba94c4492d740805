// Small file helpers shared by the commands and the language server.
#pragma once

#include <optional>
#include <string>

namespace pave {

/// Reads a whole file; returns an error message on failure.
std::optional<std::string> readFile(const std::string& path, std::string& out);
/// Writes a whole file atomically enough for a CLI (write then rename).
std::optional<std::string> writeFile(const std::string& path, const std::string& data);

}  // namespace pave
