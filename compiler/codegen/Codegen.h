// Lowering a checked program to a bundle model (runtime/include/pave/bundle.h): schema,
// one bytecode function per rule conjunct, approver and grant expression, exception
// metadata and the source map.
#pragma once

#include <string>

#include <pave/bundle.h>

#include "sema/Program.h"
#include "source/Source.h"

namespace pave::codegen {

struct CodegenOptions {
  std::string name;           // bundle name
  std::string revision;
  std::string sourcesDigest;  // "sha256:<hex>" of the sources
  bool sourceMap = true;      // keep conjunct lines and texts for `--explain`
  std::string root;           // the repository root: the source map names files relative to it
};

/// Builds the bundle model. Returns false with a message when the program exceeds a
/// limit of the bytecode format (registers, instructions, jump distance).
bool generate(const sema::CheckedProgram& program, const SourceManager& sources, const CodegenOptions& options,
              rt::Bundle& out, std::string& error);

/// "sha256:<hex>" over the user's source files (path and content, in path order), each
/// path taken relative to the repository `root`, so that the digest (and the bundle) does
/// not depend on where the repository is or how its path was spelled.
std::string digestSources(const SourceManager& sources, const std::string& root);

/// "sha256:<hex>" over the tables' content (name, type, and every row's key and attribute
/// values in key order): the same data gives the same digest whatever the policies.
std::string digestData(const sema::CheckedProgram& program);

}  // namespace pave::codegen
