// The server's message loop and dispatch (JSON-RPC 2.0, LSP 3.17 lifecycle).
#include "lsp/Server.h"

#include "lsp/Features.h"

namespace pave::lsp {

using json = nlohmann::json;

namespace {

constexpr auto kAnalysisQuietPeriod = std::chrono::milliseconds(400);
/// How long the editor must be idle (no message) before a partial snapshot is replaced by
/// a full build (which the analysis then waits for).
constexpr auto kFullBuildDelay = std::chrono::milliseconds(150);

bool validId(const json& id) { return id.is_string() || id.is_number_integer() || id.is_null(); }

}  // namespace

Server::Server(Transport& transport) : transport_(transport) {
  analysis_ = std::make_unique<AnalysisWorker>(
      kAnalysisQuietPeriod,
      [this](std::shared_ptr<const Snapshot> snap, AnalysisRun run) { onAnalysis(std::move(snap), std::move(run)); });
}

Server::~Server() {
  // `exit` must not wait for the analyzer: a run that does not stop promptly is left to
  // the process's exit (the worker, which its thread uses, is deliberately not freed).
  if (!analysis_->stop(std::chrono::milliseconds(300))) (void)analysis_.release();
  if (reader_.joinable()) reader_.detach();  // blocked on input that may never come
}

void Server::readLoop() {
  for (;;) {
    Incoming in;
    in.status = transport_.read(in.body);
    std::lock_guard<std::mutex> lock(queueMutex_);
    if (in.status == Transport::Read::End) {
      inputEnded_ = true;
      queueReady_.notify_all();
      return;
    }
    queue_.push_back(std::move(in));
    queueReady_.notify_all();
  }
}

std::optional<Server::Incoming> Server::next(bool wait, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(queueMutex_);
  auto ready = [this] { return !queue_.empty() || inputEnded_; };
  if (wait) queueReady_.wait(lock, ready);
  else if (timeout.count() > 0) queueReady_.wait_for(lock, timeout, ready);
  if (queue_.empty()) return std::nullopt;
  Incoming in = std::move(queue_.front());
  queue_.pop_front();
  return in;
}

int Server::run() {
  reader_ = std::thread([this] { readLoop(); });
  while (!exitCode_) {
    bool pending = false, deferred = false;
    for (const auto& [root, unit] : units_) {
      pending |= unit->dirty;
      deferred |= unit->needsFull;
    }
    std::optional<Incoming> in = next(/*wait=*/!pending && !deferred, pending ? std::chrono::milliseconds(0) : kFullBuildDelay);
    if (!in) {
      if (pending) {
        rebuildDirty();
        continue;
      }
      if (deferred) {
        completeDeferred();
        continue;
      }
      break;  // end of input without `exit`
    }
    dispatch(*in);
  }
  return exitCode_.value_or(1);
}

void Server::dispatch(const Incoming& in) {
  if (in.status == Transport::Read::BadFrame) {
    transport_.write(makeError(nullptr, rpc::kParseError, "message header without a valid Content-Length"));
    return;
  }
  json msg = json::parse(in.body, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) {
    transport_.write(makeError(nullptr, rpc::kParseError, "message is not valid JSON"));
    return;
  }
  json id = msg.is_object() && msg.contains("id") ? msg["id"] : json();
  if (!msg.is_object() || !validId(id) || msg.value("jsonrpc", "") != "2.0") {
    transport_.write(makeError(validId(id) ? id : json(), rpc::kInvalidRequest, "not a JSON-RPC 2.0 request"));
    return;
  }
  if (!msg.contains("method")) return;  // a response to a request of ours: none are sent
  if (!msg["method"].is_string()) {
    transport_.write(makeError(id, rpc::kInvalidRequest, "`method` must be a string"));
    return;
  }
  std::string method = msg["method"];
  json params = msg.contains("params") ? msg["params"] : json::object();
  if (msg.contains("id")) {
    handleRequest(id, method, params);
  } else {
    handleNotification(method, params);
  }
}

void Server::handleRequest(const json& id, const std::string& method, const json& params) {
  if (!initialized_ && method != "initialize") {
    transport_.write(makeError(id, rpc::kServerNotInitialized, "the server is not initialized yet"));
    return;
  }
  if (shutdown_) {
    transport_.write(makeError(id, rpc::kInvalidRequest, "the server is shutting down"));
    return;
  }
  try {
    std::optional<json> result = request(method, params);
    if (!result) {
      transport_.write(makeError(id, rpc::kMethodNotFound, "unknown method `" + method + "`"));
      return;
    }
    transport_.write(makeResponse(id, std::move(*result)));
  } catch (const json::exception& e) {
    transport_.write(makeError(id, rpc::kInvalidParams, std::string("invalid params: ") + e.what()));
  } catch (const std::exception& e) {
    transport_.write(makeError(id, rpc::kInternalError, std::string("internal error: ") + e.what()));
  }
}

std::optional<json> Server::request(const std::string& method, const json& params) {
  if (method == "initialize") {
    if (initialized_) throw std::runtime_error("`initialize` was already received");
    return initialize(params);
  }
  if (method == "shutdown") {
    shutdown_ = true;
    analysis_->cancelAll();
    return json(nullptr);
  }
  auto withDoc = [&](auto feature) -> json {
    std::optional<Target> t = target(params);
    if (!t) return nullptr;
    return feature(DocView{*t->snap, t->file});
  };
  if (method == "textDocument/hover")
    return withDoc([&](const DocView& d) { return hover(d, positionFrom(params.at("position"))); });
  if (method == "textDocument/definition")
    return withDoc([&](const DocView& d) { return definition(d, positionFrom(params.at("position"))); });
  if (method == "textDocument/completion")
    return withDoc([&](const DocView& d) { return completion(d, positionFrom(params.at("position"))); });
  if (method == "textDocument/documentSymbol") return withDoc([&](const DocView& d) { return documentSymbols(d); });
  if (method == "textDocument/formatting") return withDoc([&](const DocView& d) { return formatting(d); });
  if (method == "textDocument/codeAction") return withDoc([&](const DocView& d) { return codeActions(d, params); });
  return std::nullopt;
}

void Server::handleNotification(const std::string& method, const json& params) {
  if (method == "exit") {
    exitCode_ = shutdown_ ? 0 : 1;
    return;
  }
  if (!initialized_) return;  // notifications before `initialize` are dropped
  try {
    if (method == "initialized") return;
    if (method == "textDocument/didOpen") return didOpen(params);
    if (method == "textDocument/didChange") return didChange(params);
    if (method == "textDocument/didClose") return didClose(params);
    if (method == "workspace/didChangeWorkspaceFolders") return changeFolders(params);
    if (method == "workspace/didChangeWatchedFiles") return watchedFilesChanged(params);
    // didSave, $/cancelRequest, $/setTrace and others need nothing.
  } catch (const std::exception&) {
    // A malformed notification cannot be answered; it is ignored.
  }
}

json Server::initialize(const json& params) {
  initialized_ = true;
  if (params.contains("initializationOptions") && params["initializationOptions"].is_object())
    analysisEvents_ = params["initializationOptions"].value("analysisEvents", false);
  if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array()) {
    for (const json& f : params["workspaceFolders"]) addFolder(uriToPath(f.at("uri").get<std::string>()));
  } else if (params.contains("rootUri") && params["rootUri"].is_string()) {
    addFolder(uriToPath(params["rootUri"].get<std::string>()));
  } else if (params.contains("rootPath") && params["rootPath"].is_string()) {
    addFolder(params["rootPath"].get<std::string>());
  }
  json capabilities = {
      {"positionEncoding", "utf-16"},
      {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
      {"hoverProvider", true},
      {"definitionProvider", true},
      {"completionProvider", {{"triggerCharacters", {".", "@"}}, {"resolveProvider", false}}},
      {"documentSymbolProvider", true},
      {"documentFormattingProvider", true},
      {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
      {"workspace", {{"workspaceFolders", {{"supported", true}, {"changeNotifications", true}}}}},
  };
  return {{"capabilities", capabilities}, {"serverInfo", {{"name", "pave"}, {"version", PAVE_VERSION}}}};
}

}  // namespace pave::lsp
