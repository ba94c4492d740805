#include "analysis/Query.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include "codegen/Codegen.h"

namespace pave::analysis {

using nlohmann::json;
using sema::RuleId;

void initSolver() {
  static std::once_flag once;
  std::call_once(once, [] { z3::set_param("unicode", false); });
}

Fingerprints fingerprint(const sema::CheckedProgram& p, unsigned timeoutMs) {
  Fingerprints fp;
  std::string dataDigest;
  for (const sema::RuleInfo& r : p.rules) {
    std::string s = std::string(ast::effectName(r.effect)) + " " + r.name + " q" + std::to_string(r.quorum);
    for (const sema::Conjunct& c : r.condition) s += " when " + p.dump(c.expr);
    for (sema::CExprId a : r.approvers) s += " by " + p.dump(a);
    for (const sema::GrantAssignment& g : r.grants) s += " grant " + g.grant + "=" + p.dump(g.value);
    if (r.exception) s += " lifts " + p.rule(r.exception->lifts).name + " until " + std::to_string(r.exception->until);
    // A rule reading tables is analysed with their content (or without, when not read).
    if (usesTables(p, r)) {
      if (dataDigest.empty()) dataDigest = codegen::digestData(p);
      s += " data " + dataDigest;
      for (const sema::TableInfo& t : p.tables) s += t.data ? "" : " unread " + t.name;
    }
    fp.rules.push_back(std::move(s));
  }
  std::string common;
  for (const sema::EnumInfo& e : p.enums) {
    common += "enum " + e.name;
    for (const std::string& m : e.members) common += " " + m;
    common += ";";
  }
  auto attrs = [&](const std::vector<sema::AttrInfo>& list) {
    std::string s;
    for (const sema::AttrInfo& a : list) s += " " + a.name + ":" + p.typeName(a.type) + (a.optional ? "?" : "");
    return s;
  };
  for (const sema::PrincipalInfo& pr : p.principals) common += "principal " + pr.name + attrs(pr.attrs) + ";";
  common += "context" + attrs(p.context.attrs) + ";";
  for (const sema::RequestInfo& r : p.requests) {
    std::string s = common + "request " + r.name + attrs(r.attrs) + " for";
    for (sema::PrincipalId pid : r.principals) s += " " + p.principals[pid.value].name;
    for (const sema::GrantInfo& g : r.grants)
      s += " grant " + g.name + ":" + p.typeName(g.type) + "=" + p.formatValue(g.defaultValue) + " " +
           std::string(sema::mergeOpName(g.merge));
    fp.types.push_back(std::move(s));
  }
  fp.options = "v2 timeout " + std::to_string(timeoutMs);
  // How tables are encoded (only where some rule reads one, so other keys stay as they were).
  if (!p.tables.empty())
    fp.options += " tables " + std::to_string(kExactTableRows) + "/" + std::to_string(kExactTableBytes) + "/" +
                  std::to_string(kSampleRows);
  return fp;
}

Worker::Worker(const sema::CheckedProgram& p, const Fingerprints& fp, std::shared_ptr<const Bundle> bundle,
               QueryCache* cache, unsigned timeoutMs, const std::atomic<bool>* cancel)
    : p_(p), fp_(fp), cache_(cache), timeoutMs_(timeoutMs), cancel_(cancel), tables_(defaultTableModels(p)),
      confirmer_(std::move(bundle)) {
  const char* strings = std::getenv("PAVE_ANALYSIS_STRINGS");
  fastStrings_ = !(strings && std::string_view(strings) == "seq");
  debug_ = std::getenv("PAVE_ANALYSIS_DEBUG") != nullptr;
  trace_ = std::getenv("PAVE_ANALYSIS_TRACE") != nullptr;
  if (const char* dump = std::getenv("PAVE_ANALYSIS_DUMP")) dump_ = dump;
}

z3::solver Worker::newSolver(const z3::expr& f, const Encoder& enc, unsigned timeoutMs, bool z3str3) {
  z3::solver s(ctx_, z3::solver::simple());
  z3::params params(ctx_);
  params.set("timeout", timeoutMs);
  if (z3str3) params.set("string_solver", "z3str3");
  s.set(params);
  s.add(f);
  s.add(enc.domain());
  return s;
}

json Worker::decide(const json& input) {
  std::string text = input.dump();
  if (text != lastInput_) {
    lastDecision_ = confirmer_.decide(input);
    lastInput_ = std::move(text);
  }
  return lastDecision_;
}

unsigned Worker::left(std::chrono::steady_clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return ms > 0 ? unsigned(ms) : 0;
}

QueryResult Worker::run(const QuerySpec& q) {
  if (cancelled()) return {};
  ++stats.queries;
  std::string key;
  if (cache_) {
    std::string text = fp_.options + "\n" + q.kind + "\n" + fp_.types[q.type.value];
    for (RuleId r : q.rules) text += "\n" + fp_.rules[r.value];
    key = contentHash(text);
    if (keyLog) keyLog->push_back(key);
    if (auto hit = cache_->find(key)) {
      ++stats.cached;
      QueryResult r;
      r.answer = hit->answer;
      if (!hit->witness.empty()) r.witness = json::parse(hit->witness, nullptr, false);
      return r;
    }
  }
  auto start = std::chrono::steady_clock::now();
  QueryResult r = solve(q);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  stats.millis.push_back(ms);
  if (trace_) std::fprintf(stderr, "query %s %.3f %d\n", q.kind.c_str(), ms, int(r.answer));
  if (ms > 50 && debug_)
    std::fprintf(stderr, "slow query %s on %s (%zu rules, first %s): %.0f ms, answer %d\n", q.kind.c_str(),
                 p_.requests[q.type.value].name.c_str(), q.rules.size(), p_.rule(q.rules[0]).name.c_str(), ms,
                 int(r.answer));
  // An interrupted query answers nothing about the policy: it is not cached.
  if (cache_ && !cancelled()) cache_->store(key, {r.answer, r.witness ? r.witness->dump() : std::string()});
  return r;
}

QueryResult Worker::solve(const QuerySpec& q) {
  // The budget covers the whole query: encoding, every solver attempt and the witness checks.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs_);
  bool unconfirmedAbstract = false;
  QueryResult r = solveWith(q, tables_, deadline, &unconfirmedAbstract);
  if (r.answer != Answer::Unknown || !unconfirmedAbstract || left(deadline) == 0 || cancelled()) return r;
  // A table encoded as any content gave a witness the real rows do not confirm: look for
  // one among a sample of the real rows (which proves nothing when there is none).
  if (!samples_) samples_ = sampleTableModels(p_, &hasSamples_);
  if (!hasSamples_) return r;
  QueryResult s = solveWith(q, *samples_, deadline, nullptr);
  if (s.answer == Answer::Sat) {
    --stats.unconfirmed;
    return s;
  }
  return r;
}

QueryResult Worker::solveWith(const QuerySpec& q, const TableModels& tables,
                              std::chrono::steady_clock::time_point deadline, bool* unconfirmedAbstract) {
  std::vector<sema::CExprId> roots;
  for (RuleId r : q.rules) {
    const sema::RuleInfo& info = p_.rule(r);
    for (const sema::Conjunct& c : info.condition) roots.push_back(c.expr);
    for (const sema::GrantAssignment& g : info.grants) roots.push_back(g.value);
    for (sema::CExprId a : info.approvers) roots.push_back(a);
  }
  SetBounds bounds = computeBounds(p_, q.type, roots, &tables);
  Encoder enc(ctx_, p_, q.type, bounds, &tables);
  DecisionEncoder dec(enc);
  z3::expr f = q.formula(dec);
  QueryResult out;
  if (enc.longestString() > kMaxStringConstant || enc.stringBytes() > kMaxStringConstants) {
    // Asserting such a constant alone can take seconds that no time limit interrupts.
    ++stats.oversized;
    ++stats.timeouts;
    if (debug_)
      std::fprintf(stderr, "oversized %s on %s: string constants of %zu bytes, the longest %zu\n", q.kind.c_str(),
                   p_.requests[q.type.value].name.c_str(), enc.stringBytes(), enc.longestString());
    return out;
  }
  z3::solver s = newSolver(f, enc, std::max(1u, left(deadline)), /*z3str3=*/false);
  if (!dump_.empty() && (q.kind == dump_ || dump_ == "*")) std::fprintf(stderr, "%s\n", s.to_smt2().c_str());

  if (fastStrings_ && left(deadline) > 0) {
    // First attempt: Z3's z3str3 string solver is several times faster than the default
    // sequence solver on this encoding, but only its `sat` answers are used, and only once
    // the VM confirms the witness; everything else is decided by the exact procedure below.
    z3::solver fast = newSolver(f, enc, std::max(1u, std::min(timeoutMs_ / 4, left(deadline))), /*z3str3=*/true);
    try {
      if (fast.check() == z3::sat) {
        std::vector<z3::expr> bad;
        if (std::optional<json> w = decodeWitness(enc, fast.get_model(), &bad)) {
          json decision = decide(*w);
          if (validInput(decision) && (!q.confirm || q.confirm(decision))) {
            out.answer = Answer::Sat;
            out.witness = std::move(w);
            return out;
          }
        }
      }
    } catch (const z3::exception& e) {
      if (debug_) std::fprintf(stderr, "z3str3 attempt failed: %s\n", e.msg());
    }
  }
  z3::expr_vector assumptions(ctx_);
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto t0 = std::chrono::steady_clock::now();
    unsigned budget = left(deadline);
    if (budget == 0 || cancelled()) {
      ++stats.timeouts;
      return out;
    }
    z3::params params(ctx_);
    params.set("timeout", budget);
    s.set(params);
    z3::check_result r = z3::unknown;
    try {
      r = assumptions.empty() ? s.check() : s.check(assumptions);
    } catch (const z3::exception& e) {
      if (debug_) std::fprintf(stderr, "check %s failed: %s\n", q.kind.c_str(), e.msg());
    }
    if (debug_)
      std::fprintf(stderr, "  check %s: %.1f ms\n", q.kind.c_str(),
                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (r == z3::unknown) {
      ++stats.timeouts;
      return out;
    }
    if (r == z3::unsat) {
      // Under refinement assumptions unsat proves nothing; without them it is a proof
      // when the set bounds lose no input.
      if (assumptions.empty() && bounds.exact && enc.proves()) out.answer = Answer::Unsat;
      else if (debug_)
        std::fprintf(stderr, "inexact unsat %s on %s (bounds exact: %d)\n", q.kind.c_str(),
                     p_.requests[q.type.value].name.c_str(), int(bounds.exact));
      return out;
    }
    std::vector<z3::expr> bad;
    std::optional<json> w = decodeWitness(enc, s.get_model(), &bad);
    if (w) {
      json decision = decide(*w);
      if (validInput(decision) && (!q.confirm || q.confirm(decision))) {
        out.answer = Answer::Sat;
        out.witness = std::move(w);
        return out;
      }
      if (debug_)
        std::fprintf(stderr, "unconfirmed %s witness: %s\n  decision: %s\n", q.kind.c_str(), w->dump().c_str(),
                     decision.dump().c_str());
    }
    // Refine: readable strings, and case folds of strings that are already folded.
    char lo = 0x20, hi = 0x7e;
    z3::expr printable = z3::star(z3::range(ctx_.string_val(&lo, 1), ctx_.string_val(&hi, 1)));
    if (!bad.empty()) {
      for (const z3::expr& v : bad) s.add(z3::in_re(v, printable));
    } else if (attempt == 0 && !enc.caseFolds().empty()) {
      for (const auto& [folded, original] : enc.caseFolds()) assumptions.push_back(folded == original);
    } else {
      ++stats.unconfirmed;
      if (unconfirmedAbstract) *unconfirmedAbstract = enc.usedAbstractTable();
      return out;
    }
  }
  ++stats.unconfirmed;
  if (unconfirmedAbstract) *unconfirmedAbstract = enc.usedAbstractTable();
  return out;
}

}  // namespace pave::analysis
