// libFuzzer target: arbitrary bytes as a policy file through the parser and checker.
// Nothing may crash, trip a sanitizer or hang. A program that checks without errors is
// also compiled into a bundle, which must be written and then load (verifier included),
// plainly and stripped: any refusal there is a code generator bug, and aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <pave/runtime.h>

#include "codegen/Codegen.h"
#include "diag/Diagnostic.h"
#include "sema/Sema.h"
#include "source/Source.h"
#include "stdlib/Stdlib.h"
#include "syntax/Parser.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& error) {
  std::fprintf(stderr, "fuzz_parse_check: %s: %s\n", what, error.c_str());
  std::abort();
}

// Compiles a checked program and loads the bundle, as `pave build` and an enforcement
// point would. The code generator may refuse a program that exceeds a limit of the bundle
// format (too many registers or instructions): that is an error message, not a bug.
void build(const pave::sema::CheckedProgram& program, const pave::SourceManager& sources) {
  pave::codegen::CodegenOptions cg;
  cg.name = "fuzz";
  pave::rt::Bundle bundle;
  std::string error;
  if (!pave::codegen::generate(program, sources, cg, bundle, error)) return;
  for (bool strip : {false, true}) {
    pave::rt::WriteOptions write;
    write.strip = strip;
    std::vector<uint8_t> bytes;
    if (!pave::rt::writeBundle(bundle, write, bytes, &error)) fail("writing the bundle", error);
    if (!pave::rt::LoadedBundle::load(bytes, {}, &error)) fail("loading the bundle the compiler wrote", error);
  }
}

}  // namespace

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
    auto program = pave::sema::check(ast, sources, diags, options);
    if (program && !diags.hasErrors()) build(*program, sources);
  }
  return 0;
}
