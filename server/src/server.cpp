// `pave serve` (SPEC §10.2): HTTP/1.1 with keep-alive on cpp-httplib, one thread per
// connection from a bounded pool; decisions on the runtime's public API with one Decider
// per thread and bundle generation; the decision log; metrics; hot reload; signals.
#include "pave/server.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cerrno>

#include <pave/json_lines.h>
#include <pave/runtime.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "bundle_store.h"
#include "connection_pool.h"
#include "metrics.h"
#include "pave/decision_log.h"

namespace pave::server {
namespace {

using json = nlohmann::json;

bool readText(const std::string& path, std::string& out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

// `name token` per line; `#` comments and blank lines skipped. Tokens are kept hashed.
bool readTokens(const std::string& path, std::map<std::string, std::string>& byHash, std::string* error) {
  std::string text;
  if (!readText(path, text, error)) return false;
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    std::istringstream words(line);
    std::string name, token, extra;
    if (!(words >> name) || name[0] == '#') continue;
    if (!(words >> token) || (words >> extra)) {
      *error = path + ":" + std::to_string(n) + ": expected `name token`";
      return false;
    }
    if (token.size() < 16) {
      *error = path + ":" + std::to_string(n) + ": the token of `" + name + "` is shorter than 16 characters";
      return false;
    }
    byHash[sha256Hex(token)] = name;
  }
  if (byHash.empty()) {
    *error = path + ": no `name token` line (a token file that names no client would lock every client out)";
    return false;
  }
  return true;
}

const char* kOutcomeName[3] = {"allow", "approval", "deny"};

// A decision that the bundle did not make: no bundle yet, or a log that cannot take it.
std::string syntheticDeny(rt::DecisionErrorCode code, const std::string& message, const Generation* gen) {
  std::string bundle = "null";
  if (gen) {
    const rt::Bundle& m = gen->bundle->model();
    auto opt = [&](rt::StrId id) { return id == rt::kNone ? json(nullptr) : json(std::string(m.str(id))); };
    bundle = "{\"name\":" + opt(m.meta.name).dump() + ",\"revision\":" + opt(m.meta.revision).dump() +
             ",\"digest\":\"sha256:" + std::string(gen->bundle->digestHex()) + "\"" +
             (m.meta.dataDigest == rt::kNone ? "" : ",\"data_digest\":" + opt(m.meta.dataDigest).dump()) + "}";
  }
  return "{\"decision\":\"deny\",\"request_type\":null,\"rules\":[],\"deny_rules\":[],\"exceptions\":[],"
         "\"approvals\":[],\"grants\":{},\"reasons\":[],\"errors\":[{\"code\":" +
         json(rt::errorCode(code)).dump() + ",\"message\":" + json(message).dump() + "}],\"bundle\":" + bundle + "}";
}

class Service {
 public:
  Service(const ServeOptions& o, BundleStore& store, Metrics& metrics, DecisionLog* log, Redaction redaction,
          std::map<std::string, std::string> tokens)
      : o_(o), store_(store), metrics_(metrics), log_(log), redaction_(std::move(redaction)), tokens_(std::move(tokens)) {}

  // The bundle generation to decide with (null: none loaded yet); a request takes it once,
  // so that all the decisions of a batch are made by one bundle.
  std::shared_ptr<const Generation> generation() const { return store_.current(); }

