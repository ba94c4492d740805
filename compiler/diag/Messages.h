// The registry of diagnostic messages (diag/messages.def): each message a named constant
// with its kind, its format and the types of its arguments, so that a report site reads
//
//   report(msg::UnknownGrant, range, name, request);
//
// and a wrong number or type of arguments, or a format that does not fit them, fails to
// compile. Messages follow the house style: lowercase, no trailing period, names in
// backticks (written in the format, around `{}`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "diag/Diagnostic.h"

namespace pave::msg {

// The argument kinds a message takes.
using Text = std::string_view;  // a name, a type, a value or a fragment of the sentence
using Int = int64_t;            // a number, written as is

/// A count: `{0}` writes the number; `{0:item|items}` writes the word for one or for
/// several (without the number), so that `{0} {0:argument|arguments}` reads "1 argument".
struct Count {
  uint64_t n;
  template <typename T>
  requires std::is_integral_v<T>
  constexpr Count(T value) : n(static_cast<uint64_t>(value)) {}  // NOLINT(google-explicit-constructor)
};

/// Names, each in backticks, joined as a sentence: "`a`, `b` and `c`".
struct Names {
  const std::vector<std::string>& names;
  Names(const std::vector<std::string>& list) : names(list) {}  // NOLINT(google-explicit-constructor)
};

/// Blocks template deduction, so that arguments convert to the message's own types.
template <typename T>
using NoDeduce = std::type_identity_t<T>;

/// A message rendered before it is reported (an analyzer finding, a syntax error found
/// while parsing): its kind and its text.
struct Rendered {
  DiagKind kind;
  std::string message;
};

template <typename... Args>
struct Message {
  DiagKind kind;
  fmt::format_string<Args...> format;  // checked against Args at compile time

  std::string render(NoDeduce<Args>... args) const {
    return fmt::vformat(static_cast<fmt::string_view>(format), fmt::make_format_args(args...));
  }
  Rendered operator()(NoDeduce<Args>... args) const { return {kind, render(args...)}; }
};

}  // namespace pave::msg

template <>
struct fmt::formatter<pave::msg::Count> {
  std::string_view one, many;  // empty: the number
  constexpr auto parse(format_parse_context& ctx) {
    auto it = ctx.begin(), end = ctx.end();
    auto start = it;
    while (it != end && *it != '}') ++it;
    std::string_view spec(start, static_cast<size_t>(it - start));
    if (!spec.empty()) {
      size_t bar = spec.find('|');
      if (bar == std::string_view::npos) ctx.on_error("a count's format is `one|many`");
      one = spec.substr(0, bar);
      many = spec.substr(bar + 1);
    }
    return it;
  }
  template <typename Ctx>
  auto format(const pave::msg::Count& c, Ctx& ctx) const {
    if (one.empty() && many.empty()) return fmt::format_to(ctx.out(), "{}", c.n);
    return fmt::format_to(ctx.out(), "{}", c.n == 1 ? one : many);
  }
};

template <>
struct fmt::formatter<pave::msg::Names> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename Ctx>
  auto format(const pave::msg::Names& list, Ctx& ctx) const {
    auto out = ctx.out();
    for (size_t i = 0; i < list.names.size(); ++i)
      out = fmt::format_to(out, "{}`{}`", i == 0 ? "" : i + 1 == list.names.size() ? " and " : ", ", list.names[i]);
    return out;
  }
};

namespace pave::msg {

#define PAVE_MSG(Id, Kind, Format, ...) inline constexpr Message<__VA_ARGS__> Id{DiagKind::Kind, Format};
#include "diag/messages.def"

/// One registered message, for the registry's tests and documentation.
struct MessageInfo {
  std::string_view name;
  DiagKind kind;
  std::string_view format;
  size_t arity;
};
const std::vector<MessageInfo>& allMessages();

}  // namespace pave::msg
