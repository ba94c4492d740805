// Decision throughput of the runtime (Google Benchmark), with a native baseline in the
// same run: a hand-written C++ function of the example repository's CloudRole policy.
//
//   pave_bench_decide [--benchmark_filter=…]          # bundles built next to the binary
//   PAVE_BENCH_EXAMPLES=ex.pvb PAVE_BENCH_GENERATED=gen.pvb pave_bench_decide
//
// Benchmarks (one decision per iteration):
//   native/cloud_role         hand-written C++ of the CloudRole rules (pre-bound struct in)
//   native_json/cloud_role    the same behind nlohmann-json parsing and output
//   vm_json/example           Decider::decide + toJson: JSON in, decision JSON out
//   vm_bound/example          Decider::bind + InputBuilder + decideBound
//   vm_json/gen1000, vm_bound/gen1000   the same on the generated 1,000-rule bundle
//   bind_only/example, bind_only/gen1000   Decider::bind + InputBuilder alone (no decision)
// After the run a summary prints decisions per second, ns per decision and the ratio to
// native/cloud_role (and, for JSON benchmarks, to native_json/cloud_role). The summary uses
// CPU time, which is steadier than wall time on a shared machine. Last, each bundle's size
// in bytes per rule.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <unordered_map>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <span>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "pave/runtime.h"

using namespace pave::rt;

namespace {

// ---------------------------------------------------------------------------------------
// Inputs

constexpr std::string_view kExampleInput = R"({
  "type": "CloudRole",
  "principal": {"type": "Human", "email": "ana@acme.io", "groups": ["team-payments"], "on_call": false},
  "request": {"account": "111122223333", "owner": "team-payments", "role": "operator", "env": "dev",
              "duration": "2h", "tags": {"cost-center": "cc-42"}},
  "context": {"time": "2026-11-27T10:00:00Z", "break_glass": false}
})";

constexpr std::string_view kGeneratedInput = R"({
  "type": "Item3",
  "principal": {"type": "Human", "email": "bo@acme.io", "groups": ["team-7", "sre"], "on_call": true, "team": "team-7"},
  "request": {"account": "acct-7", "role": "admin-db", "env": "prod", "tier": "silver", "duration": "2h",
              "scopes": ["read:logs", "ops:3"], "tags": {"owner": "team-7", "cost-center": "42"},
              "justification": "rotate the database credentials after the incident"},
  "context": {"time": "2026-11-27T10:00:00Z", "source_ip": "10.3.1.2", "break_glass": false}
})";

// ---------------------------------------------------------------------------------------
// The native baseline: acme.CloudRole of examples/ (cloud.pave plus the guardrails that
// apply to it), written by hand the way an enforcement point might hard-code it.

enum class Env : uint8_t { dev, staging, prod };
enum class PrincipalKind : uint8_t { Human, Workload, Agent };

struct NativeCloudRoleInput {
  PrincipalKind principal;
  // Human
  std::string_view email;
  std::span<const std::string_view> groups;
  bool on_call = false;
  // Workload
  std::string_view spiffe_id, owner_of_workload;
  Env workload_env = Env::dev;
  bool attested = false;
  // request
  std::string_view account, owner, role;
  Env env;
  int64_t duration;
  const std::string_view* justification = nullptr;
  std::span<const std::pair<std::string_view, std::string_view>> tags;  // sorted by key
  // context
  int64_t time;
  bool has_source_ip = false;
  std::array<uint8_t, 4> source_ip{};
  bool break_glass = false;
};

template <typename T, size_t N>
struct SmallVec {
  std::array<T, N> v{};
  size_t n = 0;
  void push(const T& x) { v[n++] = x; }
  const T* begin() const { return v.data(); }
  const T* end() const { return v.data() + n; }
};

