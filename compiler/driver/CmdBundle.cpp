// Commands over built bundles: `pave eval`, `pave inspect`, `pave verify`.
#include <unistd.h>

#include <pave/decision_log.h>
#include <pave/json_lines.h>
#include <pave/runtime.h>
#include <cerrno>
#include <cstring>
#include <iostream>

#include <chrono>

#include "driver/Commands.h"
#include "driver/JsonLines.h"
#include "pipeline/Files.h"

namespace pave::driver {
namespace {

struct BundleArgs {
  std::string bundle;
  std::vector<std::string> inputs;
  std::vector<std::string> publicKeys;  // files; each holds one or more Ed25519 public keys
  bool explain = false;
  bool disasm = false;
  unsigned jobs = 0;                   // eval: threads for JSON Lines (0: one per CPU)
  std::string log;                     // eval: the decision log (SPEC §10.1)
  std::vector<std::string> logRedact;  // eval: values to hash in its records
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
    options.publicKeysPem.push_back(std::move(pem));
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
  std::vector<std::string> inputs = args.inputs.empty() ? std::vector<std::string>{"-"} : args.inputs;
  // The decision log (SPEC §10.1): one record per decision, as `pave serve` writes them.
  std::unique_ptr<server::Sink> log;
  server::Redaction redaction;
  std::string records, recordDecision, why;
  if (!args.log.empty()) {
    for (const std::string& path : args.logRedact)
      if (!redaction.add(path, &why)) {
        printError("--log-redact: " + why);
        return kExitUsage;
      }
    log = server::openSink(args.log, {}, &why);
    if (!log) {
      printError(why);
      return kExitUsage;
    }
  }
  std::cout.flush();
  BlockWriter out(STDOUT_FILENO);
  std::string logError;
  // One decision, appended to `text` as a line, and its log record when there is a log.
  auto decide = [&](rt::Decider& decider, std::string_view input, std::string& text) {
    if (!log) {
      rt::toJson(*bundle, decider.decide(input, args.explain), text);
      text += '\n';
      return true;
    }
    auto t0 = std::chrono::steady_clock::now();
    const rt::Decision& d = decider.decide(input, args.explain);
    const int64_t evalNs =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    rt::toJson(*bundle, d, text);
    text += '\n';
    rt::Decision plain = d;  // the record's decision has no trace
    plain.explained = false;
    recordDecision.clear();
    rt::toJson(*bundle, plain, recordDecision);
    bool isJson = true;
    for (const rt::DecisionError& e : d.errors) isJson &= e.code != rt::errorCode(rt::DecisionErrorCode::MalformedJson);
    const std::string id = server::uuidv7(), time = server::wallClockMillis();
    server::appendRecord(records,
                         {.id = id,
                          .time = time,
                          .source = "eval",
                          .client = nullptr,
                          .input = input,
                          .inputIsJson = isJson,
                          .decision = recordDecision,
                          .evalNs = evalNs},
                         redaction);
    records += '\n';
    if (records.size() >= (1u << 20)) {
      if (!log->write(records, &logError)) return false;
      records.clear();
    }
    return true;
  };
  auto failed = [&](const std::string& error) {
    out.flush();
    printError(error);
    return kExitUsage;
  };
  // JSON Lines are decided in several threads, each with its own decider, and written in
  // input order. With a log, in this thread only: records are appended in time order.
  const unsigned jobs = log ? 1 : args.jobs ? args.jobs : availableCpus();
  // Without a log, a block's lines are decided grouped by request type (rt::decisionOrder:
  // the caches stay warm) and their answers written in input order.
  struct Grouped {
    std::vector<std::string_view> lines;
    std::vector<uint32_t> order;
    std::vector<std::pair<size_t, size_t>> answers;  // per line: offset and length in `text`
    std::string text;
  };
  auto makeWork = [&]() -> BlockWork {
    auto decider = std::make_shared<rt::Decider>(bundle);
    if (!log) {
      auto g = std::make_shared<Grouped>();
      return [&, decider, g](std::string_view block, std::string& text, std::string&) {
        g->lines.clear();
        forEachLine(block, [&](std::string_view line) {
          g->lines.push_back(line);
          return true;
        });
        rt::decisionOrder(g->lines, g->order);
        g->text.clear();
        g->answers.resize(g->lines.size());
        for (uint32_t i : g->order) {
          const size_t at = g->text.size();
          rt::toJson(*bundle, decider->decide(g->lines[i], args.explain), g->text);
          g->answers[i] = {at, g->text.size() - at};
        }
        for (const auto& [at, size] : g->answers) {
          text.append(g->text, at, size);
          text += '\n';
        }
        return true;
      };
    }
    return [&, decider](std::string_view block, std::string& text, std::string& error) {
      return forEachLine(block, [&](std::string_view line) {
        if (decide(*decider, line, text)) return true;
        error = logError;
        return false;
      });
    };
  };
  std::unique_ptr<rt::Decider> decider;  // for input files
  for (const std::string& input : inputs) {
    if (input == "-") {
      // JSON Lines: one decision per non-blank input line, malformed lines included.
      LineBlocks in(STDIN_FILENO);
      std::string error;
      if (!runBlocks(in, out, jobs, makeWork, error)) return failed(error);
      continue;
    }
    std::string text;
    if (auto err = readFile(input, text)) return failed(*err);
    if (!decider) decider = std::make_unique<rt::Decider>(bundle);
    if (!decide(*decider, text, out.buffer())) return failed(logError);
    if (!out.maybeFlush()) return failed(out.error());
  }
  if (!out.flush()) return failed(out.error());
  if (log && !records.empty() && !log->write(records, &logError)) return failed(logError);
  return kExitOk;
}

int runInspect(const BundleArgs& args) {
  auto bundle = openBundle(args);
  if (!bundle) return kExitUsage;
  std::cout << rt::inspect(*bundle);
  if (args.disasm) std::cout << "\n" << rt::disassemble(*bundle);
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
  cmd->add_option("--jobs,-j", eval->jobs,
                  "Threads deciding JSON Lines from stdin, the output staying in input order (default 0: one per "
                  "CPU; with --log, 1)")
      ->check(CLI::Range(0u, 256u));
  cmd->add_option("--public-key", eval->publicKeys,
                  "Ed25519 public key file (PEM, may hold several keys); repeatable; the bundle must be signed by one of them")
      ->allow_extra_args(false);
  cmd->add_option("--log", eval->log,
                  "Append a decision log record (SPEC 10.1) per decision to FILE (file:PATH, - for stdout, or an "
                  "http(s):// collector)");
  cmd->add_option("--log-redact", eval->logRedact,
                  "A value to hash in the log records, e.g. request.token (repeatable)")
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
