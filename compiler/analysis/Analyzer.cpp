// The scheduler: builds the plan, runs the jobs on one thread per core (each with its own
// Z3 context and VM decider), then reports the findings in a deterministic order.
#include "analysis/Analyzer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "analysis/Cache.h"
#include "analysis/Findings.h"

namespace pave::analysis {

/// A job's finding as kept between analyses: rules and request types by name, the witness
/// serialized (empty: none).
struct StoredFinding {
  DiagKind kind;
  std::string rule, type, message;
  std::vector<std::string> related, notes;
  std::string witness;
};

struct Session::State {
  std::string directory, repository;
  std::mutex mutex;  // guards what follows (jobs run on several threads)
  std::unique_ptr<QueryCache> cache;
  bool loaded = false;
  bool dirty = false;  // the cache gained entries since the last save
  /// Job key → findings; after each analysis only the keys it used are kept.
  using Stored = std::shared_ptr<const std::vector<StoredFinding>>;
  std::unordered_map<std::string, Stored> jobs;
  std::unordered_map<std::string, Stored> used;  // in the running analysis

  QueryCache* queryCache() {
    std::lock_guard<std::mutex> lock(mutex);
    if (!loaded && !directory.empty()) cache = std::make_unique<QueryCache>(directory, repository);
    loaded = true;
    return cache.get();
  }
};

Session::Session(std::string cacheDirectory, std::string repository) : state_(std::make_unique<State>()) {
  state_->directory = std::move(cacheDirectory);
  state_->repository = std::move(repository);
}

Session::~Session() = default;

void Session::save() {
  QueryCache* cache;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->dirty || !state_->cache) return;
    state_->dirty = false;
    cache = state_->cache.get();
  }
  cache->save();
}

namespace {

struct Job {
  enum Kind { Rule, Exception, Type } kind;
  uint32_t index;
};

// The job cache: a job's findings, keyed by everything they can depend on (the solver
// budget, the job's rule, and per target type its schema and every rule of the type in
// source order), so that re-checking an unchanged repository encodes and solves nothing.
// Findings refer to rules by name. Jobs with an inconclusive finding are not cached (a
// budget may suffice next time); the entry lists the job's query keys, which stay cached.
class JobCache {
 public:
  JobCache(const sema::CheckedProgram& p, const Plan& plan, const Fingerprints& fp, QueryCache* cache,
           Session::State* session)
      : p_(p), plan_(plan), fp_(fp), cache_(cache), session_(session) {
    for (uint32_t t = 0; t < p.requests.size(); ++t) {
      std::string text = fp.types[t];
      for (sema::RuleId r : plan.rulesOf[t]) text += "\n" + fp.rules[r.value];
      typeHash_.push_back(contentHash(text));
    }
    for (uint32_t i = 0; i < p.rules.size(); ++i) rules_.emplace(p.rules[i].name, sema::RuleId{i});
    for (uint32_t i = 0; i < p.requests.size(); ++i) types_.emplace(p.requests[i].name, sema::RequestId{i});
  }

  std::string key(const Job& job) const {
    std::string text = fp_.options + "\njob " + std::to_string(int(job.kind));
    if (job.kind == Job::Type) return contentHash(text + "\n" + typeHash_[job.index]);
    text += "\n" + fp_.rules[job.index];
    for (sema::RequestId t : plan_.typesOf(sema::RuleId{job.index})) text += "\n" + typeHash_[t.value];
    return contentHash(text);
  }