struct NativeDecision {
  Outcome outcome = Outcome::Deny;
  SmallVec<const char*, 8> rules, denyRules;
  struct Appr {
    const char* rule;
    SmallVec<std::string_view, 2> groups;
    uint32_t quorum;
  };
  SmallVec<Appr, 4> approvals;
  std::array<char, 256> text{};  // evaluated group names
  size_t text_used = 0;
  std::string_view concat(std::string_view a, std::string_view b) {
    if (text_used + a.size() + b.size() > text.size()) return {};
    char* p = text.data() + text_used;
    std::copy(a.begin(), a.end(), p);
    std::copy(b.begin(), b.end(), p + a.size());
    text_used += a.size() + b.size();
    return {p, a.size() + b.size()};
  }
  void reset() {
    outcome = Outcome::Deny;
    rules.n = denyRules.n = approvals.n = scopes.n = reasons.n = 0;
    max_ttl = 3600;
    text_used = 0;
  }
  int64_t max_ttl = 3600;
  SmallVec<std::string_view, 8> scopes;
  SmallVec<const char*, 8> reasons;
};

bool businessHours(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t weekday = ((days % 7 + 7) % 7 + 3) % 7 + 1;
  int64_t hour = (t - days * 86400) / 3600;
  return weekday >= 1 && weekday <= 5 && hour >= 8 && hour < 18;
}

bool privateAddress(const std::array<uint8_t, 4>& ip) {
  return ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) || (ip[0] == 192 && ip[1] == 168);
}

bool hasTag(const NativeCloudRoleInput& in, std::string_view key) {
  auto it = std::lower_bound(in.tags.begin(), in.tags.end(), key,
                             [](const auto& e, std::string_view k) { return e.first < k; });
  return it != in.tags.end() && it->first == key;
}

void mergeScopes(NativeDecision& d, std::initializer_list<std::string_view> add) {
  for (std::string_view s : add) {
    auto* end = d.scopes.v.data() + d.scopes.n;
    auto* at = std::lower_bound(d.scopes.v.data(), end, s);
    if (at != end && *at == s) continue;
    std::move_backward(at, end, end + 1);
    *at = s;
    ++d.scopes.n;
  }
}

// The catalog (examples/data/accounts.json and teams.jsonl) as an enforcement point would
// hold it: hash maps keyed by account and by team.
struct NativeAccount {
  std::string_view owner;
  Env env;
  bool frozen;
};
const std::unordered_map<std::string_view, NativeAccount>& nativeAccounts() {
  static const std::unordered_map<std::string_view, NativeAccount> m = {
      {"111122223333", {"team-payments", Env::dev, false}},  {"222233334444", {"team-payments", Env::staging, false}},
      {"444455556666", {"team-payments", Env::prod, false}}, {"555566667777", {"team-ledger", Env::dev, true}},
      {"777788889999", {"team-ledger", Env::prod, false}}};
  return m;
}
const std::unordered_map<std::string_view, std::vector<std::string_view>>& nativeTeamLeads() {
  static const std::unordered_map<std::string_view, std::vector<std::string_view>> m = {
      {"team-payments", {"lena@acme.io"}}, {"team-ledger", {"omar@acme.io", "iris@acme.io"}}, {"team-observability", {}}};
  return m;
}

