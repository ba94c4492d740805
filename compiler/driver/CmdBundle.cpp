// Commands over built bundles: `pave eval`, `pave inspect`, `pave verify`.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <pave/decision_log.h>
#include <pave/runtime.h>

#include <chrono>

#include "driver/Commands.h"
#include "pipeline/Files.h"

namespace pave::driver {
namespace {

struct BundleArgs {
  std::string bundle;
  std::vector<std::string> inputs;
  std::vector<std::string> publicKeys;  // files; each holds one or more Ed25519 public keys
  bool explain = false;
  bool disasm = false;
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

/// Reads JSON Lines from a file descriptor in large blocks and splits them itself: the
/// stream extraction of `std::getline(std::cin)` took most of an evaluation's time. A line
/// is everything up to `\n` (a `\r` before it stays: JSON reads it as whitespace); the last
/// line needs no newline; a line may be longer than a block (the buffer grows).
class LineReader {
 public:
  static constexpr size_t kBlock = size_t(1) << 20;

  explicit LineReader(int fd) : fd_(fd) { buf_.resize(kBlock); }

  /// The next line, valid until the next call; false at the end of the input or on a read
  /// error (then `error()` says which).
  bool next(std::string_view& line) {
    for (;;) {
      if (const void* nl = std::memchr(buf_.data() + scan_, '\n', end_ - scan_)) {
        size_t at = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
        line = std::string_view(buf_.data() + begin_, at - begin_);
        begin_ = scan_ = at + 1;
        return true;
      }
      scan_ = end_;
      if (eof_) {
        if (begin_ == end_) return false;
        line = std::string_view(buf_.data() + begin_, end_ - begin_);
        begin_ = scan_ = end_;
        return true;
      }
      fill();
    }
  }

  const std::string& error() const { return error_; }

 private:
  void fill() {
    if (begin_ > 0) {  // keep the unfinished line at the front
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      scan_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < kBlock / 2) buf_.resize(buf_.size() * 2);  // a very long line
    ssize_t n;
    do n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    while (n < 0 && errno == EINTR);
    if (n < 0) error_ = std::string("cannot read the standard input: ") + std::strerror(errno);
    if (n <= 0) eof_ = true;
    else end_ += static_cast<size_t>(n);
  }

  int fd_;
  std::string buf_;
  size_t begin_ = 0, scan_ = 0, end_ = 0;  // the unread line starts at begin_; no `\n` in [begin_, scan_)
  bool eof_ = false;
  std::string error_;
};

/// Collects output and writes it to a file descriptor in large blocks.
class BlockWriter {
 public:
  static constexpr size_t kBlock = size_t(1) << 20;

  explicit BlockWriter(int fd) : fd_(fd) { buf_.reserve(kBlock + 64 * 1024); }
  std::string& buffer() { return buf_; }
  /// Writes the buffer out once it holds a block; false on a write error.
  bool maybeFlush() { return buf_.size() < kBlock || flush(); }
  bool flush() {
    size_t done = 0;
    while (done < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = std::string("cannot write the standard output: ") + std::strerror(errno);
        buf_.clear();
        return false;
      }
      done += static_cast<size_t>(n);
    }
    buf_.clear();
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  int fd_;
  std::string buf_;
  std::string error_;
};

int runEval(const BundleArgs& args) {
  auto bundle = openBundle(args);
  if (!bundle) return kExitUsage;
  rt::Decider decider(bundle);
  std::vector<std::string> inputs = args.inputs.empty() ? std::vector<std::string>{"-"} : args.inputs;
  // The decision log (SPEC §10.1): one record per decision, as `pave serve` writes them.
  std::unique_ptr<server::Sink> log;
  server::Redaction redaction;
  std::string records, record_decision, why;
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
  std::string log_error;
  auto decide = [&](std::string_view input) {
    auto t0 = std::chrono::steady_clock::now();
    const rt::Decision& d = decider.decide(input, args.explain);
    const int64_t eval_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    rt::toJson(*bundle, d, out.buffer());
    out.buffer() += '\n';
    if (log) {
      rt::Decision plain = d;  // the record's decision has no trace
      plain.explained = false;
      record_decision.clear();
      rt::toJson(*bundle, plain, record_decision);
      bool is_json = true;
      for (const rt::DecisionError& e : d.errors)
        is_json &= e.code != rt::errorCode(rt::DecisionErrorCode::MalformedJson);
      const std::string id = server::uuidv7(), time = server::wallClockMillis();
      server::appendRecord(records,
                           {.id = id, .time = time, .source = "eval", .client = nullptr, .input = input,
                            .input_is_json = is_json, .decision = record_decision, .eval_ns = eval_ns},
                           redaction);
      records += '\n';
      if (records.size() >= (1u << 20)) {
        if (!log->write(records, &log_error)) return false;
        records.clear();
      }
    }
    return out.maybeFlush();
  };
  auto failed = [&](const std::string& error) {
    out.flush();
    printError(error);
    return kExitUsage;
  };
  for (const std::string& input : inputs) {
    if (input == "-") {
      // JSON Lines: one decision per non-blank input line, malformed lines included.
      LineReader in(STDIN_FILENO);
      std::string_view line;
      while (in.next(line)) {
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        if (!decide(line)) return failed(log_error.empty() ? out.error() : log_error);
      }
      if (!in.error().empty()) return failed(in.error());
      continue;
    }
    std::string text;
    if (auto err = readFile(input, text)) return failed(*err);
    if (!decide(text)) return failed(log_error.empty() ? out.error() : log_error);
  }
  if (!out.flush()) return failed(out.error());
  if (log && !records.empty() && !log->write(records, &log_error)) return failed(log_error);
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