  /// The findings of a job whose key was seen before (in this session or in the cache file),
  /// with the witnesses serialized (`witnesses[i]` for `findings[i]`).
  std::optional<std::vector<Finding>> find(const std::string& key, std::vector<std::string>& witnesses) {
    Session::State::Stored stored;
    if (session_) {
      std::lock_guard<std::mutex> lock(session_->mutex);
      auto it = session_->jobs.find(key);
      if (it != session_->jobs.end()) {
        stored = it->second;
        session_->used.emplace(key, it->second);
      }
    }
    if (!stored) {
      stored = load(key);
      if (!stored) return std::nullopt;
      if (session_) {
        std::lock_guard<std::mutex> lock(session_->mutex);
        session_->used.emplace(key, stored);
      }
    }
    std::vector<Finding> out;
    witnesses.clear();
    for (const StoredFinding& f : *stored) {
      Finding x{{f.kind, f.message}, std::nullopt, std::nullopt, {}, f.notes, std::nullopt};  // rendered when cached
      if (!f.rule.empty()) {
        auto it = rules_.find(f.rule);
        if (it == rules_.end()) return std::nullopt;
        x.rule = it->second;
      }
      if (!f.type.empty()) {
        auto it = types_.find(f.type);
        if (it == types_.end()) return std::nullopt;
        x.type = it->second;
      }
      for (const std::string& r : f.related) {
        auto it = rules_.find(r);
        if (it == rules_.end()) return std::nullopt;
        x.related.push_back(it->second);
      }
      out.push_back(std::move(x));
      witnesses.push_back(f.witness);
    }
    return out;
  }

  void store(const std::string& key, const std::vector<Finding>& findings, const std::vector<std::string>& queries) {
    nlohmann::json list = nlohmann::json::array();
    std::vector<StoredFinding> stored;
    for (const Finding& f : findings) {
      if (f.kind == DiagKind::AnalysisInconclusive) return;
      stored.push_back({f.kind,
                        f.rule ? p_.rule(*f.rule).name : std::string(),
                        f.type ? p_.requests[f.type->value].name : std::string(),
                        f.message,
                        {},
                        f.notes,
                        f.witness ? f.witness->dump() : std::string()});
      for (sema::RuleId r : f.related) stored.back().related.push_back(p_.rule(r).name);
      nlohmann::json x = {{"code", diagInfo(f.kind).code}, {"message", f.message}};
      if (f.rule) x["rule"] = p_.rule(*f.rule).name;
      if (f.type) x["type"] = p_.requests[f.type->value].name;
      if (!f.related.empty()) {
        x["related"] = nlohmann::json::array();
        for (sema::RuleId r : f.related) x["related"].push_back(p_.rule(r).name);
      }
      if (!f.notes.empty()) x["notes"] = f.notes;
      if (f.witness) x["witness"] = *f.witness;
      list.push_back(std::move(x));
    }
    if (cache_) {
      nlohmann::json entry = {{"findings", std::move(list)}, {"queries", queries}};
      cache_->store(key, {Answer::Sat, entry.dump()});
    }
    if (session_) {
      std::lock_guard<std::mutex> lock(session_->mutex);
      session_->used[key] = std::make_shared<const std::vector<StoredFinding>>(std::move(stored));
      session_->dirty = true;
    }
  }

 private:
  Session::State::Stored load(const std::string& key) {
    if (!cache_) return nullptr;
    std::optional<CachedResult> hit = cache_->find(key);
    if (!hit) return nullptr;
    nlohmann::json entry = nlohmann::json::parse(hit->witness, nullptr, false);
    if (!entry.is_object() || !entry["findings"].is_array() || !entry["queries"].is_array()) return nullptr;
    auto out = std::make_shared<std::vector<StoredFinding>>();
    for (const nlohmann::json& f : entry["findings"]) {
      if (!f.is_object()) return nullptr;
      std::optional<DiagKind> kind = diagKindFromCode(f.value("code", ""));
      if (!kind) return nullptr;
      StoredFinding x{*kind, {}, {}, f.value("message", ""), {}, {}, {}};
      if (f.contains("rule")) x.rule = f["rule"].get<std::string>();
      if (f.contains("type")) x.type = f["type"].get<std::string>();
      for (const nlohmann::json& r : f.value("related", nlohmann::json::array()))
        x.related.push_back(r.get<std::string>());
      for (const nlohmann::json& n : f.value("notes", nlohmann::json::array())) x.notes.push_back(n.get<std::string>());
      if (f.contains("witness")) x.witness = f["witness"].dump();
      out->push_back(std::move(x));
    }
    for (const nlohmann::json& q : entry["queries"]) cache_->touch(q.get<std::string>());
    return out;
  }

