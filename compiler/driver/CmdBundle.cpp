// Commands over built bundles: `pave eval`, `pave inspect`, `pave verify`.
#include <iostream>
#include <pave/runtime.h>

#include "driver/Commands.h"
#include "driver/Files.h"

namespace pave::driver {
namespace {

struct BundleArgs {
  std::string bundle;
  std::vector<std::string> inputs;
  std::vector<std::string> publicKeys;  // files; each holds one or more Ed25519 public keys
  bool explain = false;
  bool disasm = false;
};

std::shared_ptr<const rt::LoadedBundle> openBundle(const BundleArgs& args) {
  rt::LoadOptions options;
  for (const std::string& path : args.publicKeys) {
    std::string pem, why;
    if (auto err = path.empty() ? std::optional<std::string>("--public-key: an empty file name") : readFile(path, pem)) {
      printError(*err);
      return nullptr;
    }
    if (!rt::checkPublicKeys(pem, nullptr, &why)) {
      printError(path + ": " + why);
      return nullptr;
    }
    options.public_keys_pem.push_back(std::move(pem));
  }
  std::string bytes;
  if (auto err = readFile(args.bundle, bytes)) {
    printError(*err);
    return nullptr;
  }
  std::string error;
  auto bundle = rt::LoadedBundle::load(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), options, &error);
  if (!bundle) printError(args.bundle + ": " + error);
  return bundle;
}

int runEval(const BundleArgs& args) {
  auto bundle = openBundle(args);
  if (!bundle) return kExitUsage;
  rt::Decider decider(bundle);
  std::vector<std::string> inputs = args.inputs.empty() ? std::vector<std::string>{"-"} : args.inputs;
  for (const std::string& input : inputs) {
    if (input == "-") {
      // JSON Lines: one decision per non-blank input line, malformed lines included.
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::cout << decider.decideJson(line, args.explain) << '\n';
      }
      continue;
    }
    std::string text;
    if (auto err = readFile(input, text)) {
      printError(*err);
      return kExitUsage;
    }
    std::cout << decider.decideJson(text, args.explain) << '\n';
  }
  std::cout.flush();
  return kExitOk;
}

int runInspect(const BundleArgs& args) {
  auto bundle = openBundle(args);
  if (!bundle) return kExitUsage;
  std::cout << rt::inspect(*bundle);
  if (args.disasm) std::cout << "\n" << rt::disassemble(bundle->model());
  return kExitOk;
}

int runVerify(const BundleArgs& args) {
  auto bundle = openBundle(args);
  if (!bundle) return kExitFindings;
  std::cout << args.bundle << ": ok (sha256:" << bundle->digestHex() << ", "
            << (bundle->isSigned() ? (args.publicKeys.empty() ? "signed, signature not checked: no --public-key"
                                                               : "signature verified")
                                   : "unsigned")
            << ", " << bundle->model().functions.size() << " functions verified)\n";
  return kExitOk;
}

}  // namespace

void registerBundleCommands(CLI::App& app, int& exitCode) {
  auto eval = std::make_shared<BundleArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Decide inputs against a bundle (JSON in, decision JSON out)");
  cmd->add_option("bundle", eval->bundle, "The bundle (.pvb)")->required();
  cmd->add_option("inputs", eval->inputs, "Input JSON files, or - for JSON Lines on stdin (default: -)");
  cmd->add_flag("--explain", eval->explain, "Add a trace of every rule evaluated");
  cmd->add_option("--public-key", eval->publicKeys,
                  "Ed25519 public key file (PEM, may hold several keys); repeatable; the bundle must be signed by one of them")
      ->allow_extra_args(false);
  cmd->callback([eval, &exitCode] { exitCode = runEval(*eval); });

  auto inspect = std::make_shared<BundleArgs>();
  cmd = app.add_subcommand("inspect", "Show a bundle's header, metadata, sections and rules");
  cmd->add_option("bundle", inspect->bundle, "The bundle (.pvb)")->required();
  cmd->add_flag("--disasm", inspect->disasm, "Also print the disassembled bytecode");
  cmd->add_option("--public-key", inspect->publicKeys, "Ed25519 public key file (PEM) to verify the signature with; repeatable")
      ->allow_extra_args(false);
  cmd->callback([inspect, &exitCode] { exitCode = runInspect(*inspect); });

  auto verify = std::make_shared<BundleArgs>();
  cmd = app.add_subcommand("verify", "Verify a bundle's digest, signature and bytecode");
  cmd->add_option("bundle", verify->bundle, "The bundle (.pvb)")->required();
  cmd->add_option("--public-key", verify->publicKeys,
                  "Ed25519 public key file (PEM); repeatable; required for signed bundles to check the signature")
      ->allow_extra_args(false);
  cmd->callback([verify, &exitCode] { exitCode = runVerify(*verify); });
}

}  // namespace pave::driver
