// The Pave language server: lifecycle, dispatch and the scheduling of compilations.
//
// One thread reads messages into a queue; the main thread handles them in order and,
// whenever the queue runs dry with edits pending, rebuilds the changed units and publishes
// front-end diagnostics (so a burst of keystrokes costs one compilation). An edit that
// leaves the edited file's declarations as they were re-checks that file alone (a partial
// snapshot); the full build follows once no message arrived for a short while. A third thread
// runs the analyzer on the latest error-free program after a quiet period; a newer edit
// cancels it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "lsp/AnalysisWorker.h"
#include "lsp/Documents.h"
#include "lsp/Features.h"
#include "lsp/StableFindings.h"
#include "lsp/Transport.h"
#include "lsp/Workspace.h"

namespace pave::lsp {

class Server {
 public:
  explicit Server(Transport& transport);
  ~Server();

  /// Serves until `exit` or the end of input; returns the process exit code (0 after a
  /// proper shutdown, 1 otherwise).
  int run();

 private:
  using json = nlohmann::json;
  struct Incoming {
    Transport::Read status;
    std::string body;
  };

  void readLoop();
  /// The next message: waits for one when `wait`, at most `timeout` when it is not zero.
  std::optional<Incoming> next(bool wait, std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  void dispatch(const Incoming& in);
  void handleRequest(const json& id, const std::string& method, const json& params);
  void handleNotification(const std::string& method, const json& params);
  /// The result of a request; nullopt for an unknown method.
  std::optional<json> request(const std::string& method, const json& params);

  // Lifecycle and workspace.
  json initialize(const json& params);
  void addFolder(const std::string& path);
  void removeFolder(const std::string& path);
  void changeFolders(const json& params);
  void watchedFilesChanged(const json& params);
  Unit* unitFor(const std::string& path, bool create);
  void dropSingleFileUnit(const std::string& path);

  // Documents and diagnostics.
  void didOpen(const json& params);
  void didChange(const json& params);
  void didClose(const json& params);
  void markDirty(const std::string& path);
  void rebuildDirty();
  /// Full builds of the units whose latest snapshot is partial (the editor is idle).
  void completeDeferred();
  void rebuild(Unit& unit, bool allowPartial);
  struct Published {
    std::shared_ptr<const Snapshot> snap;  // the unit's latest snapshot
    std::set<std::string> uris;            // documents with diagnostics published from it
    /// The last completed analysis: published (mapped onto `snap`) until a newer one completes.
    std::shared_ptr<const StableFindings> findings;
  };
  /// Publishes the diagnostics of every file of `state.snap` (front end, then the findings)
  /// that changed since last sent. Requires `publishMutex_`.
  void publishLocked(Published& state);
  void publish(std::shared_ptr<const Snapshot> snap);
  void onAnalysis(std::shared_ptr<const Snapshot> snap, AnalysisRun run);

  /// The snapshot and file of an open document, rebuilt first if edits are pending.
  struct Target {
    std::shared_ptr<const Snapshot> snap;
    FileId file;
  };
  std::optional<Target> target(const json& params);

  Transport& transport_;
  std::mutex queueMutex_;
  std::condition_variable queueReady_;
  std::deque<Incoming> queue_;
  bool inputEnded_ = false;
  std::thread reader_;

  bool initialized_ = false;
  bool shutdown_ = false;
  std::optional<int> exitCode_;
  DocumentStore docs_;
  std::map<std::string, std::unique_ptr<Unit>> units_;  // by root
  uint64_t generation_ = 0;
  std::mutex publishMutex_;  // guards `published_` and `lastSent_` (the analysis thread publishes too)
  std::map<std::string, Published> published_;   // by unit root
  std::map<std::string, std::string> lastSent_;  // URI → last published diagnostics
  /// Per URI, what its last publication was made of: a file whose text, front-end
  /// diagnostics and findings are all unchanged is skipped without mapping or serializing.
  struct Inputs {
    std::string text;
    std::string frontEnd;
    std::string findings;  // the digest of the findings shown, with the texts they point into
  };
  std::map<std::string, Inputs> inputs_;
  /// Per URI: the text of each finding published, by what it says (diagnosticTextKey).
  std::map<std::string, std::unordered_map<std::string, DiagnosticText>> findingTexts_;
  bool analysisEvents_ = false;  // initializationOptions.analysisEvents: `pave/analysis` and `pave/build` notifications
  std::string lastConfigError_;
  std::unique_ptr<AnalysisWorker> analysis_;
};

}  // namespace pave::lsp