  // Decides one input with `gen` and appends the response JSON (with `decision_id`) to `out`.
  // `w`: a worker of `gen` (leased from gen->workers); null without a generation.
  void decide(const std::shared_ptr<const Generation>& gen, Worker* w, std::string_view input, bool explain,
              const std::string* client, std::string& out) {
    const std::string id = uuidv7();
    std::string none, noneFull;
    std::string& decision = w ? w->decision : none;
    std::string& full = w ? w->full : noneFull;
    decision.clear();
    full.clear();
    int64_t evalNs = 0;
    bool inputIsJson = true;
    if (!gen) {
      decision = syntheticDeny(rt::DecisionErrorCode::NoBundle, "no bundle is loaded yet", nullptr);
      noBundle_.add();
    } else {
      rt::Decider& d = w->decider;
      auto t0 = std::chrono::steady_clock::now();
      const rt::Decision& dec = d.decide(input, explain);
      evalNs = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
      metrics_.duration.observe(uint64_t(evalNs));
      count(*gen, dec);
      for (const rt::DecisionError& e : dec.errors)
        if (e.code == rt::errorCode(rt::DecisionErrorCode::MalformedJson)) inputIsJson = false;
      if (explain) {
        rt::toJson(*gen->bundle, dec, full);
        rt::Decision plain = dec;
        plain.explained = false;
        rt::toJson(*gen->bundle, plain, decision);
      } else {
        rt::toJson(*gen->bundle, dec, decision);
      }
    }
    if (log_) {
      std::string record;
      std::string time = wallClockMillis();
      appendRecord(record,
                   {.id = id,
                    .time = time,
                    .source = "serve",
                    .client = client,
                    .input = input,
                    .inputIsJson = inputIsJson,
                    .decision = decision,
                    .evalNs = evalNs},
                   redaction_);
      if (!log_->submit(record) && o_.logFullDeny) {
        // Fail closed: no decision is given without its record.
        decision = syntheticDeny(rt::DecisionErrorCode::DecisionLogUnavailable,
                                 "the decision log cannot take the record (" + log_->describe() + ")", gen.get());
        full.clear();
        logDenied_.add();
      }
    }
    std::string_view body = full.empty() ? decision : full;
    body.remove_suffix(1);  // the closing brace: decision_id is the last member
    out += body;
    out += ",\"decision_id\":\"";
    out += id;
    out += "\"}";
  }

  // Who is asking: the token's name, or, with client certificates, the certificate's
  // common name. False (401) when tokens are required and none matches.
  bool authenticate(const httplib::Request& req, std::optional<std::string>& client) {
    if (!tokens_.empty()) {
      std::string auth = req.get_header_value("Authorization");
      if (auth.rfind("Bearer ", 0) != 0) return false;
      auto it = tokens_.find(sha256Hex(auth.substr(7)));
      if (it == tokens_.end()) return false;
      client = it->second;
      return true;
    }
    if (req.ssl) {
      X509* cert = SSL_get1_peer_certificate(req.ssl);
      if (cert) {
        char cn[256] = {0};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) client = cn;
        X509_free(cert);
      }
    }
    return true;
  }

  std::string metricsText() {
    std::string out;
    metrics_.decisions.render(out);
    metrics_.inputErrors.render(out);
    metrics_.ruleMatches.render(out);
    metrics_.exceptionUses.render(out);
    auto gen = store_.current();
    out += "# HELP pave_exception_expiry_timestamp_seconds When each exception of the current bundle expires.\n"
           "# TYPE pave_exception_expiry_timestamp_seconds gauge\n";
    if (gen) {
      const rt::Bundle& m = gen->bundle->model();
      for (const rt::Rule& r : m.rules)
        if (r.effect == rt::Effect::Exception) {
          out += "pave_exception_expiry_timestamp_seconds{exception=\"";
          appendLabelValue(out, std::string(m.str(r.name)));
          out += "\"} " + std::to_string(r.until) + "\n";
        }
    }
    metrics_.duration.render(out, "pave_decision_duration_seconds", "Time to decide, server side, in seconds.");
    out += "# HELP pave_bundle_info The bundle being served.\n# TYPE pave_bundle_info gauge\n";
    if (gen) {
      const rt::Bundle& m = gen->bundle->model();
      auto s = [&](rt::StrId id) { return id == rt::kNone ? std::string() : std::string(m.str(id)); };
      out += "pave_bundle_info{name=\"";
      appendLabelValue(out, s(m.meta.name));
      out += "\",revision=\"";
      appendLabelValue(out, s(m.meta.revision));
      out += "\",digest=\"sha256:" + std::string(gen->bundle->digestHex()) + "\"} 1\n";
    }
    out += "# HELP pave_bundle_signed Whether the bundle's signature was verified with a configured key (1) or not "
           "checked (0).\n# TYPE pave_bundle_signed gauge\n";
    out += std::string("pave_bundle_signed ") + (gen && !gen->bundle->signerKeyHex().empty() ? "1" : "0") + "\n";
    out += "# HELP pave_bundle_loaded_timestamp_seconds When the current bundle was loaded (0: none yet).\n"
           "# TYPE pave_bundle_loaded_timestamp_seconds gauge\n";
    char loaded[48];
    std::snprintf(loaded, sizeof loaded, "%.3f", gen ? double(gen->loadedAtMs) / 1000 : 0.0);
    out += std::string("pave_bundle_loaded_timestamp_seconds ") + loaded + "\n";
    metrics_.reloadFailures.render(out);
    out += "# HELP pave_decision_log_records_total Decision log records written.\n"
           "# TYPE pave_decision_log_records_total counter\n";
    out += "pave_decision_log_records_total " + std::to_string(log_ ? log_->records() : 0) + "\n";
    out += "# HELP pave_decision_log_dropped_total Decision log records dropped (buffer full or sink failing).\n"
           "# TYPE pave_decision_log_dropped_total counter\n";
    out += "pave_decision_log_dropped_total " + std::to_string(log_ ? log_->dropped() : 0) + "\n";
    out += "# HELP pave_decisions_no_bundle_total Decisions denied because no bundle was loaded yet.\n"
           "# TYPE pave_decisions_no_bundle_total counter\n";
    out += "pave_decisions_no_bundle_total " + std::to_string(noBundle_.get()) + "\n";
    out += "# HELP pave_decisions_log_unavailable_total Decisions denied because the decision log could not take "
           "their record.\n# TYPE pave_decisions_log_unavailable_total counter\n";
    out += "pave_decisions_log_unavailable_total " + std::to_string(logDenied_.get()) + "\n";
    metrics_.httpRequests.render(out);
    return out;
  }

