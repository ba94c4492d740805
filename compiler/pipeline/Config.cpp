#include "pipeline/Config.h"

#include <filesystem>
#include <toml++/toml.h>

#include <pave/literals.h>

namespace pave {

std::optional<std::string> loadConfig(const std::string& root, Config& out) {
  std::filesystem::path file = std::filesystem::path(root) / "pave.toml";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  out.path = file.string();
  toml::table table;
  try {
    table = toml::parse_file(out.path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return out.path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
           std::string(e.description());
  }
  if (auto* bundle = table["bundle"].as_table()) {
    if (auto name = (*bundle)["name"].value<std::string>()) out.bundleName = *name;
    else if ((*bundle)["name"]) return out.path + ": [bundle] name must be a string";
  }
  if (auto* lint = table["lint"].as_table()) {
    for (auto& [key, value] : *lint) {
      std::string code(key.str());
      if (code == "expiring-exception-window") {
        auto text = value.value<std::string>();
        int64_t window = 0;
        if (!text || !rt::parseDuration(*text, window, false) || window <= 0)
          return out.path + ": [lint] expiring-exception-window must be a positive duration such as \"30d\"";
        out.expiringWindow = window;
        continue;
      }
      auto kind = diagKindFromCode(code);
      if (!kind) return out.path + ": [lint] names unknown diagnostic code `" + code + "`";
      if (!diagInfo(*kind).lint)
        return out.path + ": [lint] `" + code + "` is an error of the language, not a lint; its severity cannot change";
      auto text = value.value<std::string>();
      auto sev = text ? parseSeverity(*text) : std::nullopt;
      if (!sev) return out.path + ": [lint] \"" + code + "\" must be one of off, info, warning, error";
      out.severities[code] = *sev;
    }
  }
  return std::nullopt;
}

}  // namespace pave
