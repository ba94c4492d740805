// The scheduler: builds the plan, runs the jobs on one thread per core (each with its own
// Z3 context and VM decider), then reports the findings in a deterministic order.
#include "analysis/Analyzer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <thread>

#include "analysis/Cache.h"
#include "analysis/Findings.h"

namespace pave::analysis {

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
  JobCache(const sema::CheckedProgram& p, const Plan& plan, const Fingerprints& fp, QueryCache& cache)
      : p_(p), plan_(plan), fp_(fp), cache_(cache) {
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

  std::optional<std::vector<Finding>> find(const std::string& key) {
    std::optional<CachedResult> hit = cache_.find(key);
    if (!hit) return std::nullopt;
    nlohmann::json entry = nlohmann::json::parse(hit->witness, nullptr, false);
    if (!entry.is_object() || !entry["findings"].is_array() || !entry["queries"].is_array()) return std::nullopt;
    std::vector<Finding> out;
    for (const nlohmann::json& f : entry["findings"]) {
      std::optional<DiagKind> kind = diagKindFromCode(f.value("code", ""));
      if (!kind) return std::nullopt;
      Finding x{
          {*kind, f.value("message", "")}, std::nullopt, std::nullopt, {}, {}, std::nullopt};  // rendered when cached
      if (f.contains("rule")) {
        auto it = rules_.find(f["rule"].get<std::string>());
        if (it == rules_.end()) return std::nullopt;
        x.rule = it->second;
      }
      if (f.contains("type")) {
        auto it = types_.find(f["type"].get<std::string>());
        if (it == types_.end()) return std::nullopt;
        x.type = it->second;
      }
      for (const nlohmann::json& r : f.value("related", nlohmann::json::array())) {
        auto it = rules_.find(r.get<std::string>());
        if (it == rules_.end()) return std::nullopt;
        x.related.push_back(it->second);
      }
      for (const nlohmann::json& n : f.value("notes", nlohmann::json::array())) x.notes.push_back(n.get<std::string>());
      if (f.contains("witness")) x.witness = f["witness"];
      out.push_back(std::move(x));
    }
    for (const nlohmann::json& q : entry["queries"]) cache_.touch(q.get<std::string>());
    return out;
  }

  void store(const std::string& key, const std::vector<Finding>& findings, const std::vector<std::string>& queries) {
    nlohmann::json list = nlohmann::json::array();
    for (const Finding& f : findings) {
      if (f.kind == DiagKind::AnalysisInconclusive) return;
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
    nlohmann::json entry = {{"findings", std::move(list)}, {"queries", queries}};
    cache_.store(key, {Answer::Sat, entry.dump()});
  }

 private:
  const sema::CheckedProgram& p_;
  const Plan& plan_;
  const Fingerprints& fp_;
  QueryCache& cache_;
  std::vector<std::string> typeHash_;
  std::map<std::string, sema::RuleId> rules_;
  std::map<std::string, sema::RequestId> types_;
};

void report(const sema::CheckedProgram& p, DiagnosticEngine& diags, const Finding& f) {
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
  if (f.witness) b.witness(f.witness->dump());
}

}  // namespace

bool analyze(const sema::CheckedProgram& program, const SourceManager& sources, DiagnosticEngine& diags,
             const AnalysisOptions& options, AnalysisStats* stats, std::string& error) {
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const Bundle> bundle = Bundle::build(program, sources, error);
  if (!bundle) return false;
  initSolver();
  Plan plan(program, options.now);
  plan.expiringWindow = options.expiringWindow;
  Fingerprints fp = fingerprint(program, options.timeoutMs);
  std::unique_ptr<QueryCache> cache;
  if (!options.cacheDirectory.empty()) cache = std::make_unique<QueryCache>(options.cacheDirectory, options.repository);

  std::unique_ptr<JobCache> jobCache;
  if (cache) jobCache = std::make_unique<JobCache>(program, plan, fp, *cache);

  std::vector<Job> jobs;
  for (uint32_t i = 0; i < program.rules.size(); ++i)
    jobs.push_back({program.rules[i].effect == ast::Effect::Exception ? Job::Exception : Job::Rule, i});
  for (uint32_t i = 0; i < program.requests.size(); ++i) jobs.push_back({Job::Type, i});

  std::vector<std::vector<Finding>> results(jobs.size());
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
      std::optional<std::vector<Finding>> hit = jobCache ? jobCache->find(key) : std::nullopt;
      if (hit) {
        ++jobHits;
      } else {
        if (!w) {
          w.emplace(program, fp, bundle, cache.get(), options.timeoutMs, options.cancel);
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
      found.insert(found.end(), std::make_move_iterator(hit->begin()), std::make_move_iterator(hit->end()));
      results[j] = std::move(found);
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
  if (cancelled()) {
    error = "the analysis was cancelled";
    return false;
  }
  if (cache) cache->save();

  size_t inconclusive = 0;
  for (const auto& list : results)
    for (const Finding& f : list) {
      inconclusive += f.kind == DiagKind::AnalysisInconclusive;
      report(program, diags, f);
    }
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
