// Differential test: the VM (through a real bundle) and the reference evaluator must agree
// on every decision field for many random schema-valid inputs, for every conformance
// policy with decisions and for the example repository; and the same input bound through
// the C++ API must give the JSON path's decision byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <pave/runtime.h>
#include <random>

#include "RefEval.h"
#include "codegen/Codegen.h"
#include "pipeline/Compile.h"

namespace pave::reference {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sema::ConstEntry;
using sema::ConstValue;

/// Draws attribute values from the policy's own literals (so conditions are hit on both
/// sides) mixed with a few values of its own.
class InputGenerator {
 public:
  InputGenerator(const sema::CheckedProgram& p, uint32_t seed) : p_(p), rng_(seed) {
    for (const ConstValue& c : p.constants) collect(c);
    // Table keys and values, so that lookups hit real rows (and miss them by a near miss).
    for (const sema::TableInfo& t : p.tables) {
      if (!t.data) continue;
      for (const sema::TableRow& row : t.data->rows) {
        strings_.push_back(row.key);
        for (const auto& f : row.fields)
          if (f) collect(*f);
      }
    }
  }

  Input next(sema::RequestId request) {
    Input in;
    in.request = request;
    const sema::RequestInfo& r = p_.requests[request.value];
    in.principal = r.principals[pick(r.principals.size())];
    for (const auto& a : p_.principals[in.principal.value].attrs) maybeSet(in.principalAttrs, a);
    for (const auto& a : r.attrs) maybeSet(in.requestAttrs, a);
    for (const auto& a : p_.context.attrs) maybeSet(in.contextAttrs, a);
    return in;
  }

 private:
  void collect(const ConstValue& c) {
    pool_[static_cast<int>(c.kind)].push_back(c);
    for (const auto& e : c.elems) collect(e);
    for (const auto& [k, v] : c.entries) {
      strings_.push_back(k);
      collect(v);
    }
    if (c.kind == ConstValue::Kind::String) {
      strings_.push_back(c.s);
      // Near misses for prefixes, suffixes and globs.
      strings_.push_back(c.s + "x");
      if (!c.s.empty()) strings_.push_back(c.s.substr(0, c.s.size() / 2));
      std::string noStar = c.s;
      std::replace(noStar.begin(), noStar.end(), '*', 'q');
      strings_.push_back(noStar);
    }
  }

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }

  int64_t number(ConstValue::Kind k, int64_t fallback) {
    const auto& pool = pool_[static_cast<int>(k)];
    int64_t base = pool.empty() || chance(20) ? fallback : pool[pick(pool.size())].i;
    switch (pick(5)) {
      case 0: return base - 1;
      case 1: return base + 1;
      case 2: return chance(50) ? INT64_MAX - static_cast<int64_t>(pick(3)) : INT64_MIN + static_cast<int64_t>(pick(3));
      default: return base;
    }
  }

  std::string string() {
    static const char* kExtra[] = {"", "a", "admin", "read:logs", "team-a", "x*y", "ABC"};
    if (strings_.empty() || chance(15)) return kExtra[pick(7)];
    return strings_[pick(strings_.size())];
  }

