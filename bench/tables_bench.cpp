// Tables (SPEC §2.3): the load time of a bundle with a large table, and the cost of two
// lookups in a pre-bound decision next to the same decision without them, in one run.
//
//   pave_bench_tables WITH.pvb WITHOUT.pvb [--iterations N] [--repeat R]
//
// Both bundles decide request type `Role` for principal `Human { team }` with request
// `{ account, env }`; WITH looks the account up twice (`account in accounts` and
// `accounts[account].owner == principal.team`), WITHOUT compares the same attributes with
// constants. bench/tables_bench.py generates both and runs this.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pave/runtime.h"

using namespace pave::rt;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> readAll(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(2);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

uint32_t slotOf(const LoadedBundle& b, std::string_view name) {
  const Schema& s = b.model().schema;
  for (uint32_t i = 0; i < s.requestSlots.size(); ++i)
    if (b.model().strings[s.requestSlots[i].name] == name) return i;
  std::fprintf(stderr, "no request attribute %.*s\n", int(name.size()), name.data());
  std::exit(2);
}

// ns per pre-bound decision (median of `repeat` runs of `iterations` decisions), cycling
// through `accounts` keys.
double decideNs(const std::shared_ptr<const LoadedBundle>& b, const std::vector<std::string>& accounts,
                const std::vector<std::string>& teams, long iterations, int repeat, Outcome want_first) {
  Decider decider(b);
  const uint32_t type = uint32_t(b->findRequestType("Role")), human = uint32_t(b->findPrincipalType("Human"));
  const uint32_t rAccount = slotOf(*b, "account");
  const auto& hattrs = b->model().schema.principals[human].attrs;
  uint32_t pTeam = 0;
  for (uint32_t i = 0; i < hattrs.size(); ++i)
    if (b->model().strings[hattrs[i].name] == "team") pTeam = i;
  const uint32_t cTime = 0;
  std::vector<double> runs;
  size_t matched = 0;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) {
      size_t k = size_t(i) % accounts.size();
      InputBuilder in = decider.bind(type, human);
      bool ok = in.principal(pTeam, Value::string(teams[k])) && in.request(rAccount, Value::string(accounts[k])) &&
                in.context(cTime, Value::integer(1764237600, Kind::Timestamp));
      const Decision& d = decider.decideBound();
      if (!ok) {
        std::fprintf(stderr, "binding failed\n");
        std::exit(1);
      }
      matched += d.outcome == Outcome::Allow;
    }
    runs.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / double(iterations));
  }
  // Every decision is an allow in both bundles (each account's owner is asked for): a
  // check that the two measure the same outcome.
  if (matched != size_t(iterations) * size_t(repeat) || want_first != Outcome::Allow) {
    std::fprintf(stderr, "unexpected decisions: %zu of %ld allowed\n", matched, iterations * repeat);
    std::exit(1);
  }
  return median(runs);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: pave_bench_tables WITH.pvb WITHOUT.pvb KEYS.txt [--iterations N] [--repeat R]\n");
    return 2;
  }
  long iterations = 2000000;
  int repeat = 5;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--iterations") iterations = std::atol(argv[i + 1]);
    if (std::string(argv[i]) == "--repeat") repeat = std::atoi(argv[i + 1]);
  }
  // KEYS.txt: `account team` per line, the pairs the decisions ask for.
  std::vector<std::string> accounts, teams;
  {
    std::ifstream in(argv[3]);
    std::string a, t;
    while (in >> a >> t) {
      accounts.push_back(a);
      teams.push_back(t);
    }
  }
  if (accounts.empty()) return 2;
  std::vector<uint8_t> with = readAll(argv[1]), without = readAll(argv[2]);
  std::vector<double> loads;
  std::shared_ptr<const LoadedBundle> bw;
  for (int r = 0; r < repeat; ++r) {
    bw.reset();
    std::string error;
    auto t0 = Clock::now();
    bw = LoadedBundle::load(with, {}, &error);
    loads.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!bw) {
      std::fprintf(stderr, "load: %s\n", error.c_str());
      return 1;
    }
  }
  std::string error;
  auto bo = LoadedBundle::load(without, {}, &error);
  if (!bo) {
    std::fprintf(stderr, "load: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::string> same_accounts(accounts.size(), "acct"), same_teams(accounts.size(), "team");
  double ns_with = decideNs(bw, accounts, teams, iterations, repeat, Outcome::Allow);
  double ns_without = decideNs(bo, same_accounts, same_teams, iterations, repeat, Outcome::Allow);
  std::printf("bundle load (with the table): %.1f ms (median of %d)\n", median(loads), repeat);
  std::printf("decision, pre-bound, two lookups:    %.1f ns\n", ns_with);
  std::printf("decision, pre-bound, no lookups:     %.1f ns\n", ns_without);
  std::printf("cost of the two lookups:             %+.1f ns (goal: within 100 ns)\n", ns_with - ns_without);
  return 0;
}
