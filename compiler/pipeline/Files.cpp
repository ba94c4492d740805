#include "pipeline/Files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pave {

std::optional<std::string> readFile(const std::string& path, std::string& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return path + " is a directory";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path + ": " + std::strerror(errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return "cannot read " + path;
  out = ss.str();
  return std::nullopt;
}

std::optional<std::string> writeFile(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + path + ": " + std::strerror(errno);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return "cannot write " + path;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return "cannot write " + path + ": " + ec.message();
  return std::nullopt;
}

}  // namespace pave
