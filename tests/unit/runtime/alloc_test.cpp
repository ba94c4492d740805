// Deciding allocates nothing once a Decider is warm: its lists have room for the most a
// decision of its bundle holds (Decider::State::prepare) and its scratch memory is reused.
// Counted by replacing the global operator new for this test binary (counting only while a
// test asks).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "test_support.h"

namespace {
thread_local bool t_counting = false;
thread_local size_t t_allocations = 0;
}  // namespace

// GCC takes the replaced operators' malloc/free for a mismatch with new/delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
// Every non-aligned form, so that each allocation and its release pair up (the sanitizers
// check that they do).
namespace {
void* counted(size_t n) {
  if (t_counting) ++t_allocations;
  return std::malloc(n ? n : 1);
}
}  // namespace
void* operator new(size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace pave::rt::test {
namespace {

// The allocations made by `fn`.
template <typename Fn>
size_t allocationsOf(Fn&& fn) {
  t_allocations = 0;
  t_counting = true;
  fn();
  t_counting = false;
  return t_allocations;
}

TEST(Allocations, CountingSeesAnAllocation) {  // the hook works
  EXPECT_EQ(allocationsOf([] {
              std::vector<int> v(100);
              asm volatile("" : : "r"(v.data()) : "memory");  // kept
            }),
            1u);
}

TEST(Allocations, WarmDecisionsAllocateNothing) {
  Catalog c;
  uint32_t nonprod = c.rule("acme.nonprod", Effect::Allow, {c.cloudRole}, {requestEnvIs(c, 0)});
  c.grant(nonprod, "max_ttl", loadRequest(c, c.sDuration));
  uint32_t leads = c.rule("acme.leads", Effect::Approve, {c.cloudRole}, {requestRoleIs(c, "admin")});
  c.b.rules[leads].approvers = {c.fn(constString("security")), c.fn(constString("leads"))};
  uint32_t deny = c.rule("acme.no_prod", Effect::Deny, {c.cloudRole}, {requestEnvIs(c, 2)});
  c.exception("acme.prod_window", deny, 1898761599, {requestRoleIs(c, "viewer")});
  auto lb = c.load();
  Decider d(lb);
  auto bound = [&](const char* role, const char* env) {
    InputBuilder in = d.bind(c.cloudRole, c.human);
    const Value groups[] = {Value::string("dev")};
    bool ok = in.principal(c.hEmail, Value::string("dev@acme.io")) && in.principal(c.hGroups, Value::set(groups, 1)) &&
              in.principal(c.hOnCall, Value::boolean(false)) && in.request(c.sAccount, Value::string("123456789012")) &&
              in.request(c.sRole, Value::string(role)) && in.request("env", in.makeEnum("Env", env)) &&
              in.request(c.sDuration, Value::integer(7200, Kind::Duration)) &&
              in.context(c.cTime, Value::integer(1795773600, Kind::Timestamp)) &&
              in.context(c.cBreakGlass, Value::boolean(false));
    EXPECT_TRUE(ok);
    return d.decideBound().outcome;
  };
  const std::string json_input = humanInput(cloudRequest("prod", "viewer"));
  // Warm: one decision of each kind, and one with a trace.
  EXPECT_EQ(bound("viewer", "dev"), Outcome::Allow);
  EXPECT_EQ(bound("admin", "dev"), Outcome::Approval);
  EXPECT_EQ(bound("admin", "prod"), Outcome::Deny);
  EXPECT_EQ(bound("viewer", "prod"), Outcome::Deny);  // lifted, then no allow rule matches
  EXPECT_EQ(d.decide(json_input).outcome, Outcome::Deny);
  d.decide(json_input, true);
  EXPECT_EQ(allocationsOf([&] {
              for (int i = 0; i < 10; ++i) {
                bound("viewer", "dev");
                bound("admin", "dev");
                bound("admin", "prod");
                bound("viewer", "prod");
              }
            }),
            0u);
  EXPECT_EQ(allocationsOf([&] {
              for (int i = 0; i < 10; ++i) d.decide(json_input);
            }),
            0u);
  EXPECT_EQ(allocationsOf([&] {
              for (int i = 0; i < 10; ++i) d.decide(json_input, true);
            }),
            0u);
}

}  // namespace
}  // namespace pave::rt::test
