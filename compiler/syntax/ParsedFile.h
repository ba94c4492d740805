// What the parse pipeline (Parser.cpp) hands the AST builder (AstBuilder.cpp): the tokens,
// the ANTLR objects and the tree of one file, or its syntax error. Internal to syntax/.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "PaveParser.h"
#include "syntax/AntlrAdapters.h"
#include "syntax/Parser.h"

namespace pave::syntax {

/// A file lexed and parsed, before its conversion into the AST. Members are declared in
/// the order they depend on each other, so that they are destroyed in reverse.
struct ParsedFile {
  std::string_view text;
  bool failed = false;  // a syntax error: `error` over [errorBegin, errorEnd)
  std::string error;
  uint32_t errorBegin = 0, errorEnd = 0;
  std::string fixTitle, fixText;  // a suggested edit of [fixBegin, fixEnd), when fixTitle is set
  uint32_t fixBegin = 0, fixEnd = 0;

  std::vector<Token> lexed;
  std::unique_ptr<ByteCharStream> chars;
  std::unique_ptr<TokenFeed> feed;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
  std::unique_ptr<gen::PaveParser> parser;
  gen::PaveParser::FileContext* tree = nullptr;

  void fail(std::string message, uint32_t begin, uint32_t end) {
    failed = true;
    error = std::move(message);
    errorBegin = begin;
    errorEnd = end;
  }
};

}  // namespace pave::syntax
