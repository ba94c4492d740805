// Prints a planned token stream. Internal to compiler/format.
#pragma once

#include <string>

#include "format/internal/Plan.h"

namespace pave::format::internal {

/// Renders the tokens with the plan's line breaks, the spacing rules and every comment
/// where it was written (on its own line or after code), then aligns trailing `//`
/// comments of consecutive lines.
std::string print(const Layout& layout);

}  // namespace pave::format::internal