__attribute__((noinline)) void nativeCloudRole(const NativeCloudRoleInput& in, NativeDecision& d) {
  d.reset();
  const auto& accounts = nativeAccounts();
  auto acct = accounts.find(in.account);
  const NativeAccount* account = acct == accounts.end() ? nullptr : &acct->second;
  const bool human = in.principal == PrincipalKind::Human, workload = in.principal == PrincipalKind::Workload;
  // Rules in qualified-name order, like the VM's.
  bool break_glass = in.break_glass;
  bool admin_roles = in.role == "admin" && account && in.duration <= 3600;
  bool catalog_mismatch = !(account && account->owner == in.owner && !account->frozen);
  bool lead_prod_read = false;
  if (human && account && account->env == Env::prod && in.role == "reader" && in.duration <= 3600) {
    auto team = nativeTeamLeads().find(account->owner);
    if (team != nativeTeamLeads().end())
      lead_prod_read = std::find(team->second.begin(), team->second.end(), in.email) != team->second.end();
  }
  bool human_nonprod = human && (in.env == Env::dev || in.env == Env::staging) && in.duration <= 4 * 3600;
  bool human_prod = human && in.env == Env::prod && in.duration <= 3600 && in.justification &&
                    in.justification->size() >= 20;
  bool untagged = !hasTag(in, "cost-center");
  bool own = workload && in.owner == in.owner_of_workload && in.env == in.workload_env && in.duration <= 3600;
  bool after_hours = own && !businessHours(in.time);
  bool own_account = own && businessHours(in.time);
  bool offsite = human && in.env == Env::prod && !(in.has_source_ip && privateAddress(in.source_ip));
  bool unattested = workload && !in.attested;

  if (break_glass) d.denyRules.push("acme.break_glass_requests");
  if (catalog_mismatch) d.denyRules.push("acme.cloud.catalog_mismatch");
  if (untagged) d.denyRules.push("acme.cloud.untagged_session");
  if (offsite) d.denyRules.push("acme.offsite_prod");
  if (unattested) d.denyRules.push("acme.unattested_workload");
  if (admin_roles) d.rules.push("acme.cloud.admin_roles");
  if (human_nonprod) d.rules.push("acme.cloud.human_nonprod");
  if (human_prod) d.rules.push("acme.cloud.human_prod");
  if (lead_prod_read) d.rules.push("acme.cloud.lead_prod_read");
  if (after_hours) d.rules.push("acme.cloud.workload_after_hours");
  if (own_account) d.rules.push("acme.cloud.workload_own_account");
  if (d.denyRules.n) {
    d.outcome = Outcome::Deny;
    if (break_glass) d.reasons.push("break-glass access goes through the incident process");
    if (catalog_mismatch)
      d.reasons.push("the account is not in the catalog, is frozen, or owned by another team than the request says");
    if (untagged) d.reasons.push("cloud role sessions need a cost-center tag");
    if (offsite) d.reasons.push("production requests from people must come from the corporate network");
    if (unattested) d.reasons.push("workload identity must be attested");
    return;
  }
  bool approval = admin_roles || human_prod || after_hours;
  if (!approval && !human_nonprod && !own_account && !lead_prod_read) {
    d.reasons.push("no-matching-rule");
    return;
  }
  d.outcome = approval ? Outcome::Approval : Outcome::Allow;
  bool assigned = false;
  auto ttl = [&](int64_t v) {
    d.max_ttl = assigned ? std::min(d.max_ttl, v) : v;
    assigned = true;
  };
  if (admin_roles) {
    ttl(1800), mergeScopes(d, {"admin"});
    NativeDecision::Appr a{"acme.cloud.admin_roles", {}, 2};
    std::string_view leads = d.concat(account->owner, "-leads");
    if (leads < "security") a.groups.push(leads), a.groups.push("security");
    else a.groups.push("security"), a.groups.push(leads);
    d.approvals.push(a);
  }
  if (human_nonprod) ttl(in.duration), mergeScopes(d, {"read", "write"});
  if (human_prod) {
    ttl(in.duration), mergeScopes(d, {"read"});
    NativeDecision::Appr a{"acme.cloud.human_prod", {}, 1};
    a.groups.push("sre-leads");
    d.approvals.push(a);
  }
  if (after_hours) {
    ttl(1800), mergeScopes(d, {"deploy"});
    NativeDecision::Appr a{"acme.cloud.workload_after_hours", {}, 1};
    a.groups.push(d.concat(in.owner_of_workload, "-oncall"));
    d.approvals.push(a);
  }
  if (lead_prod_read) ttl(in.duration), mergeScopes(d, {"read"});
  if (own_account) ttl(in.duration), mergeScopes(d, {"deploy"});
}

constexpr std::string_view kAnaGroups[] = {"team-payments"};
constexpr std::pair<std::string_view, std::string_view> kAnaTags[] = {{"cost-center", "cc-42"}};
constexpr int64_t kNow = 1795773600;  // 2026-11-27T10:00:00Z

