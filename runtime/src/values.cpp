#include <algorithm>
#include <cstring>

#include "bytes.h"
#include "pave/literals.h"
#include "program.h"

namespace pave::rt {

static int cmp64(int64_t a, int64_t b) { return a < b ? -1 : a > b ? 1 : 0; }

int compareValues(const Value& a, const Value& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  switch (a.kind) {
    case Kind::Absent:
    case Kind::Error: return 0;
    case Kind::Bool:
    case Kind::Int:
    case Kind::Duration:
    case Kind::Timestamp: return cmp64(a.i, b.i);
    case Kind::Enum: return a.n != b.n ? (a.n < b.n ? -1 : 1) : cmp64(a.i, b.i);
    case Kind::String: {
      int c = std::memcmp(a.s, b.s, std::min(a.n, b.n));
      return c ? (c < 0 ? -1 : 1) : (a.n == b.n ? 0 : a.n < b.n ? -1 : 1);
    }
    case Kind::Ip:
    case Kind::Cidr: {
      // Only the bytes of the family count (an IPv4 value uses the first 4; a value built
      // by hand may leave anything in the rest), and the prefix only for a Cidr.
      if (a.family != b.family) return a.family < b.family ? -1 : 1;
      int c = std::memcmp(a.ip, b.ip, a.family == 4 ? 4 : 16);
      if (c) return c < 0 ? -1 : 1;
      return a.kind == Kind::Cidr ? int(a.prefix) - int(b.prefix) : 0;
    }
    case Kind::Record:
      for (uint32_t i = 0; i < a.n && i < b.n; ++i)
        if (int c = compareValues(a.elems[i], b.elems[i])) return c;
      return a.n == b.n ? 0 : a.n < b.n ? -1 : 1;
    case Kind::Set:
    case Kind::Map: {
      uint32_t na = a.kind == Kind::Map ? 2 * a.n : a.n, nb = b.kind == Kind::Map ? 2 * b.n : b.n;
      for (uint32_t i = 0; i < na && i < nb; ++i)
        if (int c = compareValues(a.elems[i], b.elems[i])) return c;
      return na == nb ? 0 : na < nb ? -1 : 1;
    }
  }
  return 0;
}

uint32_t sortUnique(Value* v, uint32_t n) {
  if (n <= 8) {  // small (most are): insertion, dropping duplicates; v[0, kept) is done
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const Value x = v[i];
      uint32_t at = kept;
      int c = 1;
      while (at > 0 && (c = compareValues(v[at - 1], x)) > 0) --at;
      if (at > 0 && c == 0) continue;  // a duplicate
      for (uint32_t j = kept; j > at; --j) v[j] = v[j - 1];
      v[at] = x;
      ++kept;
    }
    return kept;
  }
  uint32_t sorted = 1;  // often already sorted and duplicate-free (one pass, no sort)
  while (sorted < n && compareValues(v[sorted - 1], v[sorted]) < 0) ++sorted;
  if (sorted >= n) return n;
  std::sort(v, v + n, [](const Value& x, const Value& y) { return compareValues(x, y) < 0; });
  auto end = std::unique(v, v + n, [](const Value& x, const Value& y) { return compareValues(x, y) == 0; });
  return uint32_t(end - v);
}

Value materialize(const Bundle& model, const Const& c, std::vector<std::unique_ptr<Value[]>>& constStorage) {
  const TypeDesc& t = model.schema.types[c.type];
  Value v;
  v.kind = kindOf(t.kind);
  switch (t.kind) {
    case TypeKind::Bool:
    case TypeKind::Int:
    case TypeKind::Duration:
    case TypeKind::Timestamp: v.i = c.i; break;
    case TypeKind::Enum: v = Value::enumMember(t.enumIndex, c.i); break;
    case TypeKind::String: v = Value::string(model.strings[c.str]); break;
    case TypeKind::Ip:
    case TypeKind::Cidr:
      v.family = c.ip.family;
      v.prefix = c.ip.prefix;
      std::memcpy(v.ip, c.ip.bytes.data(), 16);
      break;
    case TypeKind::Record: v = Value(); break;  // rows exist only in tables (materializeTables)
    case TypeKind::Set:
    case TypeKind::Map: {
      bool map = t.kind == TypeKind::Map;
      size_t n = c.elems.size();
      auto storage = std::make_unique<Value[]>(map ? 2 * n : n);
      for (size_t i = 0; i < n; ++i) {
        if (map) {
          storage[2 * i] = Value::string(model.strings[c.keys[i]]);
          storage[2 * i + 1] = materialize(model, c.elems[i], constStorage);
        } else {
          storage[i] = materialize(model, c.elems[i], constStorage);
        }
      }
      v.elems = storage.get();
      v.n = uint32_t(n);
      constStorage.push_back(std::move(storage));
      break;
    }
  }
  return v;
}