  const sema::CheckedProgram& p_;
  const Plan& plan_;
  const Fingerprints& fp_;
  QueryCache* cache_;  // null: none (in a session, findings are still kept in memory)
  Session::State* session_;
  std::vector<std::string> typeHash_;
  std::map<std::string, sema::RuleId> rules_;
  std::map<std::string, sema::RequestId> types_;
};

/// `witness`: the finding's witness serialized, when it came so from the cache.
void report(const sema::CheckedProgram& p, DiagnosticEngine& diags, const Finding& f, const std::string* witness) {
  SourceRange range;
  if (f.rule) {
    const sema::RuleInfo& r = p.rule(*f.rule);
    if (std::find(r.allowLints.begin(), r.allowLints.end(), diagInfo(f.kind).code) != r.allowLints.end()) return;
    range = r.range;
  } else if (f.type) {
    range = p.requests[f.type->value].range;
  }
  DiagBuilder b = diags.report(f.kind, range, f.message);
  if (f.rule) b.rule(p.rule(*f.rule).name);
  for (sema::RuleId r : f.related) b.related(p.rule(r).name, p.rule(r).range);
  for (const std::string& n : f.notes) b.note(n);
  if (witness && !witness->empty())
    b.witness(*witness);
  else if (f.witness)
    b.witness(f.witness->dump());
}

}  // namespace

