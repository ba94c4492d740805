// Serializes a bundle model (SPEC §7.1). The layout is described in runtime/README.md;
// bundle_reader.cpp mirrors every function here.
#include <algorithm>

#include "bytes.h"
#include "crypto.h"
#include "pave/bundle.h"

namespace pave::rt {

StrId Bundle::intern(std::string_view s) {
  if (interned_.size() != strings.size()) {  // strings were added directly: re-index
    interned_.clear();
    for (StrId i = 0; i < strings.size(); ++i) interned_.emplace(strings[i], i);
  }
  auto [it, added] = interned_.emplace(std::string(s), StrId(strings.size()));
  if (added) strings.emplace_back(s);
  return it->second;
}

TypeId Bundle::typeId(const TypeDesc& t) {
  auto& types = schema.types;
  auto it = std::find(types.begin(), types.end(), t);
  if (it != types.end()) return TypeId(it - types.begin());
  types.push_back(t);
  return TypeId(types.size() - 1);
}

const char* mergeOpName(MergeOp m) {
  static constexpr const char* kNames[] = {"min", "max", "union", "intersect", "and", "or", "unique"};
  return kNames[size_t(m)];
}
const char* effectName(Effect e) {
  static constexpr const char* kNames[] = {"allow", "approve", "deny", "exception"};
  return kNames[size_t(e)];
}
const char* severityName(Severity s) {
  static constexpr const char* kNames[] = {"none", "low", "medium", "high", "critical"};
  return kNames[size_t(s)];
}
const char* typeKindName(TypeKind k) {
  static constexpr const char* kNames[] = {"Bool", "Int",  "String", "Duration", "Timestamp",
                                           "Ip",   "Cidr", "Enum",   "Set",      "Map", "Record"};
  return kNames[size_t(k)];
}

namespace {

struct Writer {
  const Bundle& b;
  std::string* error;
  bool ok = true;

  bool fail(const std::string& msg) {
    if (ok && error) *error = msg;
    ok = false;
    return false;
  }

  void payload(ByteWriter& w, TypeId type, const Const& c, int depth) {
    if (type >= b.schema.types.size() || depth > 1) {
      fail("constant of an unknown type");
      return;
    }
    const TypeDesc& t = b.schema.types[type];
    switch (t.kind) {
      case TypeKind::Bool: w.u8(c.i ? 1 : 0); break;
      case TypeKind::Int:
      case TypeKind::Duration:
      case TypeKind::Timestamp: w.svar(c.i); break;
      case TypeKind::Enum: w.var(uint64_t(c.i)); break;
      case TypeKind::String: w.var(c.str); break;
      case TypeKind::Ip:
      case TypeKind::Cidr:
        w.u8(c.ip.family);
        if (t.kind == TypeKind::Cidr) w.u8(c.ip.prefix);
        w.bytes(c.ip.bytes.data(), c.ip.family == 4 ? 4 : 16);
        break;
      case TypeKind::Set:
        w.var(c.elems.size());
        for (const Const& e : c.elems) payload(w, t.elem, e, depth + 1);
        break;
      case TypeKind::Record: fail("a record value outside a table"); break;
      case TypeKind::Map:
        if (c.keys.size() != c.elems.size()) fail("map constant with mismatched keys and values");
        w.var(c.keys.size());
        for (size_t i = 0; i < c.keys.size() && i < c.elems.size(); ++i) {
          w.var(c.keys[i]);
          payload(w, t.elem, c.elems[i], depth + 1);
        }
        break;
    }
  }
  void constant(ByteWriter& w, const Const& c) {
    w.var(c.type);
    payload(w, c.type, c, 0);
  }
  void attrs(ByteWriter& w, const std::vector<Attribute>& as) {
    w.var(as.size());
    for (const Attribute& a : as) {
      w.var(a.name);
      w.var(a.type);
      w.u8(a.optional);
    }
  }
  void list(ByteWriter& w, const std::vector<uint32_t>& v) {
    w.var(v.size());
    for (uint32_t x : v) w.var(x);
  }

