// The built-in methods (SPEC §4.3) as the type checker knows them, for the language server
// and the docs test: one entry per line of sema/builtins.def.
#pragma once

#include <span>
#include <string_view>

#include "sema/Program.h"

namespace pave::sema {

struct BuiltinMethod {
  std::string_view name;
  TypeKind receiver;
  TypeKind result;
  bool takesArgument;
  std::string_view signature;  // as completion shows it after the name: `(t: String): Bool`
};

/// Every built-in method, in the order of sema/builtins.def.
std::span<const BuiltinMethod> builtinMethods();

}  // namespace pave::sema