namespace {

// Decodes one table's encoded rows (bundle_writer.cpp, `data`) into `storage` (the map's
// key/row pairs, then the attributes of every row) and `pool` (set and map elements),
// checking what the verifier checks of constants: each value of its attribute's type,
// enum members and timestamps in range, sets sorted and duplicate-free, map keys sorted,
// required attributes present, and row keys strictly sorted.
struct RowDecoder {
  LoadedBundle::Impl& impl;
  const RecordDecl& rec;
  ByteReader r;
  BigVector<Value>& pool;
  std::vector<std::pair<Value*, size_t>>& fixups;  // collection values: (value, offset in pool)
  std::string err;

  bool bad(std::string what) {
    if (err.empty()) err = std::move(what);
    r.fail();
    return false;
  }
  std::string_view str() {
    uint32_t id = r.index(impl.model.strings.size());
    return r.failed ? std::string_view() : impl.str(id);
  }

  bool scalar(TypeId type, Value& v) {
    const Schema& s = impl.model.schema;
    const TypeDesc& t = s.types[type];
    v = Value();
    v.kind = kindOf(t.kind);
    switch (t.kind) {
      case TypeKind::Bool: {
        uint8_t x = r.u8();
        if (x > 1) return bad("invalid Bool");
        v.i = x;
        return !r.failed;
      }
      case TypeKind::Int:
      case TypeKind::Duration: v.i = r.svar(); return !r.failed;
      case TypeKind::Timestamp:
        v.i = r.svar();
        if (!r.failed && !timestampInRange(v.i)) return bad("timestamp outside years 0000-9999");
        return !r.failed;
      case TypeKind::Enum: {
        uint64_t m = r.var();
        if (r.failed || m >= s.enums[t.enumIndex].members.size()) return bad("enum member out of range");
        v = Value::enumMember(t.enumIndex, int64_t(m));
        return true;
      }
      case TypeKind::String: {
        std::string_view x = str();
        v = Value::string(x);
        return !r.failed;
      }
      case TypeKind::Ip:
      case TypeKind::Cidr: {
        v.family = r.u8();
        if (v.family != 4 && v.family != 6) return bad("invalid address family");
        if (t.kind == TypeKind::Cidr) {
          v.prefix = r.u8();
          if (v.prefix > (v.family == 4 ? 32 : 128)) return bad("invalid CIDR prefix");
        }
        std::string_view raw = r.bytes(v.family == 4 ? 4 : 16);
        if (r.failed) return false;
        std::memcpy(v.ip, raw.data(), raw.size());
        return true;
      }
      default: return bad("a value of an unexpected type in a table");
    }
  }

  bool value(TypeId type, Value& v) {
    const TypeDesc& t = impl.model.schema.types[type];
    if (t.kind != TypeKind::Set && t.kind != TypeKind::Map) return scalar(type, v);
    const bool map = t.kind == TypeKind::Map;
    uint32_t n = r.count();
    if (r.failed) return false;
    const size_t at = pool.size();
    for (uint32_t i = 0; i < n; ++i) {
      Value key, elem;
      if (map) {
        key = Value::string(str());
        if (r.failed) return false;
      }
      if (!scalar(t.elem, elem)) return false;
      if (map) {
        if (i > 0 && compareValues(pool[pool.size() - 2], key) >= 0) return bad("map keys not sorted or duplicated");
        pool.push_back(key);
      } else if (i > 0 && compareValues(pool.back(), elem) >= 0) {
        return bad("set not sorted or with duplicates");
      }
      pool.push_back(elem);
    }
    v = Value();
    v.kind = map ? Kind::Map : Kind::Set;
    v.n = n;
    fixups.emplace_back(&v, at);  // elems point into the pool once it stops growing
    return true;
  }
};

}  // namespace