void BM_Native(benchmark::State& state) {
  NativeDecision d;
  for (auto _ : state) {
    NativeCloudRoleInput in{};
    in.principal = PrincipalKind::Human;
    in.email = "ana@acme.io";
    in.groups = kAnaGroups;
    in.account = "111122223333";
    in.owner = "team-payments";
    in.role = "operator";
    in.env = Env::dev;
    in.duration = 7200;
    in.tags = kAnaTags;
    in.time = kNow;
    benchmark::DoNotOptimize(in);
    nativeCloudRole(in, d);
    benchmark::DoNotOptimize(d);
    if (d.outcome != Outcome::Allow) state.SkipWithError("native baseline: expected allow");
  }
}

int64_t parseDurationSimple(const std::string& s) {
  int64_t total = 0, n = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') n = n * 10 + (c - '0');
    else total += n * (c == 'd' ? 86400 : c == 'h' ? 3600 : c == 'm' ? 60 : 1), n = 0;
  }
  return total;
}

// The native function behind a general-purpose JSON library (no validation beyond what
// the field accesses need): the cost an enforcement point pays without Pave's decoder.
void BM_NativeJson(benchmark::State& state) {
  NativeDecision d;
  std::string out;
  for (auto _ : state) {
    auto j = nlohmann::json::parse(kExampleInput);
    const auto& p = j.at("principal");
    const auto& r = j.at("request");
    const auto& c = j.at("context");
    NativeCloudRoleInput in{};
    std::string ptype = p.at("type").get<std::string>();
    in.principal = ptype == "Human" ? PrincipalKind::Human : ptype == "Workload" ? PrincipalKind::Workload
                                                                                 : PrincipalKind::Agent;
    std::vector<std::string> groups = p.at("groups").get<std::vector<std::string>>();
    std::vector<std::string_view> gv(groups.begin(), groups.end());
    in.groups = gv;
    std::string account = r.at("account").get<std::string>(), owner = r.at("owner").get<std::string>(),
                role = r.at("role").get<std::string>(), env = r.at("env").get<std::string>();
    in.account = account;
    in.owner = owner;
    in.role = role;
    in.env = env == "dev" ? Env::dev : env == "staging" ? Env::staging : Env::prod;
    in.duration = parseDurationSimple(r.at("duration").get<std::string>());
    std::vector<std::pair<std::string, std::string>> tags;
    for (auto& [k, v] : r.at("tags").items()) tags.emplace_back(k, v.get<std::string>());
    std::vector<std::pair<std::string_view, std::string_view>> tv(tags.begin(), tags.end());
    in.tags = tv;
    in.time = kNow;  // a timestamp parser would add a little more
    in.break_glass = c.at("break_glass").get<bool>();
    nativeCloudRole(in, d);
    nlohmann::json o;
    o["decision"] = d.outcome == Outcome::Allow ? "allow" : d.outcome == Outcome::Approval ? "approval" : "deny";
    o["rules"] = std::vector<std::string>(d.rules.begin(), d.rules.end());
    o["grants"]["max_ttl"] = d.max_ttl;
    o["grants"]["scopes"] = std::vector<std::string>(d.scopes.begin(), d.scopes.end());
    out = o.dump();
    benchmark::DoNotOptimize(out);
  }
}

// ---------------------------------------------------------------------------------------
// The VM

std::string bundlePath(const char* env, const char* file) {
  if (const char* p = std::getenv(env)) return p;
  return std::string(PAVE_BENCH_BUNDLE_DIR) + "/" + file;
}

std::shared_ptr<const LoadedBundle> loadOrDie(const std::string& path) {
  std::string err;
  auto b = LoadedBundle::loadFile(path, {}, &err);
  if (!b) {
    std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), err.c_str());
    std::exit(2);
  }
  return b;
}

