#include "syntax/Literals.h"

#include <pave/literals.h>

#include "diag/Messages.h"

namespace pave::syntax {

std::optional<std::string> decodeString(std::string_view body, bool likePattern, std::string& error,
                                        size_t& errorOffset) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    errorOffset = i;
    if (i + 1 >= body.size()) {
      error = msg::EscapeUnfinished.render();
      return std::nullopt;
    }
    char e = body[++i];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '*':
        if (!likePattern) {
          error = msg::EscapeStarOutsideLike.render();
          return std::nullopt;
        }
        out += '\x01';
        break;
      case 'u': {
        size_t close = body.find('}', i);
        if (i + 1 >= body.size() || body[i + 1] != '{' || close == std::string_view::npos || close == i + 2 ||
            close - i - 2 > 6) {
          error = msg::EscapeUnicodeDigits.render();
          return std::nullopt;
        }
        uint32_t cp = 0;
        for (size_t k = i + 2; k < close; ++k) {
          char h = body[k];
          int v = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
          if (v < 0) {
            error = msg::EscapeUnicodeHex.render();
            return std::nullopt;
          }
          cp = cp * 16 + static_cast<uint32_t>(v);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          error = msg::EscapeNotScalar.render();
          return std::nullopt;
        }
        rt::appendUtf8(out, cp);
        i = close;
        break;
      }
      default: error = msg::EscapeUnknown.render(std::string_view(&e, 1)); return std::nullopt;
    }
  }
  return out;
}

}  // namespace pave::syntax
