// Tables in the runtime (SPEC §2.3): the data section round trip, the verifier's checks of
// it, and LOAD_TABLE / GET_FIELD / HAS_FIELD with IN_MAP and MAP_GET over a table.
#include <gtest/gtest.h>

#include "big_array.h"
#include "test_support.h"

namespace pave::rt::test {
namespace {

// `record acme.Account { owner: String, env: Env, frozen: Bool? }` and a table of it with
// rows "111" (team-a, dev) and "222" (team-b, prod, frozen).
struct WithTable {
  Catalog c;
  TypeId tRecord = 0, tTable = 0;
  WithTable() {
    Bundle& b = c.b;
    b.records.push_back({b.intern("acme.Account"),
                         {{b.intern("owner"), c.tString, false}, {b.intern("env"), c.tEnv, false},
                          {b.intern("frozen"), c.tBool, true}}});
    tRecord = b.typeId(TypeDesc{TypeKind::Record, 0, kNone});
    tTable = b.typeId(TypeDesc{TypeKind::Map, kNone, tRecord});
    Table t;
    t.name = b.intern("acme.accounts");
    t.type = tTable;
    t.keys = {"111", "222"};
    t.rows = {row("team-a", 0, std::nullopt), row("team-b", 2, true)};
    b.tables.push_back(std::move(t));
    b.meta.dataDigest = b.intern("sha256:00");
  }
  Const row(const std::string& owner, int64_t env, std::optional<bool> frozen) {
    Const r;
    r.type = tRecord;
    Const o;
    o.type = c.tString;
    o.str = c.b.intern(owner);
    Const e;
    e.type = c.tEnv;
    e.i = env;
    Const f;
    f.type = frozen ? c.tBool : kNone;
    f.i = frozen.value_or(false);
    r.elems = {o, e, f};
    return r;
  }
  std::string loadError() {
    std::vector<uint8_t> bytes;
    std::string error;
    if (!writeBundle(c.b, {}, bytes, &error)) return "write: " + error;
    return LoadedBundle::load(bytes, {}, &error) ? "" : error;
  }
};

// `request.account in accounts and accounts[request.account].<attr …>` pieces.
Body inTable(Catalog& c) {
  return [&c](FunctionBuilder& fb) {
    Reg t = fb.reg(), k = fb.reg(), out = fb.reg();
    fb.emit(Op::LOAD_TABLE, t, 0);
    fb.emit(Op::LOAD_REQ, k, c.sAccount);
    fb.emit(Op::IN_MAP, out, k, t);
    return out;
  };
}
Body rowAttr(Catalog& c, Op op, uint32_t attr, std::optional<std::string> equals = std::nullopt) {
  return [&c, op, attr, equals](FunctionBuilder& fb) {
    Reg t = fb.reg(), k = fb.reg(), row = fb.reg(), v = fb.reg();
    fb.emit(Op::LOAD_TABLE, t, 0);
    fb.emit(Op::LOAD_REQ, k, c.sAccount);
    fb.emit(Op::MAP_GET, row, t, k);
    fb.emit(op, v, row, attr);
    if (!equals) return v;
    Reg want = fb.load(fb.stringConst(*equals)), out = fb.reg();
    fb.emit(Op::EQ, out, v, want);
    return out;
  };
}

std::string accountInput(const std::string& account) {
  return humanInput(R"({"account": ")" + account + R"(", "role": "viewer", "env": "dev", "duration": "1h", "tags": {}})");
}

// The arrays tables are made of: zero-filled (absent values, empty slots), and an array
// that grows (by realloc) keeps its elements.
TEST(Tables, BigArraysStartZeroAndKeepElementsAsTheyGrow) {
  BigArray<Value> zero = bigZeroArray<Value>(300000);  // large enough for fresh pages
  for (size_t i : {size_t(0), size_t(1), size_t(150000), size_t(299999)}) EXPECT_EQ(zero[i].kind, Kind::Absent);
  BigArray<uint64_t> slots = bigZeroArray<uint64_t>(0);
  EXPECT_NE(slots.get(), nullptr);
  BigVector<Value> v;
  v.reserve(3);
  for (int64_t i = 0; i < 500000; ++i) v.push_back(Value::integer(i));
  ASSERT_EQ(v.size(), 500000u);
  for (int64_t i : {0, 1, 2, 3, 4, 65535, 499999}) EXPECT_EQ(v[size_t(i)].i, i);
  BigVector<Value> moved = std::move(v);
  EXPECT_EQ(moved.size(), 500000u);
  EXPECT_EQ(moved.back().i, 499999);
  EXPECT_EQ(v.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from vector is empty
}

TEST(Tables, RoundTripAndLookups) {
  WithTable w;
  Catalog& c = w.c;
  c.rule("acme.owned_by_a", Effect::Allow, {c.cloudRole}, {inTable(c), rowAttr(c, Op::GET_FIELD, 0, "team-a")});
  // Frozen rows are denied; `has` guards the optional attribute.
  c.rule("acme.frozen", Effect::Deny, {c.cloudRole},
         {inTable(c), rowAttr(c, Op::HAS_FIELD, 2), rowAttr(c, Op::GET_FIELD, 2)});
  c.rule("acme.any_known", Effect::Approve, {c.cloudRole}, {inTable(c)});
  c.b.rules.back().approvers = {c.fn(rowAttr(c, Op::GET_FIELD, 0))};
  ASSERT_EQ(w.loadError(), "");
  auto lb = c.load();
  ASSERT_TRUE(lb);
  EXPECT_EQ(lb->model().tables.size(), 1u);
  EXPECT_EQ(lb->model().tables[0].rowCount, 2u);  // rows decoded into run-time values only

  auto d = decide(lb, accountInput("111"));
  EXPECT_EQ(d["decision"], "approval") << d.dump();
  EXPECT_EQ(d["rules"], nlohmann::json::parse(R"(["acme.any_known", "acme.owned_by_a"])")) << d.dump();
  EXPECT_EQ(d["approvals"][0]["groups"], nlohmann::json::parse(R"(["team-a"])")) << d.dump();
  EXPECT_EQ(d["bundle"]["data_digest"], "sha256:00") << d.dump();

  d = decide(lb, accountInput("222"));
  EXPECT_EQ(d["decision"], "deny") << d.dump();
  EXPECT_EQ(d["deny_rules"], nlohmann::json::parse(R"(["acme.frozen"])")) << d.dump();
  EXPECT_EQ(d["errors"].size(), 0u) << d.dump();

  // A key that is not in the table: `in` is false, no rule matches, no error.
  d = decide(lb, accountInput("999"));
  EXPECT_EQ(d["decision"], "deny") << d.dump();
  EXPECT_EQ(d["reasons"], nlohmann::json::parse(R"(["no-matching-rule"])")) << d.dump();
  EXPECT_EQ(d["errors"].size(), 0u) << d.dump();
}

TEST(Tables, UnguardedLookupsAreErrorsThatFailClosed) {
  WithTable w;
  Catalog& c = w.c;
  // No `in` guard (bytecode built by hand: sema would refuse it): a missing key and an
  // absent optional attribute are errors, which make a deny match and an allow not.
  c.rule("acme.allow_a", Effect::Allow, {c.cloudRole}, {rowAttr(c, Op::GET_FIELD, 0, "team-a")});
  c.rule("acme.deny_frozen", Effect::Deny, {c.cloudRole}, {rowAttr(c, Op::GET_FIELD, 2)});
  ASSERT_EQ(w.loadError(), "");
  auto lb = c.load();
  auto d = decide(lb, accountInput("999"));
  EXPECT_EQ(d["decision"], "deny") << d.dump();
  EXPECT_EQ(d["deny_rules"], nlohmann::json::parse(R"(["acme.deny_frozen"])")) << d.dump();
  EXPECT_EQ(d["errors"].size(), 2u) << d.dump();
  d = decide(lb, accountInput("111"));  // row present, `frozen` absent: the deny errs, and matches
  EXPECT_EQ(d["decision"], "deny") << d.dump();
  EXPECT_EQ(d["rules"], nlohmann::json::parse(R"(["acme.allow_a"])")) << d.dump();
}

TEST(Tables, ManyRowsUseTheHashIndex) {
  WithTable w;
  Catalog& c = w.c;
  Table& t = w.c.b.tables[0];
  t.keys.clear();
  t.rows.clear();
  for (int i = 0; i < 5000; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05d", i);
    t.keys.push_back(key);
    t.rows.push_back(w.row(i % 2 ? "team-a" : "team-b", 0, std::nullopt));
  }
  c.rule("acme.owned_by_a", Effect::Allow, {c.cloudRole}, {inTable(c), rowAttr(c, Op::GET_FIELD, 0, "team-a")});
  auto lb = c.load();
  ASSERT_TRUE(lb);
  // Every row, the first and last ones included (the index is filled as the rows are
  // read, the last few after them).
  for (int i = 0; i < 5000; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05d", i);
    EXPECT_EQ(decide(lb, accountInput(key))["decision"], i % 2 ? "allow" : "deny") << key;
  }
  EXPECT_EQ(decide(lb, accountInput("k05000"))["decision"], "deny");
  EXPECT_EQ(decide(lb, accountInput(""))["decision"], "deny");
}

TEST(Tables, VerifierRefusesMalformedData) {
  {
    WithTable w;
    std::swap(w.c.b.tables[0].keys[0], w.c.b.tables[0].keys[1]);
    EXPECT_NE(w.loadError().find("keys not sorted or duplicated"), std::string::npos) << w.loadError();
  }
  {
    WithTable w;
    w.c.b.tables[0].keys[1] = w.c.b.tables[0].keys[0];
    EXPECT_NE(w.loadError().find("keys not sorted or duplicated"), std::string::npos) << w.loadError();
  }
  {
    WithTable w;
    w.c.b.tables[0].rows[0].elems[0].type = kNone;  // a required attribute absent
    EXPECT_NE(w.loadError().find("without a required attribute"), std::string::npos) << w.loadError();
  }
  {
    WithTable w;
    w.c.b.tables[0].rows[0].elems[1].i = 7;  // no such enum member
    EXPECT_NE(w.loadError().find("enum member out of range"), std::string::npos) << w.loadError();
  }
  {
    WithTable w;  // a record-typed input attribute
    w.c.b.schema.requestSlots[w.c.sAccount].type = w.tRecord;
    EXPECT_NE(w.loadError().find("of a record type"), std::string::npos) << w.loadError();
  }
}

TEST(Tables, VerifierChecksTableOpcodes) {
  {
    WithTable w;
    Catalog& c = w.c;
    c.rule("acme.r", Effect::Allow, {c.cloudRole}, {[](FunctionBuilder& fb) {
             Reg t = fb.reg(), out = fb.reg();
             fb.emit(Op::LOAD_TABLE, t, 1);  // no table 1
             fb.emit(Op::IS_EMPTY, out, t);
             return out;
           }});
    EXPECT_NE(w.loadError().find("table index out of range"), std::string::npos) << w.loadError();
  }
  {
    WithTable w;
    Catalog& c = w.c;
    c.rule("acme.r", Effect::Allow, {c.cloudRole}, {rowAttr(c, Op::HAS_FIELD, 3)});  // 3 attributes
    EXPECT_NE(w.loadError().find("record attribute out of range"), std::string::npos) << w.loadError();
  }
  {
    WithTable w;
    Catalog& c = w.c;
    c.rule("acme.r", Effect::Allow, {c.cloudRole}, {[&c](FunctionBuilder& fb) {
             Reg k = fb.reg(), out = fb.reg();
             fb.emit(Op::LOAD_REQ, k, c.sAccount);
             fb.emit(Op::HAS_FIELD, out, k, 0);  // a String is not a row
             return out;
           }});
    EXPECT_NE(w.loadError().find("operand of the wrong type"), std::string::npos) << w.loadError();
  }
}

TEST(Tables, BundlesWithoutTablesStayFormat11) {
  Catalog c;
  c.rule("acme.r", Effect::Allow, {c.cloudRole}, {constBool(true)});
  std::vector<uint8_t> bytes = c.bytes();
  EXPECT_EQ(bytes[6] | bytes[7] << 8, 1);
  WithTable w;
  w.c.rule("acme.r", Effect::Allow, {w.c.cloudRole}, {constBool(true)});
  bytes = w.c.bytes();
  EXPECT_EQ(bytes[6] | bytes[7] << 8, 2);
  // A bundle with tables that claims format 1.1 is refused (its metadata and data
  // section do not exist in 1.1).
  bytes[6] = 1;
  std::vector<uint8_t> content(bytes.begin(), bytes.end() - 32);
  auto digest = sha256Of(content);
  std::copy(digest.begin(), digest.end(), bytes.end() - 32);
  std::string error;
  EXPECT_FALSE(LoadedBundle::load(bytes, {}, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace pave::rt::test
