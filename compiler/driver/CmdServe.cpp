// `pave serve`: the decision service (SPEC §10.2). Options come from the command line and
// from the `[serve]` and `[log]` tables of a pave.toml (`--config`); the command line wins.
#include <pave/server.h>

#include <filesystem>
#include <toml++/toml.h>

#include "driver/Commands.h"

namespace pave::driver {
namespace {

// "100MiB", "512KiB", "1GiB", "4096" (bytes); KB/MB/GB are read as the binary units too.
std::optional<uint64_t> parseSize(std::string text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return std::nullopt;
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  uint64_t scale = unit.empty() || unit == "b"                   ? 1
                   : unit == "kib" || unit == "kb" || unit == "k" ? 1ull << 10
                   : unit == "mib" || unit == "mb" || unit == "m" ? 1ull << 20
                   : unit == "gib" || unit == "gb" || unit == "g" ? 1ull << 30
                                                                  : 0;
  if (!scale) return std::nullopt;
  return n * scale;
}

// "30s", "5m", "1h", "500ms", "2" (seconds) → milliseconds.
std::optional<int64_t> parseMillis(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12) return std::nullopt;
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  int64_t scale = unit == "ms" ? 1 : unit.empty() || unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
  if (!scale) return std::nullopt;
  return n * scale;
}

struct ServeArgs {
  server::ServeOptions o;
  std::string config;
  std::string logRotate = "100MiB", logBuffer = "64MiB", maxBody = "1MiB", poll = "30s", readTimeout = "5s",
              writeTimeout = "5s", logFull = "drop";
};

// Reads `[serve]` and `[log]` from `path` into `args` (relative paths are relative to the
// file's folder). Returns an error message, if any.
std::optional<std::string> readConfig(const std::string& path, ServeArgs& a, const CLI::App& cmd) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto rel = [&](const std::string& p) {
    return p.empty() || p.rfind("http://", 0) == 0 || p.rfind("https://", 0) == 0 || p == "-" ||
                   std::filesystem::path(p).is_absolute()
               ? p
               : (dir / p).string();
  };
  std::optional<std::string> error;
  auto given = [&](const char* flag) { return cmd.count(flag) > 0; };
  auto str = [&](const toml::table& tab, const char* key, const char* flag, std::string& out, bool isPath) {
    if (auto v = tab[key]) {
      auto s = v.value<std::string>();
      if (!s)
        error = std::string(key);
      else if (!given(flag))
        out = isPath ? rel(*s) : *s;
    }
  };
  if (auto* serve = t["serve"].as_table()) {
    static const char* kKnown[] = {"bundle", "public_key", "allow_unsigned", "listen", "log", "log_rotate",
                                   "log_keep", "log_full", "log_buffer", "poll", "tls_cert", "tls_key", "client_ca",
                                   "token_file", "max_body", "read_timeout", "write_timeout", "max_connections"};
    for (auto& [key, value] : *serve)
      if (std::find(std::begin(kKnown), std::end(kKnown), key.str()) == std::end(kKnown))
        return path + ": [serve] has no option `" + std::string(key.str()) + "`";
    std::string bundle = a.o.bundle;
    str(*serve, "bundle", "--bundle", bundle, true);
    a.o.bundle = bundle;
    std::string log = a.o.log;
    if (auto v = (*serve)["log"]; v && v.value<std::string>() && !given("--log")) {
      std::string s = *v.value<std::string>();
      log = s.rfind("file:", 0) == 0 ? "file:" + rel(s.substr(5)) : rel(s);
    }
    a.o.log = log;
    str(*serve, "listen", "--listen", a.o.listen, false);
    str(*serve, "log_rotate", "--log-rotate", a.logRotate, false);
    str(*serve, "log_full", "--log-full", a.logFull, false);
    str(*serve, "log_buffer", "--log-buffer", a.logBuffer, false);
    str(*serve, "poll", "--poll", a.poll, false);
    str(*serve, "tls_cert", "--tls-cert", a.o.tlsCert, true);
    str(*serve, "tls_key", "--tls-key", a.o.tlsKey, true);
    str(*serve, "client_ca", "--client-ca", a.o.clientCa, true);
    str(*serve, "token_file", "--token-file", a.o.tokenFile, true);
    str(*serve, "max_body", "--max-body", a.maxBody, false);
    str(*serve, "read_timeout", "--read-timeout", a.readTimeout, false);
    str(*serve, "write_timeout", "--write-timeout", a.writeTimeout, false);
    if (error) return path + ": [serve] " + *error + " must be a string";
    if (auto v = (*serve)["public_key"]; v && !given("--public-key")) {
      if (auto s = v.value<std::string>())
        a.o.publicKeyFiles = {rel(*s)};
      else if (auto* arr = v.as_array()) {
        for (auto& e : *arr) {
          auto s = e.value<std::string>();
          if (!s) return path + ": [serve] public_key must be a string or a list of strings";
          a.o.publicKeyFiles.push_back(rel(*s));
        }
      } else {
        return path + ": [serve] public_key must be a string or a list of strings";
      }
    }
    if (auto v = (*serve)["allow_unsigned"]; v && !given("--allow-unsigned")) {
      if (!v.value<bool>()) return path + ": [serve] allow_unsigned must be true or false";
      a.o.allowUnsigned = *v.value<bool>();
    }
    if (auto v = (*serve)["log_keep"]; v && !given("--log-keep")) {
      if (!v.value<int64_t>()) return path + ": [serve] log_keep must be a number";
      a.o.logKeep = int(*v.value<int64_t>());
    }
    if (auto v = (*serve)["max_connections"]; v && !given("--max-connections")) {
      if (!v.value<int64_t>()) return path + ": [serve] max_connections must be a number";
      a.o.maxConnections = int(*v.value<int64_t>());
    }
  }
  if (auto* log = t["log"].as_table()) {
    if (auto v = (*log)["redact"]; v && !given("--log-redact")) {
      auto* arr = v.as_array();
      if (!arr) return path + ": [log] redact must be a list of strings";
      for (auto& e : *arr) {
        auto s = e.value<std::string>();
        if (!s) return path + ": [log] redact must be a list of strings";
        a.o.logRedact.push_back(*s);
      }
    }
  }
  return std::nullopt;
}