const std::shared_ptr<const LoadedBundle>& exampleBundle() {
  static auto b = loadOrDie(bundlePath("PAVE_BENCH_EXAMPLES", "examples.pvb"));
  return b;
}
const std::shared_ptr<const LoadedBundle>& generatedBundle() {
  static auto b = loadOrDie(bundlePath("PAVE_BENCH_GENERATED", "gen1000.pvb"));
  return b;
}

void vmJson(benchmark::State& state, const std::shared_ptr<const LoadedBundle>& b, std::string_view input,
            Outcome expect) {
  Decider decider(b);
  std::string out;
  for (auto _ : state) {
    const Decision& d = decider.decide(input);
    out.clear();
    toJson(*b, d, out);
    benchmark::DoNotOptimize(out.data());
    if (d.outcome != expect) {
      state.SkipWithError(("unexpected decision: " + out).c_str());
      break;
    }
  }
}

// Slot of a request / principal / context attribute by name (resolved once, up front).
uint32_t requestSlot(const LoadedBundle& b, std::string_view name) {
  const Schema& s = b.model().schema;
  for (uint32_t i = 0; i < s.requestSlots.size(); ++i)
    if (b.model().strings[s.requestSlots[i].name] == name) return i;
  std::fprintf(stderr, "no request slot %s\n", std::string(name).c_str());
  std::exit(2);
}
uint32_t attrIndex(const LoadedBundle& b, const std::vector<Attribute>& attrs, std::string_view name) {
  for (uint32_t i = 0; i < attrs.size(); ++i)
    if (b.model().strings[attrs[i].name] == name) return i;
  std::fprintf(stderr, "no attribute %s\n", std::string(name).c_str());
  std::exit(2);
}
uint32_t enumMember(const LoadedBundle& b, std::string_view enumName, std::string_view member) {
  for (const EnumDecl& e : b.model().schema.enums) {
    if (b.model().strings[e.name] != enumName) continue;
    for (uint32_t k = 0; k < e.members.size(); ++k)
      if (b.model().strings[e.members[k]] == member) return k;
  }
  std::fprintf(stderr, "no enum member %s.%s\n", std::string(enumName).c_str(), std::string(member).c_str());
  std::exit(2);
}
uint32_t enumIndex(const LoadedBundle& b, std::string_view enumName) {
  const auto& enums = b.model().schema.enums;
  for (uint32_t e = 0; e < enums.size(); ++e)
    if (b.model().strings[enums[e].name] == enumName) return e;
  std::exit(2);
}

constexpr int64_t kTwoHours = 7200;

void BM_VmJsonExample(benchmark::State& state) { vmJson(state, exampleBundle(), kExampleInput, Outcome::Allow); }

// The example input bound through InputBuilder (slots resolved once, up front).
struct ExampleBinding {
  explicit ExampleBinding(const LoadedBundle& b) {
    const Schema& s = b.model().schema;
    type = uint32_t(b.findRequestType("CloudRole")), human = uint32_t(b.findPrincipalType("Human"));
    const auto& hattrs = s.principals[human].attrs;
    pEmail = attrIndex(b, hattrs, "email"), pGroups = attrIndex(b, hattrs, "groups"),
    pOnCall = attrIndex(b, hattrs, "on_call");
    rAccount = requestSlot(b, "account"), rOwner = requestSlot(b, "owner"), rRole = requestSlot(b, "role"),
    rEnv = requestSlot(b, "env"), rDuration = requestSlot(b, "duration"), rTags = requestSlot(b, "tags");
    cTime = attrIndex(b, s.context, "time"), cBreakGlass = attrIndex(b, s.context, "break_glass");
    envEnum = enumIndex(b, "acme.Env"), dev = enumMember(b, "acme.Env", "dev");
  }
  bool bind(Decider& decider) const {
    InputBuilder in = decider.bind(type, human);
    return in.principal(pEmail, Value::string("ana@acme.io")) && in.principal(pGroups, Value::set(groups, 1)) &&
           in.principal(pOnCall, Value::boolean(false)) && in.request(rAccount, Value::string("111122223333")) &&
           in.request(rOwner, Value::string("team-payments")) && in.request(rRole, Value::string("operator")) &&
           in.request(rEnv, Value::enumMember(envEnum, dev)) &&
           in.request(rDuration, Value::integer(kTwoHours, Kind::Duration)) &&
           in.request(rTags, Value::map(tags, 1)) && in.context(cTime, Value::integer(kNow, Kind::Timestamp)) &&
           in.context(cBreakGlass, Value::boolean(false));
  }
  uint32_t type, human, pEmail, pGroups, pOnCall, rAccount, rOwner, rRole, rEnv, rDuration, rTags, cTime, cBreakGlass,
      envEnum, dev;
  const Value groups[1] = {Value::string("team-payments")};
  const Value tags[2] = {Value::string("cost-center"), Value::string("cc-42")};
};