  ConstValue value(sema::TypeId t) {
    const sema::Type& ty = p_.types.get(t);
    switch (ty.kind) {
      case sema::TypeKind::Bool: return ConstValue::boolean(t, chance(50));
      case sema::TypeKind::Int: return ConstValue::integer(ConstValue::Kind::Int, t, number(ConstValue::Kind::Int, 3));
      case sema::TypeKind::String: return ConstValue::string(t, string());
      case sema::TypeKind::Duration:
        return ConstValue::integer(ConstValue::Kind::Duration, t, std::abs(number(ConstValue::Kind::Duration, 3600) % (400 * 86400)));
      case sema::TypeKind::Timestamp: {
        int64_t base = 1795737600 + static_cast<int64_t>(pick(90)) * 86400 + static_cast<int64_t>(pick(24)) * 3600;
        const auto& pool = pool_[static_cast<int>(ConstValue::Kind::Timestamp)];
        if (!pool.empty() && chance(50)) base = pool[pick(pool.size())].i + static_cast<int64_t>(pick(3)) - 1;
        // Near either end of years 0000–9999, where timestamp arithmetic leaves the range
        // (an evaluation error, SPEC §4.5).
        else if (chance(8)) base = chance(50) ? -62167219200 + static_cast<int64_t>(pick(400)) * 86400
                                              : 253402300799 - static_cast<int64_t>(pick(400)) * 86400;
        return ConstValue::integer(ConstValue::Kind::Timestamp, t, base);
      }
      case sema::TypeKind::Ip: {
        ConstValue v;
        v.kind = ConstValue::Kind::Ip;
        v.type = t;
        const auto& nets = pool_[static_cast<int>(ConstValue::Kind::Cidr)];
        if (!nets.empty() && chance(70)) v.ip = nets[pick(nets.size())].ip, v.ip.prefix = 0;
        else v.ip.v6 = chance(30);
        for (size_t i = chance(50) ? 2 : 0; i < 16; ++i)
          if (chance(30)) v.ip.bytes[i] = static_cast<uint8_t>(pick(256));
        if (!v.ip.v6) std::fill(v.ip.bytes.begin() + 4, v.ip.bytes.end(), 0);
        if (!v.ip.v6 && chance(25)) {  // the same IPv4 address written IPv4-mapped: `::ffff:a.b.c.d`
          std::copy(v.ip.bytes.begin(), v.ip.bytes.begin() + 4, v.ip.bytes.begin() + 12);
          std::fill(v.ip.bytes.begin(), v.ip.bytes.begin() + 10, 0);
          v.ip.bytes[10] = v.ip.bytes[11] = 0xff;
          v.ip.v6 = true;
        }
        return v;
      }
      case sema::TypeKind::Enum:
        return ConstValue::integer(ConstValue::Kind::Enum, t, static_cast<int64_t>(pick(p_.enums[ty.index].members.size())));
      case sema::TypeKind::Set: {
        std::vector<ConstValue> elems;
        for (size_t n = pick(4); n > 0; --n) elems.push_back(value(ty.elem));
        return ConstValue::set(t, elems);
      }
      case sema::TypeKind::Map: {
        std::vector<ConstEntry> entries;
        for (size_t n = pick(4); n > 0; --n) entries.push_back({string(), value(ty.elem)});
        return ConstValue::map(t, entries);
      }
      default: return ConstValue::boolean(t, false);
    }
  }

  void maybeSet(std::map<std::string, ConstValue>& out, const sema::AttrInfo& a) {
    if (a.optional && chance(30)) return;
    out[a.name] = value(a.type);
  }

  const sema::CheckedProgram& p_;
  std::mt19937 rng_;
  std::map<int, std::vector<ConstValue>> pool_;
  std::vector<std::string> strings_;
};

/// The fields both sides know, normalized for comparison.
json comparable(const json& d) {
  json out;
  for (const char* key : {"decision", "request_type", "rules", "deny_rules", "approvals", "grants", "reasons"})
    out[key] = d.contains(key) ? d[key] : json();
  json ids = json::array();
  for (const auto& e : d.value("exceptions", json::array())) ids.push_back(e.is_object() ? json(e.value("id", "")) : e);
  out["exceptions"] = ids;
  std::vector<std::string> errors;
  for (const auto& e : d.value("errors", json::array()))
    errors.push_back(e.value("code", "") + "@" + e.value("rule", ""));
  std::sort(errors.begin(), errors.end());
  out["errors"] = errors;
  return out;
}

/// The same input bound through the C++ API (InputBuilder), or false when a value is
/// refused (the JSON path then reports the problem its own way).
class Binder {
 public:
  Binder(const sema::CheckedProgram& p, const rt::LoadedBundle& b) : p_(p), b_(b) {}