bool materializeTables(LoadedBundle::Impl& impl, std::string* error) {
  Bundle& m = impl.model;
  for (Table& t : m.tables) {
    const TypeDesc& mapType = m.schema.types[t.type];
    const RecordDecl& rec = m.records[m.schema.types[mapType.elem].enumIndex];
    const size_t n = t.rowCount, attrs = rec.attrs.size();
    // One array per table: the map's 2n entries, then n × attrs attribute values.
    // Zero bytes are absent values: an optional attribute a row lacks is left as it is.
    BigArray<Value> storage = bigZeroArray<Value>(2 * n + n * attrs);
    Value* fields = storage.get() + 2 * n;
    BigVector<Value> pool;
    pool.reserve(t.encodedSize / 4);  // a guess that saves most regrowth (not a bound)
    std::vector<std::pair<Value*, size_t>> fixups;
    // Row keys are written in the rows (not in the string table): keep a copy of the rows'
    // bytes, which the keys' values point into.
    BigArray<uint8_t> bytes = bigZeroArray<uint8_t>(t.encodedSize);
    if (t.encodedSize) std::memcpy(bytes.get(), t.encoded, t.encodedSize);
    RowDecoder d{impl, rec, ByteReader(bytes.get(), t.encodedSize), pool, fixups, {}};
    // The hash index (tableFind), for the first 255 tables; a table map's `family` names
    // it (0 for any other map: binary search). Built as the rows are read: a key's slot is
    // prefetched when its row is read and written kLag rows later, so that the slots'
    // cache misses overlap instead of following one another.
    const bool indexed = impl.tables.size() < 255;
    TableIndex ix;
    if (indexed) {
      uint64_t cap = 16;
      while (cap < 2 * uint64_t(n)) cap *= 2;
      ix.slots = bigZeroArray<uint64_t>(cap);
      ix.mask = cap - 1;
    }
    constexpr size_t kLag = 16;
    uint64_t pending[kLag];
    auto insert = [&ix](uint64_t h, size_t row) {
      uint64_t at = (h >> 32) & ix.mask;
      while (ix.slots[at] != 0) at = (at + 1) & ix.mask;
      ix.slots[at] = (uint64_t(uint32_t(h)) << 32) | uint64_t(row + 1);
    };
    std::string_view prev;
    for (size_t i = 0; i < n && !d.r.failed; ++i) {
      uint64_t len = d.r.var();
      if (d.r.failed || len > d.r.remaining()) {
        d.bad("row key out of bounds");
        break;
      }
      std::string_view key = d.r.bytes(size_t(len));
      if (!validUtf8(key)) {
        d.bad("a row key that is not UTF-8");
        break;
      }
      if (i > 0 && !(prev < key)) {
        d.bad("keys not sorted or duplicated");
        break;
      }
      prev = key;
      if (indexed) {
        const uint64_t h = hashKey(key);
        __builtin_prefetch(&ix.slots[(h >> 32) & ix.mask], 1);
        if (i >= kLag) insert(pending[i % kLag], i - kLag);
        pending[i % kLag] = h;
      }
      Value* f = fields + i * attrs;
      for (size_t a = 0; a < attrs && !d.r.failed; ++a) {
        uint8_t present = d.r.u8();
        if (present > 1) d.bad("invalid presence flag");
        else if (!present && !rec.attrs[a].optional) d.bad("a row without a required attribute");
        else if (present) d.value(rec.attrs[a].type, f[a]);
      }
      storage[2 * i] = Value::string(key);
      Value row;
      row.kind = Kind::Record;
      row.elems = f;
      row.n = uint32_t(attrs);
      storage[2 * i + 1] = row;
    }
    if (!d.r.failed && !d.r.atEnd()) d.bad("trailing bytes after the rows");
    if (d.r.failed) {
      if (error) *error = "data section: table '" + std::string(impl.str(t.name)) + "': " +
                          (d.err.empty() ? "truncated or malformed rows" : d.err);
      return false;
    }
    for (auto& [v, at] : fixups) v->elems = pool.data() + at;
    impl.tableBytes.push_back(std::move(bytes));
    impl.tablePools.push_back(std::move(pool));  // moved, not copied: the pointers stay valid
    t.encoded = nullptr;  // the bytes are the caller's, gone after the load
    t.encodedSize = 0;
    Value map = Value::map(storage.get(), uint32_t(n));
    if (indexed) {
      for (size_t i = n > kLag ? n - kLag : 0; i < n; ++i) insert(pending[i % kLag], i);
      map.family = uint8_t(impl.tables.size() + 1);
      impl.tableIndex.push_back(std::move(ix));
    }
    impl.tables.push_back(map);
    impl.tableStorage.push_back(std::move(storage));
  }
  return true;
}

}  // namespace pave::rt