int runServe(ServeArgs& a, const CLI::App& cmd) {
  if (!a.config.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(a.config, ec)) {
      printError("--config " + a.config + ": no such file");
      return kExitUsage;
    }
    if (auto err = readConfig(a.config, a, cmd)) {
      printError(*err);
      return kExitUsage;
    }
  }
  auto size = [&](const std::string& text, const char* flag, auto& out) {
    auto v = parseSize(text);
    if (!v) printError(std::string(flag) + " `" + text + "`: expected a size such as 1MiB, 512KiB or 4096");
    else out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
    return v.has_value();
  };
  auto millis = [&](const std::string& text, const char* flag, int64_t& out) {
    auto v = parseMillis(text);
    if (!v) printError(std::string(flag) + " `" + text + "`: expected a duration such as 30s, 5m or 500ms");
    else out = *v;
    return v.has_value();
  };
  int64_t readMs = 0, writeMs = 0;
  if (!size(a.logRotate, "--log-rotate", a.o.logRotateBytes) ||
      !size(a.logBuffer, "--log-buffer", a.o.logBufferBytes) || !size(a.maxBody, "--max-body", a.o.maxBody) ||
      !millis(a.poll, "--poll", a.o.pollMs) || !millis(a.readTimeout, "--read-timeout", readMs) ||
      !millis(a.writeTimeout, "--write-timeout", writeMs))
    return kExitUsage;
  a.o.readTimeoutS = int(std::max<int64_t>(1, readMs / 1000));
  a.o.writeTimeoutS = int(std::max<int64_t>(1, writeMs / 1000));
  if (a.o.pollMs < 100) {
    printError("--poll must be at least 100ms");
    return kExitUsage;
  }
  if (a.logFull != "drop" && a.logFull != "deny") {
    printError("--log-full must be drop or deny");
    return kExitUsage;
  }
  a.o.logFullDeny = a.logFull == "deny";
  if (a.o.logFullDeny && a.o.log.empty()) {
    printError("--log-full deny needs a decision log (--log)");
    return kExitUsage;
  }
  return server::runServer(a.o);
}

}  // namespace

void registerServe(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Decision service over HTTP: hot reload, decision log, metrics");
  cmd->add_option("--bundle", a->o.bundle, "The bundle: a .pvb path or an http(s):// URL");
  cmd->add_option("--public-key", a->o.publicKeyFiles,
                  "Ed25519 public key file (PEM); repeatable, any listed key may sign")
      ->allow_extra_args(false);
  cmd->add_flag("--allow-unsigned", a->o.allowUnsigned,
                "Start without --public-key: bundle signatures are not checked");
  cmd->add_option("--listen", a->o.listen, "ADDR:PORT to listen on (default 127.0.0.1:8181)");
  cmd->add_option("--log", a->o.log, "Decision log: - (stdout), file:PATH or an http(s):// collector");
  cmd->add_option("--log-rotate", a->logRotate, "Rotate a file log at this size (default 100MiB)");
  cmd->add_option("--log-keep", a->o.logKeep, "Rotated log files kept (default 10)");
  cmd->add_option("--log-full", a->logFull,
                  "When the log cannot keep up: drop (records, counted) or deny (decisions; default drop)");
  cmd->add_option("--log-buffer", a->logBuffer, "Records buffered for the log at most (default 64MiB)");
  cmd->add_option("--log-redact", a->o.logRedact, "A value to hash in log records, e.g. request.token (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--poll", a->poll, "URL source: poll period, with jitter (default 30s)");
  cmd->add_option("--tls-cert", a->o.tlsCert, "TLS certificate (PEM)");
  cmd->add_option("--tls-key", a->o.tlsKey, "TLS private key (PEM)");
  cmd->add_option("--client-ca", a->o.clientCa, "Require client certificates signed by this CA (PEM)");
  cmd->add_option("--token-file", a->o.tokenFile,
                  "`name token` lines: /v1/* then requires Authorization: Bearer <token>");
  cmd->add_option("--max-body", a->maxBody, "Largest request body (default 1MiB; larger: 413)");
  cmd->add_option("--read-timeout", a->readTimeout, "Read timeout per request (default 5s)");
  cmd->add_option("--write-timeout", a->writeTimeout, "Write timeout per response (default 5s)");
  cmd->add_option("--max-connections", a->o.maxConnections,
                  "Connections served at once (default 64; more wait to be accepted)");
  cmd->add_option("--config", a->config, "A pave.toml with [serve] and [log] tables");
  cmd->add_option("--ready-file", a->o.readyFile, "Write the bound ADDR:PORT to this file once listening")->group("");
  cmd->callback([a, cmd, &exitCode] { exitCode = runServe(*a, *cmd); });
}

}  // namespace pave::driver