bool analyze(const sema::CheckedProgram& program, const SourceManager& sources, DiagnosticEngine& diags,
             const AnalysisOptions& options, AnalysisStats* stats, std::string& error) {
  auto start = std::chrono::steady_clock::now();
  // PAVE_ANALYSIS_PHASES: the time of each phase, on stderr (for the benchmarks).
  const bool debug = std::getenv("PAVE_ANALYSIS_PHASES") != nullptr;
  auto lap = start;
  auto phase = [&](const char* what) {
    if (!debug) return;
    auto now = std::chrono::steady_clock::now();
    fprintf(stderr, "analysis: %s %.1f ms\n", what, std::chrono::duration<double, std::milli>(now - lap).count());
    lap = now;
  };
  Session::State* session = options.session ? &options.session->state() : nullptr;
  // The bundle for witness checks is built when the first job that the cache does not
  // answer needs it (after an edit, most jobs are answered).
  std::mutex bundleMutex;
  std::shared_ptr<const Bundle> bundle;
  bool bundleFailed = false;
  auto getBundle = [&]() -> std::shared_ptr<const Bundle> {
    std::lock_guard<std::mutex> lock(bundleMutex);
    if (!bundle && !bundleFailed) {
      bundle = Bundle::build(program, sources, error);
      bundleFailed = !bundle;
    }
    return bundle;
  };
  if (!session && !getBundle()) return false;
  initSolver();
  Plan plan(program, options.now);
  plan.expiringWindow = options.expiringWindow;
  Fingerprints fp = fingerprint(program, options.timeoutMs);
  phase("plan and fingerprints");
  std::unique_ptr<QueryCache> ownCache;
  QueryCache* cache = nullptr;
  if (session) {
    cache = session->queryCache();
    std::lock_guard<std::mutex> lock(session->mutex);
    session->used.clear();
  } else if (!options.cacheDirectory.empty()) {
    ownCache = std::make_unique<QueryCache>(options.cacheDirectory, options.repository);
    cache = ownCache.get();
  }

  std::unique_ptr<JobCache> jobCache;
  if (cache || session) jobCache = std::make_unique<JobCache>(program, plan, fp, cache, session);
  phase("cache");

  // Jobs in source order; with `options.first`, those rules' jobs before the others.
  std::vector<Job> jobs;
  size_t firstJobs = 0;
  for (int pass = options.first ? 0 : 1; pass < 2; ++pass)
    for (uint32_t i = 0; i < program.rules.size(); ++i) {
      const sema::RuleInfo& r = program.rules[i];
      if (options.first && options.first(r) != (pass == 0)) continue;
      jobs.push_back({r.effect == ast::Effect::Exception ? Job::Exception : Job::Rule, i});
      firstJobs += pass == 0;
    }
  for (uint32_t i = 0; i < program.requests.size(); ++i) jobs.push_back({Job::Type, i});

  std::vector<std::vector<Finding>> results(jobs.size());
  std::vector<std::vector<std::string>> witnesses(jobs.size());  // serialized, of cached findings
  std::atomic<size_t> firstLeft{firstJobs};
  std::mutex typesMutex;
  std::set<uint32_t> typesRun;
  std::atomic<size_t> next{0};
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (const char* env = std::getenv("PAVE_ANALYSIS_THREADS")) threads = unsigned(std::max(1, std::atoi(env)));
  threads = std::min<unsigned>(threads, std::max<size_t>(1, jobs.size()));
  std::vector<WorkerStats> workerStats(threads);
  std::atomic<size_t> jobHits{0};
  // Cancellation: a watcher interrupts the solver calls running in the workers' contexts.
  std::mutex liveMutex;
  std::vector<z3::context*> live;
  std::condition_variable finished;
  bool over = false;
  std::thread watcher;
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };
  if (options.cancel)
    watcher = std::thread([&] {
      std::unique_lock<std::mutex> lock(liveMutex);
      while (!over) {
        if (cancelled()) {
          for (z3::context* c : live) c->interrupt();
        }
        finished.wait_for(lock, std::chrono::milliseconds(10));
      }
    });
  auto work = [&](unsigned index) {
    std::optional<Worker> w;  // created on the first job the cache does not answer
    std::vector<std::string> keys;
    for (size_t j; !cancelled() && (j = next.fetch_add(1)) < jobs.size();) {
      const Job& job = jobs[j];
      std::vector<Finding> found;
      if (job.kind == Job::Exception) found = exceptionAge(plan, sema::RuleId{job.index});
      std::string key = jobCache ? jobCache->key(job) : std::string();
      std::vector<std::string> texts;
      std::optional<std::vector<Finding>> hit = jobCache ? jobCache->find(key, texts) : std::nullopt;
      if (hit) {
        ++jobHits;
      } else {
        texts.clear();
        {
          std::lock_guard<std::mutex> lock(typesMutex);
          if (job.kind == Job::Type)
            typesRun.insert(job.index);
          else
            for (sema::RequestId t : plan.typesOf(sema::RuleId{job.index})) typesRun.insert(t.value);
        }
        if (!w) {
          std::shared_ptr<const Bundle> b = getBundle();
          if (!b) break;
          w.emplace(program, fp, b, cache, options.timeoutMs, options.cancel);
          std::lock_guard<std::mutex> lock(liveMutex);
          live.push_back(&w->context());
        }
        keys.clear();
        w->keyLog = jobCache ? &keys : nullptr;
        try {
          switch (job.kind) {
            case Job::Rule: hit = analyzeRule(*w, plan, sema::RuleId{job.index}); break;
            case Job::Exception: hit = analyzeException(*w, plan, sema::RuleId{job.index}); break;
            case Job::Type: hit = analyzeRequestType(*w, plan, sema::RequestId{job.index}); break;
          }
        } catch (const z3::exception&) {
          // An interrupted context throws from any call (encoding, model evaluation), not
          // only from a check: after a cancellation the job's result is worthless anyway.
          if (!cancelled()) throw;
          break;
        }
        if (jobCache) jobCache->store(key, *hit, keys);
      }
      texts.insert(texts.begin(), found.size(), std::string());  // exceptionAge's findings come first
      found.insert(found.end(), std::make_move_iterator(hit->begin()), std::make_move_iterator(hit->end()));
      results[j] = std::move(found);
      witnesses[j] = std::move(texts);
      if (j < firstJobs && firstLeft.fetch_sub(1) == 1 && options.firstDone) {
        // The first jobs are done (whichever thread finished last): their findings now.
        DiagnosticEngine early = diags;
        early.all().clear();
        for (size_t i = 0; i < firstJobs; ++i)
          for (size_t k = 0; k < results[i].size(); ++k)
            report(program, early, results[i][k], k < witnesses[i].size() ? &witnesses[i][k] : nullptr);
        phase("first jobs");
        options.firstDone(std::move(early.all()));
        phase("first jobs' findings published");
      }
    }
    if (w) {
      workerStats[index] = std::move(w->stats);
      std::lock_guard<std::mutex> lock(liveMutex);
      live.erase(std::find(live.begin(), live.end(), &w->context()));
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work, i);
  work(0);
  for (std::thread& t : pool) t.join();
  if (watcher.joinable()) {
    {
      std::lock_guard<std::mutex> lock(liveMutex);
      over = true;
    }
    finished.notify_all();
    watcher.join();
  }
  phase("jobs");
  if (session) {
    std::lock_guard<std::mutex> lock(session->mutex);
    if (cancelled() || bundleFailed) {
      // Keep what this run found for the next one.
      for (auto& [key, found] : session->used) session->jobs[key] = std::move(found);
    } else {
      session->jobs = std::move(session->used);  // only what the program has now
    }
    session->used.clear();
  }
  if (bundleFailed) return false;
  if (cancelled()) {
    error = "the analysis was cancelled";
    return false;
  }
  if (ownCache) ownCache->save();
  phase("save");

  size_t inconclusive = 0;
  for (size_t j = 0; j < results.size(); ++j)
    for (size_t k = 0; k < results[j].size(); ++k) {
      const Finding& f = results[j][k];
      inconclusive += f.kind == DiagKind::AnalysisInconclusive;
      report(program, diags, f, k < witnesses[j].size() ? &witnesses[j][k] : nullptr);
    }
  phase("report");
  if (stats) {
    for (const WorkerStats& s : workerStats) {
      stats->queries += s.queries;
      stats->cacheHits += s.cached;
      stats->unconfirmed += s.unconfirmed;
      stats->timeouts += s.timeouts;
      stats->oversized += s.oversized;
      stats->queryMillis.insert(stats->queryMillis.end(), s.millis.begin(), s.millis.end());
    }
    stats->inconclusive += inconclusive;
    stats->cachedJobs += jobHits;
    stats->jobs += jobs.size();
    for (uint32_t t : typesRun) stats->typesRun.push_back(program.requests[t].name);
    stats->pairsExamined += plan.pairsExamined;
    stats->totalMillis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  return true;
}

std::string formatStats(const AnalysisStats& s) {
  std::vector<double> t = s.queryMillis;
  std::sort(t.begin(), t.end());
  auto pct = [&](double q) { return t.empty() ? 0.0 : t[std::min(t.size() - 1, size_t(q * double(t.size())))]; };
  char buf[512];
  snprintf(buf, sizeof buf,
           "analysis: %.0f ms, %zu queries (%zu cached, %zu solved), query median %.2f ms, p99 %.2f ms, "
           "%zu timeouts (%zu over the string size limit), %zu inconclusive, %zu unconfirmed witnesses dropped, "
           "%zu jobs answered by the cache",
           s.totalMillis, s.queries, s.cacheHits, t.size(), pct(0.5), pct(0.99), s.timeouts, s.oversized,
           s.inconclusive, s.unconfirmed, s.cachedJobs);
  return buf;
}

}  // namespace pave::analysis
