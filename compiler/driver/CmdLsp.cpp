// `pave lsp`: the language server over stdio (SPEC §9.3).
#include "driver/Commands.h"

namespace pave::driver {

void registerLsp(CLI::App& app, int& exitCode) {
  CLI::App* cmd = app.add_subcommand("lsp", "Run the language server (Language Server Protocol over stdio)");
  cmd->callback([&exitCode] { exitCode = kExitOk; });
}

}  // namespace pave::driver
