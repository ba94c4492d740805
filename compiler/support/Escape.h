// Character escaping by a table: each listed character is replaced by its text, every other
// character is kept. One loop for the escapers of the diagnostic formats, of `pave test`
// reports and of quoted values.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace pave {

struct CharEscape {
  char c;
  std::string_view with;
};

inline std::string escapeChars(std::string_view s, std::initializer_list<CharEscape> table) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const CharEscape* e = table.begin();
    while (e != table.end() && e->c != c) ++e;
    if (e != table.end())
      out += e->with;
    else
      out += c;
  }
  return out;
}

}  // namespace pave
