// The parse pipeline: Pave's lexer (Tokens.cpp) feeding the ANTLR-generated parser through
// the adapters of AntlrAdapters.h, two-stage parsing (SLL, then LL on failure) with the
// errors worded by SyntaxErrors.cpp, and the conversion of the tree by AstBuilder.cpp.
//
// parseFiles() overlaps work across files: the calling thread lexes and parses file i+1
// while a second thread converts file i into the AST and frees its parse tree. ANTLR's
// prediction cache is shared by every parser of the process and the 4.9 runtime does not
// make it safe for concurrent parsers, so ANTLR itself only ever runs on one thread at a
// time (antlrMutex); the conversion touches none of ANTLR's shared state.
#include "syntax/Parser.h"

#include <antlr4-runtime.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>

#include "PaveLexer.h"
#include "PaveParser.h"
#include "support/BigStackThread.h"
#include "syntax/AstBuilder.h"
#include "syntax/ParsedFile.h"
#include "syntax/SyntaxErrors.h"
#include "syntax/Tokens.h"

#include <pave/literals.h>

namespace pave::syntax {

using gen::PaveLexer;
using gen::PaveParser;

namespace {

std::mutex antlrMutex;

/// Rejects token sequences that would recurse too deeply in the parser. Returns the index
/// of the offending token or -1.
ssize_t checkNesting(const std::vector<Token>& tokens, uint32_t limit) {
  uint32_t depth = 0, prefixRun = 0, nested = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    TokenKind k = tokens[i].kind;
    if (hiddenFromParser(k)) continue;
    switch (k) {
      case TokenKind::LParen: case TokenKind::LBrack: case TokenKind::LBrace:
        if (++depth > limit) return static_cast<ssize_t>(i);
        break;
      case TokenKind::RParen: case TokenKind::RBrack: case TokenKind::RBrace:
        if (depth) --depth;
        break;
      default: break;
    }
    bool prefix = k == TokenKind::Not || k == TokenKind::Minus;
    prefixRun = prefix ? prefixRun + 1 : 0;
    if (prefixRun > limit) return static_cast<ssize_t>(i);
    // `if`, `any` and `all` open constructs that close implicitly; bound them per declaration.
    if (k == TokenKind::If || k == TokenKind::Any || k == TokenKind::All)
      if (++nested > limit) return static_cast<ssize_t>(i);
    if (k == TokenKind::Semi && depth == 0) nested = 0;
  }
  return -1;
}

}  // namespace

void ParsedFileDeleter::operator()(ParsedFile* p) const { delete p; }

ParsedFilePtr parseText(std::string_view text, const ParseLimits& limits) {
  ParsedFilePtr out(new ParsedFile);
  ParsedFile& pf = *out;
  pf.text = text;
  if (text.size() > limits.maxFileBytes) {
    pf.fail("file is too large (" + std::to_string(text.size()) + " bytes; the limit is " +
                std::to_string(limits.maxFileBytes) + ")",
            0, 0);
    return out;
  }
  // Source text is well-formed UTF-8 without NUL characters.
  if (size_t bad = std::min(rt::firstInvalidUtf8(text), text.find('\0')); bad != std::string_view::npos) {
    pf.fail("file is not valid UTF-8 text", static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1));
    return out;
  }
  pf.lexed = lex(text);
  if (ssize_t deep = checkNesting(pf.lexed, limits.maxNesting); deep >= 0) {
    const Token& t = pf.lexed[static_cast<size_t>(deep)];
    pf.fail("nesting is too deep (more than " + std::to_string(limits.maxNesting) + " levels)", t.begin, t.end);
    return out;
  }

  pf.chars = std::make_unique<ByteCharStream>(text);
  pf.feed = std::make_unique<TokenFeed>(pf.lexed, *pf.chars, text.size());
  pf.tokens = std::make_unique<antlr4::CommonTokenStream>(pf.feed.get());
  std::lock_guard<std::mutex> lock(antlrMutex);
  pf.tokens->fill();
  pf.parser = std::make_unique<PaveParser>(pf.tokens.get());
  PaveParser& parser = *pf.parser;
  parser.removeErrorListeners();
  // Stage 1: SLL with bail-out, fast on valid input.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  try {
    pf.tree = parser.file();
  } catch (const antlr4::ParseCancellationException&) {
    pf.tree = nullptr;
  }
  if (!pf.tree) {
    // Stage 2: full LL with error reporting.
    ErrorListener listener(text);
    pf.tokens->seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    parser.addErrorListener(&listener);
    pf.tree = parser.file();
    parser.removeErrorListeners();
    if (listener.hasError && listener.retryAs) {
      // Parse again with the offending token taken as the other one (a reserved word as a
      // name, `=` as `==`): when that gets further, the other one was meant.
      auto* tok = dynamic_cast<antlr4::CommonToken*>(pf.tokens->get(listener.tokenIndex));
      if (tok) {
        size_t type = tok->getType();
        tok->setType(listener.retryAs);
        ErrorListener again(text);
        pf.tokens->seek(0);
        parser.reset();
        parser.addErrorListener(&again);
        parser.file();
        parser.removeErrorListeners();
        tok->setType(type);
        pf.tree = nullptr;  // the tree of a failed parse is never converted
        if (!again.hasError || (again.tokenIndex != static_cast<size_t>(-1) && again.tokenIndex > listener.tokenIndex))
          listener.explainRetry(tok, type);
      }
    }
    if (listener.hasError) {
      pf.fail(listener.message, listener.begin, listener.end);
      if (listener.fix) {
        pf.fixTitle = listener.fix->title;
        pf.fixText = listener.fix->replacement;
        pf.fixBegin = listener.fix->begin;
        pf.fixEnd = listener.fix->end;
      }
    }
  }
  return out;
}


