// The `pave` command line.
#include <pthread.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "driver/Commands.h"

namespace {

struct Args {
  int argc;
  char** argv;
  int exitCode;
};

void* runMain(void* p) {
  auto* args = static_cast<Args*>(p);
  CLI::App app{"Pave: policy-as-code compiler, linter and decision VM for policy-driven self-service", "pave"};
  app.set_version_flag("--version", std::string("pave ") + PAVE_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  int exitCode = pave::driver::kExitOk;
  pave::driver::registerCheck(app, exitCode);
  pave::driver::registerBuild(app, exitCode);
  pave::driver::registerTest(app, exitCode);
  pave::driver::registerBundleCommands(app, exitCode);
  pave::driver::registerReport(app, exitCode);
  pave::driver::registerDiff(app, exitCode);
  pave::driver::registerFmt(app, exitCode);
  pave::driver::registerLsp(app, exitCode);
  pave::driver::registerServe(app, exitCode);
  pave::driver::registerAudit(app, exitCode);
  // `pave watch`: say that the command is unknown and list the commands (the parser would
  // only say that an argument was not expected).
  if (args->argc > 1 && args->argv[1][0] != '-') {
    std::string name = args->argv[1];
    std::vector<CLI::App*> commands = app.get_subcommands([](CLI::App*) { return true; });
    bool known = false;
    std::string list;
    for (const CLI::App* c : commands) {
      known |= c->get_name() == name;
      list += (list.empty() ? "" : ", ") + c->get_name();
    }
    if (!known) {
      pave::driver::printError("unknown command `" + name + "`");
      std::cerr << "commands: " << list << " (`pave --help` describes each)\n";
      args->exitCode = pave::driver::kExitUsage;
      return nullptr;
    }
  }
  try {
    app.parse(args->argc, args->argv);
  } catch (const CLI::CallForHelp& e) {
    args->exitCode = app.exit(e);
    return nullptr;
  } catch (const CLI::CallForVersion& e) {
    args->exitCode = app.exit(e);
    return nullptr;
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    args->exitCode = rc == 0 ? 0 : pave::driver::kExitUsage;
    return nullptr;
  } catch (const std::exception& e) {
    pave::driver::printError(std::string("internal error: ") + e.what());
    args->exitCode = 3;
    return nullptr;
  }
  args->exitCode = exitCode;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  // Policy sources are untrusted: run on a large stack so that deep (but bounded)
  // nesting can never overflow it.
  Args args{argc, argv, 0};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 512u << 20);
  pthread_t thread;
  if (pthread_create(&thread, &attr, runMain, &args) != 0) {
    runMain(&args);
  } else {
    pthread_join(thread, nullptr);
  }
  pthread_attr_destroy(&attr);
  std::fflush(stdout);
  return args.exitCode;
}
