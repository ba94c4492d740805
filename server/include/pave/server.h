// `pave serve`: the decision service of SPEC §10.2, built on the runtime's public API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pave::server {

struct ServeOptions {
  std::string bundle;                         // a path or an http(s):// URL
  std::vector<std::string> publicKeyFiles;    // repeatable; any listed key may sign
  bool allowUnsigned = false;                 // start without a key (signatures not checked)
  std::string listen = "127.0.0.1:8181";      // ADDR:PORT (port 0: any free port, printed)
  int64_t pollMs = 30000;                     // URL source: poll period
  // Decision log.
  std::string log;                            // "", "-", "file:PATH", "http(s)://…"
  uint64_t logRotateBytes = 100ull << 20;
  int logKeep = 10;
  bool logFullDeny = false;  // --log-full deny (else drop)
  size_t logBufferBytes = 64u << 20;
  std::vector<std::string> logRedact;  // paths such as request.token
  // Access and limits.
  std::string tlsCert, tlsKey, clientCa;
  std::string tokenFile;  // `name token` lines
  size_t maxBody = 1u << 20;
  int readTimeoutS = 5, writeTimeoutS = 5, keepAliveS = 5;
  int maxConnections = 64;  // served at once; more wait to be accepted
  std::string readyFile;    // written with the bound address once listening (tests)
};

// Runs until SIGTERM or SIGINT; returns the process exit code (0 after a graceful stop, 2
// when the options are unusable or the address cannot be bound).
int runServer(const ServeOptions& options);

}  // namespace pave::server