 private:
  void count(const Generation& gen, const rt::Decision& d) {
    if (d.requestType != rt::kNone && d.requestType < gen.decisions.size())
      gen.decisions[d.requestType][size_t(d.outcome)]->add();
    else
      metrics_.decisions.get({"", kOutcomeName[size_t(d.outcome)]})->add();
    for (const rt::DecisionError& e : d.errors)
      if (e.rule == rt::kNone && !e.path.empty()) metrics_.inputErrors.get({e.code})->add();
    for (uint32_t r : d.rules) gen.ruleMatches[r]->add();
    for (uint32_t r : d.denyRules) gen.ruleMatches[r]->add();
    for (uint32_t r : d.exceptions) gen.exceptionUses[r]->add();
  }

  const ServeOptions& o_;
  BundleStore& store_;
  Metrics& metrics_;
  DecisionLog* log_;
  Redaction redaction_;
  std::map<std::string, std::string> tokens_;  // SHA-256 of the token → client name
  Counter noBundle_, logDenied_;
};

int g_signal_pipe[2] = {-1, -1};

void onSignal(int sig) {
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &byte, 1);  // async-signal-safe
}

bool splitListen(const std::string& listen, std::string& host, int& port, std::string* error) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    *error = "--listen `" + listen + "`: expected ADDR:PORT (e.g. 127.0.0.1:8181)";
    return false;
  }
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    *error = "--listen `" + listen + "`: the port must be a number from 0 to 65535";
    return false;
  }
  return true;
}

}  // namespace

