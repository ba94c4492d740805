// The scheduler: builds the plan, runs the jobs on one thread per core (each with its own
// Z3 context and VM decider), then reports the findings in a deterministic order.
#include "analysis/Analyzer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "analysis/Findings.h"

namespace pave::analysis {

namespace {

struct Job {
  enum Kind { Rule, Exception, Type } kind;
  uint32_t index;
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
  Fingerprints fp = fingerprint(program, options.timeoutMs);
  std::unique_ptr<QueryCache> cache;
  if (!options.cacheDirectory.empty()) cache = std::make_unique<QueryCache>(options.cacheDirectory, options.repository);

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
  auto work = [&](unsigned index) {
    Worker w(program, fp, bundle, cache.get(), options.timeoutMs);
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      const Job& job = jobs[j];
      switch (job.kind) {
        case Job::Rule: results[j] = analyzeRule(w, plan, sema::RuleId{job.index}); break;
        case Job::Exception: results[j] = analyzeException(w, plan, sema::RuleId{job.index}); break;
        case Job::Type: results[j] = analyzeRequestType(w, plan, sema::RequestId{job.index}); break;
      }
    }
    workerStats[index] = std::move(w.stats);
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work, i);
  work(0);
  for (std::thread& t : pool) t.join();
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
      stats->queryMillis.insert(stats->queryMillis.end(), s.millis.begin(), s.millis.end());
    }
    stats->inconclusive += inconclusive;
    stats->totalMillis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  return true;
}

std::string formatStats(const AnalysisStats& s) {
  std::vector<double> t = s.queryMillis;
  std::sort(t.begin(), t.end());
  auto pct = [&](double q) { return t.empty() ? 0.0 : t[std::min(t.size() - 1, size_t(q * double(t.size())))]; };
  char buf[320];
  snprintf(buf, sizeof buf,
           "analysis: %.0f ms, %zu queries (%zu cached, %zu solved), query median %.2f ms, p99 %.2f ms, "
           "%zu timeouts, %zu inconclusive, %zu unconfirmed witnesses dropped",
           s.totalMillis, s.queries, s.cacheHits, t.size(), pct(0.5), pct(0.99), s.timeouts, s.inconclusive,
           s.unconfirmed);
  return buf;
}

}  // namespace pave::analysis