void BM_VmBoundExample(benchmark::State& state) {
  const auto& b = exampleBundle();
  Decider decider(b);
  const ExampleBinding input(*b);
  for (auto _ : state) {
    bool ok = input.bind(decider);
    const Decision& d = decider.decideBound();
    benchmark::DoNotOptimize(&d);
    if (!ok || d.outcome != Outcome::Allow) {
      state.SkipWithError("bound example: unexpected decision");
      break;
    }
  }
}

void BM_VmJsonGenerated(benchmark::State& state) {
  vmJson(state, generatedBundle(), kGeneratedInput, Outcome::Approval);
}

// The generated input bound through InputBuilder.
struct GeneratedBinding {
  explicit GeneratedBinding(const LoadedBundle& b) {
    const Schema& s = b.model().schema;
    type = uint32_t(b.findRequestType("Item3")), human = uint32_t(b.findPrincipalType("Human"));
    const auto& hattrs = s.principals[human].attrs;
    pEmail = attrIndex(b, hattrs, "email"), pGroups = attrIndex(b, hattrs, "groups"),
    pOnCall = attrIndex(b, hattrs, "on_call"), pTeam = attrIndex(b, hattrs, "team");
    rAccount = requestSlot(b, "account"), rRole = requestSlot(b, "role"), rEnv = requestSlot(b, "env"),
    rTier = requestSlot(b, "tier"), rDuration = requestSlot(b, "duration"), rScopes = requestSlot(b, "scopes"),
    rTags = requestSlot(b, "tags"), rJustification = requestSlot(b, "justification");
    cTime = attrIndex(b, s.context, "time"), cSourceIp = attrIndex(b, s.context, "source_ip"),
    cBreakGlass = attrIndex(b, s.context, "break_glass");
    envEnum = enumIndex(b, "bench.Env"), tierEnum = enumIndex(b, "bench.Tier");
    prod = enumMember(b, "bench.Env", "prod"), silver = enumMember(b, "bench.Tier", "silver");
    std::memset(ip.ip, 0, sizeof ip.ip);  // IPv4 uses the first 4 bytes; the rest must be zero
    ip.kind = Kind::Ip;
    ip.family = 4;
    ip.ip[0] = 10, ip.ip[1] = 3, ip.ip[2] = 1, ip.ip[3] = 2;
  }
  bool bind(Decider& decider) const {
    InputBuilder in = decider.bind(type, human);
    return in.principal(pEmail, Value::string("bo@acme.io")) && in.principal(pGroups, Value::set(groups, 2)) &&
           in.principal(pOnCall, Value::boolean(true)) && in.principal(pTeam, Value::string("team-7")) &&
           in.request(rAccount, Value::string("acct-7")) && in.request(rRole, Value::string("admin-db")) &&
           in.request(rEnv, Value::enumMember(envEnum, prod)) && in.request(rTier, Value::enumMember(tierEnum, silver)) &&
           in.request(rDuration, Value::integer(kTwoHours, Kind::Duration)) &&
           in.request(rScopes, Value::set(scopes, 2)) && in.request(rTags, Value::map(tags, 2)) &&
           in.request(rJustification, Value::string("rotate the database credentials after the incident")) &&
           in.context(cTime, Value::integer(kNow, Kind::Timestamp)) && in.context(cSourceIp, ip) &&
           in.context(cBreakGlass, Value::boolean(false));
  }
  uint32_t type, human, pEmail, pGroups, pOnCall, pTeam, rAccount, rRole, rEnv, rTier, rDuration, rScopes, rTags,
      rJustification, cTime, cSourceIp, cBreakGlass, envEnum, tierEnum, prod, silver;
  const Value groups[2] = {Value::string("sre"), Value::string("team-7")};
  const Value scopes[2] = {Value::string("ops:3"), Value::string("read:logs")};
  const Value tags[4] = {Value::string("cost-center"), Value::string("42"), Value::string("owner"),
                         Value::string("team-7")};
  Value ip;
};

