// libFuzzer target: arbitrary bytes as a policy file through the parser and checker.
// Nothing may crash, trip a sanitizer or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "diag/Diagnostic.h"
#include "sema/Sema.h"
#include "source/Source.h"
#include "stdlib/Stdlib.h"
#include "syntax/Parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pave::SourceManager sources;
  pave::ast::Ast ast;
  pave::DiagnosticEngine diags;
  bool clean = true;
  for (const pave::EmbeddedFile& f : pave::stdlibFiles()) {
    pave::FileId id = sources.add(std::string(f.path), std::string(f.text));
    clean &= pave::syntax::parseFile(ast, sources, id, diags, true);
  }
  pave::FileId id = sources.add("fuzz.pave", std::string(reinterpret_cast<const char*>(data), size));
  clean &= pave::syntax::parseFile(ast, sources, id, diags);
  if (clean) {
    pave::sema::CheckOptions options;
    options.now = 1795737600;  // 2026-11-27T00:00:00Z
    (void)pave::sema::check(ast, sources, diags, options);
  }
  return 0;
}
