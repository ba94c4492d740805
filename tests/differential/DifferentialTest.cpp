// Differential test: the VM (through a real bundle) and the reference evaluator must agree
// on every decision field for many random schema-valid inputs, for every conformance
// policy with decisions and for the example repository; and the same input bound through
// the C++ API must give the JSON path's decision byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <pave/runtime.h>
#include <random>

#include "RefEval.h"
#include "codegen/Codegen.h"
#include "driver/Compile.h"

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
  std::vector<std::string> dirs = {std::string(PAVE_SOURCE_DIR) + "/examples"};
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

TEST(Differential, VmAgreesWithReferenceEvaluator) {
  size_t policies = 0, decisions = 0, bound_decisions = 0;
  std::map<std::string, size_t> outcomes;  // the generator must reach every outcome
  for (const std::string& dir : policyDirs()) {
    SCOPED_TRACE(dir);
    Compilation c;
    CompileOptions options;
    options.paths = {dir};
    options.now = 1795737600;
    ASSERT_FALSE(compile(options, c).has_value());
    ASSERT_TRUE(c.program) << "the policy does not check";
    rt::Bundle model;
    std::string error;
    codegen::CodegenOptions cg;
    cg.name = "differential";
    ASSERT_TRUE(codegen::generate(*c.program, c.sources, cg, model, error)) << error;
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(rt::writeBundle(model, {}, bytes, &error)) << error;
    auto bundle = rt::LoadedBundle::load(bytes, {}, &error);
    ASSERT_TRUE(bundle) << error;
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

}  // namespace
}  // namespace pave::reference