void BM_VmBoundGenerated(benchmark::State& state) {
  const auto& b = generatedBundle();
  Decider decider(b);
  const GeneratedBinding input(*b);
  for (auto _ : state) {
    bool ok = input.bind(decider);
    const Decision& d = decider.decideBound();
    benchmark::DoNotOptimize(&d);
    if (!ok || d.outcome != Outcome::Approval || !d.errors.empty()) {
      state.SkipWithError("bound generated: unexpected decision");
      break;
    }
  }
}

// Binding alone (InputBuilder with its checks, no decision): the part of vm_bound/* that
// an enforcement point pays to hand its values over.
template <typename Binding>
void bindOnly(benchmark::State& state, const std::shared_ptr<const LoadedBundle>& b) {
  Decider decider(b);
  const Binding input(*b);
  for (auto _ : state) {
    bool ok = input.bind(decider);
    benchmark::DoNotOptimize(ok);
    if (!ok) {
      state.SkipWithError("binding refused a value");
      break;
    }
  }
}
void BM_BindExample(benchmark::State& state) { bindOnly<ExampleBinding>(state, exampleBundle()); }
void BM_BindGenerated(benchmark::State& state) { bindOnly<GeneratedBinding>(state, generatedBundle()); }

constexpr std::pair<const char*, void (*)(benchmark::State&)> kBenchmarks[] = {
    {"native/cloud_role", BM_Native},         {"native_json/cloud_role", BM_NativeJson},
    {"vm_json/example", BM_VmJsonExample},    {"vm_bound/example", BM_VmBoundExample},
    {"vm_json/gen1000", BM_VmJsonGenerated},  {"vm_bound/gen1000", BM_VmBoundGenerated},
    {"bind_only/example", BM_BindExample},    {"bind_only/gen1000", BM_BindGenerated},
};

