// The standard library sources (stdlib/std/*.pave), embedded at build time.
#pragma once

#include <string_view>
#include <vector>

namespace pave {

struct EmbeddedFile {
  std::string_view path;  // "<std>/std/time.pave"
  std::string_view text;
};

const std::vector<EmbeddedFile>& stdlibFiles();

// The standard library's files are named "<std>/" + their path under stdlib/.
inline constexpr std::string_view kStdlibPrefix = "<std>/";
// Whether a source path names one of the standard library's files.
inline bool isStdlibPath(std::string_view path) { return path.starts_with(kStdlibPrefix); }

}  // namespace pave
