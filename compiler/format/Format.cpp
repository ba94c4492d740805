#include "format/Format.h"

#include "format/internal/Planner.h"
#include "format/internal/Printer.h"
#include "syntax/Parser.h"

namespace pave::format {

namespace {

using syntax::TokenKind;

/// What must survive formatting: code tokens (trailing commas aside) and comment texts.
std::vector<std::string> essence(std::string_view text) {
  std::vector<syntax::Token> tokens = syntax::lex(text);
  std::vector<std::string> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const syntax::Token& t = tokens[i];
    std::string spelling(text.substr(t.begin, t.end - t.begin));
    if (syntax::isComment(t.kind)) {
      std::string clean;
      for (char ch : spelling)
        if (ch != '\r') clean += ch;
      while (!clean.empty() && (clean.back() == ' ' || clean.back() == '\t')) clean.pop_back();
      out.push_back(std::move(clean));
      continue;
    }
    if (t.kind == TokenKind::Comma) {
      size_t next = i + 1;
      while (next < tokens.size() && syntax::isComment(tokens[next].kind)) ++next;
      if (next < tokens.size() && (tokens[next].kind == TokenKind::RBrace || tokens[next].kind == TokenKind::RBrack))
        continue;
    }
    out.push_back(std::to_string(static_cast<int>(t.kind)) + ":" + spelling);
  }
  return out;
}

}  // namespace

FormatResult formatFile(const SourceManager& sources, FileId file, DiagnosticEngine& diags,
                        const FormatOptions& options) {
  FormatResult result;
  ast::Ast ast;
  DiagnosticEngine parseDiags;
  bool parsed = syntax::parseFile(ast, sources, file, parseDiags);
  bool syntaxError = !parsed;
  for (const Diagnostic& d : parseDiags.all()) {
    if (d.kind != DiagKind::Syntax) continue;
    syntaxError = true;
    diags.all().push_back(d);
  }
  if (syntaxError || ast.files.empty()) return result;

  internal::Layout layout;
  layout.text = sources.text(file);
  layout.tokens = syntax::lex(layout.text);
  layout.plan.assign(layout.tokens.size(), {});
  internal::Planner(layout, ast, options).run(ast.files.back());
  std::string text = internal::print(layout);
  if (layout.tokens.empty()) text.clear();

  if (essence(text) != essence(layout.text)) {
    result.internalError = "formatting " + sources.path(file) + " would change its tokens; the file is left as it is";
    return result;
  }
  result.ok = true;
  result.text = std::move(text);
  return result;
}

FormatResult formatText(std::string path, std::string text, const FormatOptions& options) {
  SourceManager sources;
  FileId id = sources.add(std::move(path), std::move(text));
  DiagnosticEngine diags;
  return formatFile(sources, id, diags, options);
}

}  // namespace pave::format
