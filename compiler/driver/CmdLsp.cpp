// `pave lsp`: the language server over stdio (SPEC §9.3).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "driver/Commands.h"
#include "lsp/Server.h"

namespace pave::driver {

namespace {

int runLsp() {
  std::ios::sync_with_stdio(false);
  lsp::Transport transport(std::cin, std::cout);
  int code = 0;
  {
    lsp::Server server(transport);
    code = server.run();
  }
  std::cout.flush();
  std::fflush(stdout);
  // The reader thread may still be blocked on standard input: leave without unwinding it.
  std::_Exit(code);
}

}  // namespace

void registerLsp(CLI::App& app, int& exitCode) {
  CLI::App* cmd = app.add_subcommand("lsp", "Run the language server (Language Server Protocol over stdio)");
  auto stdio = std::make_shared<bool>(false);  // accepted because clients commonly pass it
  cmd->add_flag("--stdio", *stdio, "Talk over standard input and output (the default and only transport)");
  cmd->callback([&exitCode] { exitCode = runLsp(); });
}

}  // namespace pave::driver