bool convertParsed(const ParsedFile& parsed, ast::Ast& ast, FileId file, DiagnosticEngine& diags, bool fromStdlib,
                   const ParseLimits& limits) {
  if (parsed.failed) {
    // Rendered while parsing (SyntaxErrors.cpp, from msg::Syntax*), perhaps on another thread.
    DiagBuilder d = diags.report(DiagKind::Syntax, {file, parsed.errorBegin, parsed.errorEnd}, parsed.error);
    if (!parsed.fixTitle.empty()) d.fix(parsed.fixTitle, {file, parsed.fixBegin, parsed.fixEnd}, parsed.fixText);
    return false;
  }
  return buildAst(parsed, ast, file, diags, fromStdlib, limits);
}

bool parseFile(ast::Ast& ast, const SourceManager& sources, FileId file, DiagnosticEngine& diags, bool fromStdlib,
               const ParseLimits& limits) {
  ParsedFilePtr parsed = parseText(sources.text(file), limits);
  return convertParsed(*parsed, ast, file, diags, fromStdlib, limits);
}

bool parseFiles(ast::Ast& ast, const SourceManager& sources, std::span<const FileToParse> files,
                DiagnosticEngine& diags, const ParseLimits& limits) {
  if (files.size() < 2) {
    bool clean = true;
    for (const FileToParse& f : files) clean &= parseFile(ast, sources, f.id, diags, f.fromStdlib, limits);
    return clean;
  }
  // This thread parses; the converter takes files in order from a short queue, so that at
  // most a few parse trees are alive at once.
  constexpr size_t kMaxQueued = 4;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<ParsedFilePtr> queue;
  bool producerDone = false;
  bool clean = true;
  std::exception_ptr failure;
  {
    BigStackThread converter([&] {
      try {
        for (const FileToParse& f : files) {
          ParsedFilePtr parsed;
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return !queue.empty() || producerDone; });
            if (queue.empty()) return;  // the producer stopped early
            parsed = std::move(queue.front());
            queue.pop_front();
          }
          cv.notify_all();
          clean &= convertParsed(*parsed, ast, f.id, diags, f.fromStdlib, limits);
          parsed.reset();  // free the parse tree here, off the parsing thread
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        failure = std::current_exception();
        cv.notify_all();
      }
    });
    if (!converter.started()) {  // no second thread: one file after the other
      for (const FileToParse& f : files) clean &= parseFile(ast, sources, f.id, diags, f.fromStdlib, limits);
      return clean;
    }
    try {
      for (const FileToParse& f : files) {
        ParsedFilePtr parsed = parseText(sources.text(f.id), limits);
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return queue.size() < kMaxQueued || failure; });
        if (failure) break;  // the converter failed
        queue.push_back(std::move(parsed));
        lock.unlock();
        cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure) failure = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      producerDone = true;
    }
    cv.notify_all();
    converter.join();
  }
  if (failure) std::rethrow_exception(failure);
  return clean;
}

}  // namespace pave::syntax
