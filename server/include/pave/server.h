// `pave serve`: the decision service of SPEC §10.2, built on the runtime's public API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pave::server {

struct ServeOptions {
  std::string bundle;                         // a path or an http(s):// URL
  std::vector<std::string> public_key_files;  // repeatable; any listed key may sign
  bool allow_unsigned = false;                // start without a key (signatures not checked)
  std::string listen = "127.0.0.1:8181";      // ADDR:PORT (port 0: any free port, printed)
  int64_t poll_ms = 30000;                    // URL source: poll period
  // Decision log.
  std::string log;                            // "", "-", "file:PATH", "http(s)://…"
  uint64_t log_rotate_bytes = 100ull << 20;
  int log_keep = 10;
  bool log_full_deny = false;                 // --log-full deny (else drop)
  size_t log_buffer_bytes = 64u << 20;
  std::vector<std::string> log_redact;        // paths such as request.token
  // Access and limits.
  std::string tls_cert, tls_key, client_ca;
  std::string token_file;                     // `name token` lines
  size_t max_body = 1u << 20;
  int read_timeout_s = 5, write_timeout_s = 5, keep_alive_s = 5;
  int max_connections = 64;                   // served at once; more wait to be accepted
  std::string ready_file;                     // written with the bound address once listening (tests)
};

// Runs until SIGTERM or SIGINT; returns the process exit code (0 after a graceful stop, 2
// when the options are unusable or the address cannot be bound).
int runServer(const ServeOptions& options);

}  // namespace pave::server