  bool bind(rt::Decider& d, const Input& in) {
    int32_t rt = b_.findRequestType(p_.requests[in.request.value].name);
    int32_t pt = b_.findPrincipalType(p_.principals[in.principal.value].name);
    if (rt < 0 || pt < 0) return false;
    rt::InputBuilder ib = d.bind(uint32_t(rt), uint32_t(pt));
    bool ok = true;
    for (const auto& [name, v] : in.principalAttrs) ok = ok && ib.principal(name, value(ib, v));
    for (const auto& [name, v] : in.requestAttrs) ok = ok && ib.request(name, value(ib, v));
    for (const auto& [name, v] : in.contextAttrs) ok = ok && ib.context(name, value(ib, v));
    return ok;
  }

 private:
  rt::Value value(rt::InputBuilder& ib, const ConstValue& c) {
    switch (c.kind) {
      case ConstValue::Kind::Bool: return rt::Value::boolean(c.i != 0);
      case ConstValue::Kind::Int: return rt::Value::integer(c.i);
      case ConstValue::Kind::Duration: return rt::Value::integer(c.i, rt::Kind::Duration);
      case ConstValue::Kind::Timestamp: return rt::Value::integer(c.i, rt::Kind::Timestamp);
      case ConstValue::Kind::String: return ib.makeString(c.s);
      case ConstValue::Kind::Enum: {
        const sema::EnumInfo& e = p_.enums[p_.types.get(c.type).index];
        return ib.makeEnum(e.name, e.members[size_t(c.i)]);
      }
      case ConstValue::Kind::Ip:
      case ConstValue::Kind::Cidr: {
        rt::Value v;
        v.kind = c.kind == ConstValue::Kind::Ip ? rt::Kind::Ip : rt::Kind::Cidr;
        v.family = c.ip.v6 ? 6 : 4;
        v.prefix = c.kind == ConstValue::Kind::Cidr ? c.ip.prefix : 0;
        std::copy(c.ip.bytes.begin(), c.ip.bytes.end(), v.ip);
        return v;
      }
      case ConstValue::Kind::Set: {
        std::vector<rt::Value> elems;
        for (const ConstValue& e : c.elems) elems.push_back(value(ib, e));
        return ib.makeSet(elems);
      }
      case ConstValue::Kind::Map: {
        std::vector<std::pair<std::string_view, rt::Value>> entries;
        for (const auto& [k, v] : c.entries) entries.emplace_back(k, value(ib, v));
        return ib.makeMap(entries);
      }
    }
    return rt::Value();
  }

  const sema::CheckedProgram& p_;
  const rt::LoadedBundle& b_;
};