// Keeps each run's time per iteration for the summary: per benchmark, the median over its
// repetitions, and its ratio to the native baseline as the median of the per-repetition
// ratios. With --benchmark_enable_random_interleaving, repetition k of every benchmark runs
// in the same round, so pairing by repetition cancels the machine's slower and faster spells.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) failed_.insert(r.benchmark_name());
      else if (r.run_type == Run::RT_Iteration)
        ns_[r.benchmark_name()][r.repetition_index] = r.GetAdjustedCPUTime() * nsPerUnit(r.time_unit);
    }
  }
  // The benchmarks that stopped with an error (an unexpected decision, a refused value).
  const std::set<std::string>& failed() const { return failed_; }
  void summary() const {
    using Reps = std::map<int64_t, double>;
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      const size_t n = v.size();
      return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    auto times = [](const Reps& reps) {
      std::vector<double> v;
      for (const auto& [k, ns] : reps) v.push_back(ns);
      return v;
    };
    // The median ratio of the repetitions both have (the ratio of medians if none).
    auto ratio = [&](const Reps& x, const Reps& base) {
      std::vector<double> r;
      for (const auto& [k, ns] : x)
        if (auto it = base.find(k); it != base.end() && it->second > 0) r.push_back(ns / it->second);
      if (!r.empty()) return median(r);
      const double b = median(times(base));
      return b > 0 ? median(times(x)) / b : 0.0;
    };
    const Reps none;
    auto find = [&](const std::string& n) -> const Reps& { auto it = ns_.find(n); return it == ns_.end() ? none : it->second; };
    const Reps &native = find("native/cloud_role"), &native_json = find("native_json/cloud_role");
    std::printf("\n%-24s %14s %12s %12s %16s %6s\n", "benchmark", "decisions/s", "ns/decision", "vs native",
                "vs native_json", "runs");
    for (const auto& [name, reps] : ns_) {
      const double ns = median(times(reps));
      std::printf("%-24s %14.0f %12.1f", name.c_str(), 1e9 / ns, ns);
      if (!native.empty()) std::printf(" %11.2fx", ratio(reps, native));
      else std::printf(" %12s", "");
      if (!native_json.empty() && name.find("json") != std::string::npos) std::printf(" %15.2fx", ratio(reps, native_json));
      else std::printf(" %16s", "");
      std::printf(" %6zu\n", reps.size());
    }
    // The goals of the bytecode-and-VM issue (the runtime's size is pave_runtime_size's).
    std::printf("\n");
    auto goal = [&](const char* what, const std::string& name, double value, double limit, const char* unit) {
      if (find(name).empty()) return;
      std::printf("goal: %-40s %10.2f%-3s (limit %.2f%s) %s\n", what, value, unit, limit, unit,
                  value <= limit ? "met" : "not met");
    };
    goal("pre-bound, 1,000-rule bundle", "vm_bound/gen1000", median(times(find("vm_bound/gen1000"))), 100, " ns");
    goal("JSON in/out, 1,000-rule bundle", "vm_json/gen1000", median(times(find("vm_json/gen1000"))), 1000, " ns");
    if (!native.empty())
      goal("VM against native (pre-bound example)", "vm_bound/example", ratio(find("vm_bound/example"), native), 3, "x");
  }

 private:
  static double nsPerUnit(benchmark::TimeUnit u) {
    switch (u) {
      case benchmark::kNanosecond: return 1;
      case benchmark::kMicrosecond: return 1e3;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kSecond: return 1e9;
    }
    return 1;
  }
  std::map<std::string, std::map<int64_t, double>> ns_;  // per benchmark, per repetition
  std::set<std::string> failed_;
};

// Each bundle's size in bytes, per rule (exceptions count as rules: each is one in the
// bundle's rule table).
void printBundleSizes() {
  std::printf("\n");
  for (const auto& [label, env, file, bundle] :
       {std::tuple{"example", "PAVE_BENCH_EXAMPLES", "examples.pvb", &exampleBundle},
        std::tuple{"gen1000", "PAVE_BENCH_GENERATED", "gen1000.pvb", &generatedBundle}}) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(bundlePath(env, file), ec);
    const size_t rules = (*bundle)()->model().rules.size();
    if (ec || rules == 0) continue;
    std::printf("bundle: %-8s %10ju bytes, %5zu rules, %6.1f bytes per rule\n", label, uintmax_t(bytes), rules,
                double(bytes) / double(rules));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // PAVE_BENCH_ITERATIONS=N runs each benchmark exactly N times, for instruction counts:
  // the difference of two runs under callgrind divided by the difference of their N.
  const char* fixed = std::getenv("PAVE_BENCH_ITERATIONS");
  for (const auto& [name, fn] : kBenchmarks) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    if (fixed) b->Iterations(std::max<benchmark::IterationCount>(1, std::atoll(fixed)));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.summary();
  printBundleSizes();
  benchmark::Shutdown();
  // A benchmark that stopped with an error fails the run (CI runs every benchmark a few
  // iterations to check that each still gets its expected decision).
  for (const std::string& name : reporter.failed()) std::fprintf(stderr, "pave_bench_decide: %s failed\n", name.c_str());
  return reporter.failed().empty() ? 0 : 1;
}