int runServer(const ServeOptions& o) {
  std::string error;
  auto usage = [&](const std::string& m) {
    std::fprintf(stderr, "pave: error: %s\n", m.c_str());
    return 2;
  };
  if (o.bundle.empty()) return usage("--bundle is required (a .pvb path or an http(s):// URL)");
  // No bypass: a bundle is trusted only through a configured key, unless explicitly not.
  StoreOptions so;
  so.source = o.bundle;
  so.pollMs = o.pollMs;
  for (const std::string& path : o.publicKeyFiles) {
    std::string pem;
    if (!readText(path, pem, &error)) return usage(error);
    if (!rt::checkPublicKeys(pem, nullptr, &error)) return usage(path + ": " + error);
    so.publicKeysPem.push_back(std::move(pem));
  }
  if (so.publicKeysPem.empty() && !o.allowUnsigned)
    return usage("refusing to start without --public-key: bundles would be used without checking who signed them "
                 "(pass --allow-unsigned to accept that)");
  if (so.publicKeysPem.empty())
    std::fprintf(stderr, "pave serve: warning: --allow-unsigned: bundle signatures are not checked "
                         "(pave_bundle_signed 0)\n");
  std::string host;
  int port = 0;
  if (!splitListen(o.listen, host, port, &error)) return usage(error);
  if (o.tlsCert.empty() != o.tlsKey.empty()) return usage("--tls-cert and --tls-key go together");
  if (!o.clientCa.empty() && o.tlsCert.empty()) return usage("--client-ca needs --tls-cert and --tls-key");
  std::map<std::string, std::string> tokens;
  if (!o.tokenFile.empty() && !readTokens(o.tokenFile, tokens, &error)) return usage(error);
  Redaction redaction;
  for (const std::string& path : o.logRedact)
    if (!redaction.add(path, &error)) return usage(error);
  if (o.maxConnections < 1) return usage("--max-connections must be at least 1");
#if defined(__GLIBC__)
  // Blocks of 128 KiB and more (batch bodies and answers, decision log buffers) come from
  // the system and go back to it when freed. By default the threshold rises with the
  // largest block freed, and such blocks then stay in the allocator's per-thread arenas:
  // the resident memory of a long-running server crept up by a third in ten minutes.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif

  // Signals become bytes on a pipe, read by the main thread below, which turns them into
  // reloads and a graceful stop (handlers, not masks: threads that other libraries start
  // before this point would not have the mask).
  if (::pipe(g_signal_pipe) != 0) return usage("cannot create a pipe for signals");
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaction(s, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<DecisionLog> log;
  if (!o.log.empty()) {
    SinkOptions sinkOpts;
    sinkOpts.rotateBytes = o.logRotateBytes;
    sinkOpts.keep = o.logKeep;
    auto sink = openSink(o.log, sinkOpts, &error);
    if (!sink) return usage(error);
    log = std::make_unique<DecisionLog>(std::move(sink), o.logBufferBytes);
  }

  Metrics metrics;
  BundleStore store(so, metrics);
  store.reload(true);  // a failure is logged; decisions deny with `no-bundle` until one loads

  std::unique_ptr<httplib::Server> http;
  if (!o.tlsCert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(o.tlsCert.c_str(), o.tlsKey.c_str(),
                                                    o.clientCa.empty() ? nullptr : o.clientCa.c_str());
    if (!tls->is_valid()) return usage("cannot use the TLS certificate, key or client CA (--tls-cert, --tls-key, --client-ca)");
    http = std::move(tls);
  } else {
    http = std::make_unique<httplib::Server>();
  }
  Service service(o, store, metrics, log.get(), std::move(redaction), std::move(tokens));
  const int threads = o.maxConnections;
  http->new_task_queue = [threads] { return new ConnectionPool(size_t(threads)); };
  http->set_keep_alive_max_count(100000);
  http->set_keep_alive_timeout(o.keepAliveS);
  http->set_read_timeout(o.readTimeoutS);
  http->set_write_timeout(o.writeTimeoutS);
  http->set_payload_max_length(o.maxBody);
  http->set_tcp_nodelay(true);

  auto counted = [&metrics](const char* endpoint, httplib::Response& res) {
    metrics.httpRequests.get({endpoint, std::to_string(res.status)})->add();
  };
  auto decideHandler = [&](bool batch) {
    return [&, batch](const httplib::Request& req, httplib::Response& res) {
      const char* endpoint = batch ? "/v1/decide/batch" : "/v1/decide";
      std::optional<std::string> client;
      if (!service.authenticate(req, client)) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer");
        res.set_content("{\"error\":\"unauthorized\"}\n", "application/json");
        return counted(endpoint, res);
      }
      const bool explain = req.get_param_value("explain") == "true";
      const std::string* who = client ? &*client : nullptr;
      std::string out;
      const std::shared_ptr<const Generation> gen = service.generation();
      std::optional<WorkerPool::Lease> lease;
      if (gen) lease.emplace(gen->workers, gen->bundle);
      Worker* w = lease ? &**lease : nullptr;
      if (!batch) {
        service.decide(gen, w, req.body, explain, who, out);
        out += '\n';
        res.set_content(out, "application/json");
      } else {
        // JSON Lines: one decision line per non-blank input line, in order (SPEC §7.2).
        // The lines are decided grouped by request type (rt::decisionOrder: the caches stay
        // warm), so their log records are in that order; the answers are in input order.
        std::vector<std::string_view> noLines;
        std::vector<uint32_t> noOrder;
        std::vector<std::pair<size_t, size_t>> noAnswers;
        auto& lines = w ? w->lines : noLines;
        auto& order = w ? w->order : noOrder;
        auto& answers = w ? w->answers : noAnswers;  // offset and length in `out`
        std::string_view body = req.body;
        size_t start = 0;
        lines.clear();
        while (start < body.size()) {
          size_t nl = body.find('\n', start);
          std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
          start = nl == std::string_view::npos ? body.size() : nl + 1;
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
          lines.push_back(line);
        }
        rt::decisionOrder(lines, order);
        answers.resize(lines.size());
        out.reserve(body.size() * 2);
        for (uint32_t i : order) {
          const size_t at = out.size();
          service.decide(gen, w, lines[i], explain, who, out);
          answers[i] = {at, out.size() - at};
        }
        std::string answer;
        answer.reserve(out.size() + lines.size());
        for (const auto& [at, size] : answers) {
          answer.append(out, at, size);
          answer += '\n';
        }
        res.body = std::move(answer);  // set_content would copy it
        res.set_header("Content-Type", "application/x-ndjson");
      }
      counted(endpoint, res);
    };
  };
  http->Post("/v1/decide", decideHandler(false));
  http->Post("/v1/decide/batch", decideHandler(true));
  http->Get("/v1/bundle", [&](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> client;
    if (!service.authenticate(req, client)) {
      res.status = 401;
      res.set_content("{\"error\":\"unauthorized\"}\n", "application/json");
      return counted("/v1/bundle", res);
    }
    auto gen = store.current();
    if (!gen) {
      res.status = 503;
      res.set_content("{\"error\":\"no bundle is loaded yet\"}\n", "application/json");
    } else {
      res.set_content(gen->infoJson + "\n", "application/json");
    }
    counted("/v1/bundle", res);
  });
  http->Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
    counted("/healthz", res);
  });
  http->Get("/readyz", [&](const httplib::Request&, httplib::Response& res) {
    if (store.current()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("no bundle loaded\n", "text/plain");
    }
    counted("/readyz", res);
  });
  http->Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.metricsText(), "text/plain; version=0.0.4; charset=utf-8");
  });
  http->set_error_handler([&](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413)
      res.set_content(
          "{\"error\":\"the request body is larger than --max-body (" + std::to_string(o.maxBody) + " bytes)\"}\n",
          "application/json");
    else if (res.status == 404)
      res.set_content("{\"error\":\"not found\"}\n", "application/json");
  });

  if (port == 0) {
    port = http->bind_to_any_port(host);
    if (port < 0) return usage("cannot listen on " + o.listen);
  } else if (!http->bind_to_port(host, port)) {
    return usage("cannot listen on " + o.listen + " (in use, or not an address of this machine)");
  }
  std::string bound = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  std::fprintf(stderr, "pave serve: listening on %s://%s (bundle source %s%s)\n", o.tlsCert.empty() ? "http" : "https",
               bound.c_str(), o.bundle.c_str(), log ? (", decision log " + log->describe()).c_str() : "");
  if (!o.readyFile.empty()) {
    std::ofstream(o.readyFile + ".tmp") << bound << "\n";
    std::rename((o.readyFile + ".tmp").c_str(), o.readyFile.c_str());
  }
  store.start();

  std::thread listener([&] { http->listen_after_bind(); });
  int sig = 0;
  for (;;) {
    unsigned char byte = 0;
    ssize_t n = ::read(g_signal_pipe[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    sig = n == 1 ? byte : SIGTERM;
    if (sig == SIGHUP) {
      std::fprintf(stderr, "pave serve: SIGHUP: reloading the bundle\n");
      store.reload(true);
      continue;
    }
    break;
  }
  std::fprintf(stderr, "pave serve: %s: finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  http->stop();       // stops accepting; the pool finishes the requests in flight
  listener.join();
  store.stop();
  int rc = 0;
  if (log) {
    if (!log->flush(30000)) {
      std::fprintf(stderr, "pave serve: the decision log could not be flushed within 30 s\n");
      rc = 1;
    }
    std::fprintf(stderr, "pave serve: decision log: %llu records written, %llu dropped\n",
                 (unsigned long long)log->records(), (unsigned long long)log->dropped());
  }
  std::fprintf(stderr, "pave serve: stopped\n");
  return rc;
}

}  // namespace pave::server