  void strings(ByteWriter& w) {
    w.var(b.strings.size());
    for (const std::string& s : b.strings) {
      w.var(s.size());
      w.bytes(s.data(), s.size());
    }
  }
  void schema(ByteWriter& w) {
    const Schema& s = b.schema;
    w.var(s.types.size());
    for (const TypeDesc& t : s.types) {
      w.u8(uint8_t(t.kind));
      w.opt(t.enumIndex);
      w.opt(t.elem);
    }
    w.var(s.enums.size());
    for (const EnumDecl& e : s.enums) {
      w.var(e.name);
      list(w, e.members);
    }
    w.var(s.principals.size());
    for (const PrincipalType& p : s.principals) {
      w.var(p.name);
      attrs(w, p.attrs);
    }
    w.var(s.requestSlots.size());
    for (const RequestSlot& r : s.requestSlots) {
      w.var(r.name);
      w.var(r.type);
    }
    w.var(s.requests.size());
    for (const RequestType& r : s.requests) {
      w.var(r.name);
      list(w, r.principals);
      w.var(r.attrs.size());
      for (const RequestAttr& a : r.attrs) {
        w.var(a.slot);
        w.u8(a.optional);
      }
      w.var(r.grants.size());
      for (const GrantDecl& g : r.grants) {
        w.var(g.name);
        w.var(g.type);
        w.u8(uint8_t(g.merge));
        constant(w, g.defaultValue);
      }
    }
    attrs(w, s.context);
  }
  void rules(ByteWriter& w) {
    w.var(b.rules.size());
    for (const Rule& r : b.rules) {
      w.var(r.name);
      w.u8(uint8_t(r.effect));
      w.u8(r.allTargets ? 1 : 0);
      list(w, r.targets);
      list(w, r.conjuncts);
      list(w, r.approvers);
      w.var(r.quorum);
      w.var(r.grants.size());
      for (const GrantAssign& g : r.grants) {
        w.var(g.grant);
        w.var(g.function);
      }
      w.opt(r.because);
      w.u8(uint8_t(r.severity));
      w.opt(r.lifts);
      w.svar(r.until);
      w.opt(r.owner);
      w.opt(r.ticket);
      w.opt(r.doc);
      list(w, r.controls);
    }
  }
  void code(ByteWriter& w) {
    w.var(b.functions.size());
    for (const Function& f : b.functions) {
      w.var(f.numRegs);
      w.var(f.code.size());
      for (Instr i : f.code) w.u64(i);
      w.var(f.consts.size());
      for (const Const& c : f.consts) constant(w, c);
    }
  }
  void sourceMap(ByteWriter& w) {
    w.var(b.rules.size());
    for (const Rule& r : b.rules) {
      w.var(r.line);
      w.opt(r.file);
      w.var(r.source.size());
      for (const ConjunctSource& c : r.source) {
        w.var(c.line);
        w.opt(c.text);
      }
    }
  }
  void meta(ByteWriter& w, uint16_t minor) {
    w.opt(b.meta.name);
    w.opt(b.meta.revision);
    w.opt(b.meta.compilerVersion);
    w.opt(b.meta.sourcesDigest);
    if (minor >= 2) w.opt(b.meta.dataDigest);
  }
  // Records, then tables: name, type, row count, and per row its key and, per attribute, a
  // presence byte and the value's payload.
  void data(ByteWriter& w) {
    w.var(b.records.size());
    for (const RecordDecl& r : b.records) {
      w.var(r.name);
      attrs(w, r.attrs);
    }
    w.var(b.tables.size());
    for (const Table& t : b.tables) {
      w.var(t.name);
      w.var(t.type);
      if (t.keys.size() != t.rows.size()) fail("table with mismatched keys and rows");
      const RecordDecl* rec = recordOf(t.type);
      if (!rec) {
        fail("table of a type that is not a map of records");
        return;
      }
      // The rows' byte size first, so that a reader finds the next table without decoding.
      std::vector<uint8_t> rows;
      ByteWriter rw(rows);
      for (size_t i = 0; i < t.keys.size() && i < t.rows.size(); ++i) {
        rw.var(t.keys[i].size());
        rw.bytes(t.keys[i].data(), t.keys[i].size());
        const Const& row = t.rows[i];
        if (row.elems.size() != rec->attrs.size()) fail("table row with a wrong attribute count");
        for (size_t a = 0; a < rec->attrs.size() && a < row.elems.size(); ++a) {
          const Const& f = row.elems[a];
          rw.u8(f.type == kNone ? 0 : 1);
          if (f.type != kNone) payload(rw, rec->attrs[a].type, f, 0);
        }
      }
      w.var(t.keys.size());
      w.var(rows.size());
      w.bytes(rows.data(), rows.size());
    }
  }
  const RecordDecl* recordOf(TypeId map) const {
    if (map >= b.schema.types.size() || b.schema.types[map].kind != TypeKind::Map) return nullptr;
    TypeId elem = b.schema.types[map].elem;
    if (elem >= b.schema.types.size() || b.schema.types[elem].kind != TypeKind::Record) return nullptr;
    uint32_t r = b.schema.types[elem].enumIndex;
    return r < b.records.size() ? &b.records[r] : nullptr;
  }
};

}  // namespace

bool writeBundle(const Bundle& b, const WriteOptions& opts, std::vector<uint8_t>& out, std::string* error) {
  Writer wr{b, error};
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> sections;
  auto add = [&](uint32_t id, auto&& fill) {
    sections.emplace_back(id, std::vector<uint8_t>{});
    ByteWriter w(sections.back().second);
    fill(w);
  };
  add(SecStrings, [&](ByteWriter& w) { wr.strings(w); });
  add(SecSchema, [&](ByteWriter& w) { wr.schema(w); });
  add(SecRules, [&](ByteWriter& w) { wr.rules(w); });
  add(SecCode, [&](ByteWriter& w) { wr.code(w); });
  if (b.hasSourceMap && !opts.strip) add(SecSourceMap, [&](ByteWriter& w) { wr.sourceMap(w); });
  const uint16_t minor = b.tables.empty() && b.records.empty() ? 1 : kFormatMinor;
  add(SecMeta, [&](ByteWriter& w) { wr.meta(w, minor); });
  if (minor >= 2) add(SecData, [&](ByteWriter& w) { wr.data(w); });
  if (!wr.ok) return false;

  out.clear();
  ByteWriter w(out);
  w.bytes(kMagic, 4);
  w.u16(kFormatMajor);
  w.u16(minor);
  bool sign = !opts.signKeyPem.empty();
  w.u32(sign ? kFlagSigned : 0);
  w.u32(uint32_t(sections.size()));
  uint64_t offset = kHeaderSize + kDirEntrySize * sections.size();
  for (auto& [id, bytes] : sections) {
    if (offset + bytes.size() > 0xffffffffu) {
      if (error) *error = "bundle too large";
      return false;
    }
    w.u32(id);
    w.u32(uint32_t(offset));
    w.u32(uint32_t(bytes.size()));
    offset += bytes.size();
  }
  for (auto& [id, bytes] : sections) w.bytes(bytes.data(), bytes.size());
  auto digest = sha256(out.data(), out.size());
  w.bytes(digest.data(), digest.size());
  if (sign) {
    std::array<uint8_t, 64> sig{};
    if (!ed25519Sign(opts.signKeyPem, digest.data(), digest.size(), sig, error)) return false;
    w.bytes(sig.data(), sig.size());
  }
  return true;
}

}  // namespace pave::rt