std::vector<std::string> policyDirs() {
  std::vector<std::string> dirs = {std::string(PAVE_SOURCE_DIR) + "/examples",
                                   std::string(PAVE_SOURCE_DIR) + "/tests/differential/corpus/tables"};
  fs::path cases = fs::path(PAVE_SOURCE_DIR) / ".." / "shared" / "conformance" / "cases";
  std::error_code ec;
  for (const char* group : {"decision", "tests", "errors/flow-typing-ok"}) {
    fs::path g = cases / group;
    if (!fs::exists(g, ec)) continue;
    if (fs::exists(g / "case.json", ec)) {
      dirs.push_back(g.string());
      continue;
    }
    for (const auto& entry : fs::directory_iterator(g, ec)) dirs.push_back(entry.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

/// Checks the policy in `dir` and builds its bundle (`model`, then loaded as `bundle`).
void buildBundle(const std::string& dir, Compilation& c, rt::Bundle& model,
                 std::shared_ptr<const rt::LoadedBundle>& bundle) {
  CompileOptions options;
  options.paths = {dir};
  options.now = 1795737600;
  ASSERT_FALSE(compile(options, c).has_value());
  ASSERT_TRUE(c.program) << "the policy does not check";
  std::string error;
  codegen::CodegenOptions cg;
  cg.name = "differential";
  ASSERT_TRUE(codegen::generate(*c.program, c.sources, cg, model, error)) << error;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(rt::writeBundle(model, {}, bytes, &error)) << error;
  bundle = rt::LoadedBundle::load(bytes, {}, &error);
  ASSERT_TRUE(bundle) << error;
}

TEST(Differential, VmAgreesWithReferenceEvaluator) {
  size_t policies = 0, decisions = 0, bound_decisions = 0;
  std::map<std::string, size_t> outcomes;  // the generator must reach every outcome
  for (const std::string& dir : policyDirs()) {
    SCOPED_TRACE(dir);
    Compilation c;
    rt::Bundle model;
    std::shared_ptr<const rt::LoadedBundle> bundle;
    ASSERT_NO_FATAL_FAILURE(buildBundle(dir, c, model, bundle));
    rt::Decider decider(bundle);
    // One decider for every pre-bound input of the policy, whatever its request and
    // principal types, so that each binding must forget the previous one.
    rt::Decider bound(bundle);
    Binder binder(*c.program, *bundle);
    InputGenerator gen(*c.program, 20261127);
    ++policies;
    for (uint32_t t = 0; t < c.program->requests.size(); ++t) {
      for (int i = 0; i < 400; ++i) {
        Input in = gen.next(sema::RequestId{t});
        json input = inputJson(*c.program, in);
        const std::string vm_text = decider.decideJson(input.dump());
        json vm = json::parse(vm_text);
        json ref = decide(*c.program, in);
        ASSERT_EQ(comparable(vm), comparable(ref)) << "input: " << input.dump();
        ++decisions;
        if (binder.bind(bound, in)) {
          std::string bound_text;
          rt::toJson(*bundle, bound.decideBound(), bound_text);
          ASSERT_EQ(bound_text, vm_text) << "pre-bound input: " << input.dump();
          ++bound_decisions;
        }
        ++outcomes[vm.value("decision", "") + (vm["errors"].empty() ? "" : "+errors")];
      }
    }
  }
  EXPECT_GE(policies, 1u);
  for (const char* o : {"allow", "approval", "deny"}) EXPECT_GT(outcomes[o], 0u) << o;
  for (const auto& [o, n] : outcomes) std::cout << o << ": " << n << "\n";
  // Nearly every generated input binds (the generator keeps to the schema).
  EXPECT_GT(bound_decisions, decisions * 9 / 10);
  RecordProperty("decisions", static_cast<int>(decisions));
  std::cout << "compared " << decisions << " decisions over " << policies << " policies, " << bound_decisions
            << " of them also pre-bound\n";
}

// An `unless` clause that is a disjunction compiles to one negated conjunct per alternative
// (codegen: `not (a or b)` is `not a and not b`). Each rule `uN` below has the same
// condition as `wN`, written with `when not (…)`, which stays one conjunct: for random
// inputs, both match alike and report the same error message, and `--explain` names the
// whole unless clause when one of its parts is false.
TEST(Differential, SplitUnlessClauseKeepsResultsAndErrors) {
  const fs::path dir = fs::temp_directory_path() / ("pave-unless-split-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "policy.pave");
    f << R"(namespace split;
enum Env { dev, prod, sandbox }
principal Human { name: String }
request Item for Human { count: Int, other: Int, env: Env, note: String? }

deny u1 on Item unless request.count + 1 > 5 or request.env in [Env.dev, Env.sandbox];
deny w1 on Item when not (request.count + 1 > 5 or request.env in [Env.dev, Env.sandbox]);
deny u2 on Item unless request.other - 1 < 0 or not (request.count + 2 > 7) or request.env == Env.prod;
deny w2 on Item when not (request.other - 1 < 0 or not (request.count + 2 > 7) or request.env == Env.prod);
deny u3 on Item when request.other > 0
  unless (request.count + 1 > 0 or has(request.note)) or request.other + 1 > 2;
deny w3 on Item when request.other > 0
  and not ((request.count + 1 > 0 or has(request.note)) or request.other + 1 > 2);
)";
  }
  Compilation c;
  rt::Bundle model;
  std::shared_ptr<const rt::LoadedBundle> bundle;
  buildBundle(dir.string(), c, model, bundle);
  fs::remove_all(dir);
  ASSERT_TRUE(bundle);

  auto ruleIndex = [&](const std::string& name) {
    for (uint32_t r = 0; r < model.rules.size(); ++r)
      if (model.str(model.rules[r].name) == name) return r;
    ADD_FAILURE() << "no rule " << name;
    return uint32_t(0);
  };
  const std::pair<const char*, const char*> pairs[] = {{"split.u1", "split.w1"}, {"split.u2", "split.w2"}, {"split.u3", "split.w3"}};
  // The unless clauses were split: 2, 3 and 1 + 3 conjuncts against 1, 1 and 2.
  const size_t split_sizes[] = {2, 3, 4}, whole_sizes[] = {1, 1, 2};
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(model.rules[ruleIndex(pairs[k].first)].conjuncts.size(), split_sizes[k]) << pairs[k].first;
    EXPECT_EQ(model.rules[ruleIndex(pairs[k].second)].conjuncts.size(), whole_sizes[k]) << pairs[k].second;
  }

  rt::Decider decider(bundle);
  InputGenerator gen(*c.program, 20261129);
  std::map<std::string, size_t> seen;  // the generator must reach every result of every pair
  for (int i = 0; i < 3000; ++i) {
    Input in = gen.next(sema::RequestId{0});
    const json input = inputJson(*c.program, in);
    const rt::Decision& d = decider.decide(input.dump(), /*explain=*/true);
    ASSERT_TRUE(d.explained);
    auto trace = [&](uint32_t rule) -> const rt::TraceEntry* {
      for (const rt::TraceEntry& t : d.trace)
        if (t.rule == rule) return &t;
      return nullptr;
    };
    auto message = [&](uint32_t rule) {
      for (const rt::DecisionError& e : d.errors)
        if (e.rule == rule) return e.message;
      return std::string("(none)");
    };
    const size_t when_count[] = {0, 0, 1};  // conjuncts before the unless clause's parts
    for (size_t k = 0; k < 3; ++k) {
      const char *u = pairs[k].first, *w = pairs[k].second;
      const uint32_t ur = ruleIndex(u), wr = ruleIndex(w);
      const rt::TraceEntry *ut = trace(ur), *wt = trace(wr);
      ASSERT_TRUE(ut && wt) << input.dump();
      EXPECT_EQ(int(ut->matched), int(wt->matched)) << u << " " << input.dump();
      EXPECT_EQ(message(ur), message(wr)) << u << " " << input.dump();
      ++seen[std::string(u) + "/" + std::to_string(int(ut->matched))];
      if (ut->matched == rt::Matched::False) {
        ASSERT_GE(ut->failed, 0);
        const auto& source = model.rules[ur].source;
        ASSERT_LT(size_t(ut->failed), source.size());
        // The first false conjunct is the `when` condition or a part of the unless clause,
        // which is named whole.
        const std::string text(model.str(source[size_t(ut->failed)].text));
        EXPECT_EQ(text.rfind("unless ", 0) == 0, size_t(ut->failed) >= when_count[k]) << text;
        if (size_t(ut->failed) >= when_count[k]) {
          EXPECT_EQ(text, model.str(source.back().text));
        }
      }
    }
  }
  for (const char* u : {"split.u1", "split.u2", "split.u3"})
    for (int m = 0; m < 3; ++m) EXPECT_GT(seen[std::string(u) + "/" + std::to_string(m)], 0u) << u << " result " << m;
}

}  // namespace
}  // namespace pave::reference
