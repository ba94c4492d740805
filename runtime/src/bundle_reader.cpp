// Decodes bundle sections into the model, mirroring bundle_writer.cpp. Only the shape is
// checked here (bounds, counts, enum ranges); verifier.cpp checks every index.
#include "bundle_reader.h"

#include "bytes.h"
#include "pave/literals.h"

namespace pave::rt {
namespace {

struct Reader {
  ByteReader r;
  Bundle& b;
  std::string err;
  uint16_t minor = 0;  // the format's minor version

  bool bad(const char* what) {
    if (err.empty()) err = what;
    r.fail();
    return false;
  }
  uint32_t str() { return r.index(b.strings.size()); }
  uint32_t optStr() { return r.opt(b.strings.size()); }
  std::vector<uint32_t> list(uint64_t limit) {
    std::vector<uint32_t> v(r.count());
    for (auto& x : v) x = r.index(limit);
    return v;
  }

  void payload(TypeId type, Const& c, int depth) {
    if (type >= b.schema.types.size() || depth > 1) {
      bad("constant of an invalid type");
      return;
    }
    const TypeDesc& t = b.schema.types[type];
    c.type = type;
    switch (t.kind) {
      case TypeKind::Bool: {
        uint8_t v = r.u8();
        if (v > 1) bad("invalid Bool constant");
        c.i = v;
        break;
      }
      case TypeKind::Int:
      case TypeKind::Duration:
      case TypeKind::Timestamp: c.i = r.svar(); break;
      case TypeKind::Enum: c.i = r.index(1u << 20); break;  // member range checked by the verifier
      case TypeKind::String: c.str = str(); break;
      case TypeKind::Ip:
      case TypeKind::Cidr: {
        c.ip.family = r.u8();
        if (c.ip.family != 4 && c.ip.family != 6) {
          bad("invalid address family");
          return;
        }
        if (t.kind == TypeKind::Cidr) {
          c.ip.prefix = r.u8();
          if (c.ip.prefix > (c.ip.family == 4 ? 32 : 128)) bad("invalid CIDR prefix");
        }
        auto raw = r.bytes(c.ip.family == 4 ? 4 : 16);
        std::copy(raw.begin(), raw.end(), c.ip.bytes.begin());
        break;
      }
      case TypeKind::Set:
        c.elems.resize(r.count());
        for (Const& e : c.elems) payload(t.elem, e, depth + 1);
        break;
      case TypeKind::Record: bad("a record value outside a table"); break;
      case TypeKind::Map:
        c.keys.resize(r.count());
        c.elems.resize(c.keys.size());
        for (size_t i = 0; i < c.keys.size() && !r.failed; ++i) {
          c.keys[i] = str();
          payload(t.elem, c.elems[i], depth + 1);
        }
        break;
    }
  }
  Const constant() {
    Const c;
    payload(r.index(b.schema.types.size()), c, 0);
    return c;
  }
  std::vector<Attribute> attrs() {
    std::vector<Attribute> as(r.count());
    for (Attribute& a : as) {
      a.name = str();
      a.type = r.index(b.schema.types.size());
      a.optional = flag();
    }
    return as;
  }
  bool flag() {
    uint8_t v = r.u8();
    if (v > 1) bad("invalid flag");
    return v == 1;
  }
  template <typename E>
  E enumByte(uint8_t max, const char* what) {
    uint8_t v = r.u8();
    if (v > max) bad(what);
    return E(v);
  }

  void strings() {
    b.strings.resize(r.count());
    for (std::string& s : b.strings) {
      uint64_t n = r.var();
      s = std::string(r.bytes(n));
      if (!validUtf8(s)) bad("string table entry is not UTF-8");
    }
  }
  void schema() {
    Schema& s = b.schema;
    s.types.resize(r.count());
    for (TypeDesc& t : s.types) {
      t.kind = enumByte<TypeKind>(uint8_t(minor >= 2 ? TypeKind::Record : TypeKind::Map), "invalid type kind");
      t.enumIndex = r.opt(1u << 20);
      t.elem = r.opt(1u << 20);
    }
    s.enums.resize(r.count());
    for (EnumDecl& e : s.enums) {
      e.name = str();
      e.members = list(b.strings.size());
    }
    s.principals.resize(r.count());
    for (PrincipalType& p : s.principals) {
      p.name = str();
      p.attrs = attrs();
    }
    s.requestSlots.resize(r.count());
    for (RequestSlot& rs : s.requestSlots) {
      rs.name = str();
      rs.type = r.index(s.types.size());
    }
    s.requests.resize(r.count());
    for (RequestType& rt : s.requests) {
      rt.name = str();
      rt.principals = list(s.principals.size());
      rt.attrs.resize(r.count());
      for (RequestAttr& a : rt.attrs) {
        a.slot = r.index(s.requestSlots.size());
        a.optional = flag();
      }
      rt.grants.resize(r.count());
      for (GrantDecl& g : rt.grants) {
        g.name = str();
        g.type = r.index(s.types.size());
        g.merge = enumByte<MergeOp>(uint8_t(MergeOp::Unique), "invalid merge operator");
        g.defaultValue = constant();
      }
    }
    s.context = attrs();
  }
  void rules() {
    b.rules.resize(r.count());
    for (Rule& x : b.rules) {
      x.name = str();
      x.effect = enumByte<Effect>(uint8_t(Effect::Exception), "invalid rule effect");
      x.allTargets = flag();
      x.targets = list(b.schema.requests.size());
      x.conjuncts = list(1u << 30);
      x.approvers = list(1u << 30);
      x.quorum = r.index(1u << 30);
      x.grants.resize(r.count());
      for (GrantAssign& g : x.grants) {
        g.grant = str();
        g.function = r.index(1u << 30);
      }
      x.because = optStr();
      x.severity = enumByte<Severity>(uint8_t(Severity::Critical), "invalid severity");
      x.lifts = r.opt(1u << 30);
      x.until = r.svar();
      x.owner = optStr();
      x.ticket = optStr();
      x.doc = optStr();
      x.controls = list(b.strings.size());
    }
  }
  void code() {
    b.functions.resize(r.count());
    for (Function& f : b.functions) {
      f.numRegs = r.index(kMaxRegisters + 1);
      uint32_t n = r.index(kMaxInstructions + 1);
      if (uint64_t(n) * 8 > r.remaining()) {
        bad("code runs past its section");
        return;
      }
      f.code.resize(n);
      for (Instr& i : f.code) i = r.u64();
      f.consts.resize(r.count());
      for (Const& c : f.consts) c = constant();
    }
  }
  void sourceMap() {
    if (r.var() != b.rules.size()) {
      bad("source map does not match the rules");
      return;
    }
    b.hasSourceMap = true;
    for (Rule& x : b.rules) {
      x.line = r.index(1u << 31);
      if (minor >= 1) x.file = optStr();
      x.source.resize(r.count());
      for (ConjunctSource& c : x.source) {
        c.line = r.index(1u << 31);
        c.text = optStr();
      }
    }
  }
  void meta() {
    b.meta.name = optStr();
    b.meta.revision = optStr();
    b.meta.compilerVersion = optStr();
    b.meta.sourcesDigest = optStr();
    if (minor >= 2) b.meta.dataDigest = optStr();
  }
  void data() {
    b.records.resize(r.count());
    for (RecordDecl& rec : b.records) {
      rec.name = str();
      rec.attrs = attrs();
    }
    b.tables.resize(r.count());
    for (Table& t : b.tables) {
      if (r.failed) return;
      t.name = str();
      t.type = r.index(b.schema.types.size());
      const RecordDecl* rec = nullptr;
      if (!r.failed && b.schema.types[t.type].kind == TypeKind::Map) {
        TypeId elem = b.schema.types[t.type].elem;
        if (elem < b.schema.types.size() && b.schema.types[elem].kind == TypeKind::Record &&
            b.schema.types[elem].enumIndex < b.records.size())
          rec = &b.records[b.schema.types[elem].enumIndex];
      }
      if (!rec) {
        bad("table of a type that is not a map of records");
        return;
      }
      // The rows stay encoded here: the loader decodes and checks them straight into
      // run-time values (materializeTables), without a model of each row.
      t.rowCount = r.count();
      uint64_t size = r.var();
      if (size > r.remaining()) {
        bad("table rows out of bounds");
        return;
      }
      std::string_view rows = r.bytes(size_t(size));
      t.encoded = reinterpret_cast<const uint8_t*>(rows.data());
      t.encodedSize = rows.size();
      if (t.rowCount > t.encodedSize) bad("more table rows than bytes");
    }
  }
};

}  // namespace

bool decodeSection(uint32_t id, const uint8_t* data, size_t size, uint16_t minor, Bundle& b, std::string* error) {
  Reader rd{ByteReader(data, size), b, {}, minor};
  switch (id) {
    case SecStrings: rd.strings(); break;
    case SecSchema: rd.schema(); break;
    case SecRules: rd.rules(); break;
    case SecCode: rd.code(); break;
    case SecSourceMap: rd.sourceMap(); break;
    case SecMeta: rd.meta(); break;
    case SecData:
      if (minor < 2) rd.bad("a data section in a bundle of format 1.0 or 1.1");
      else rd.data();
      break;
    default: rd.bad("unknown section");
  }
  if (!rd.r.failed && !rd.r.atEnd()) rd.bad("trailing bytes in section");
  if (rd.r.failed) {
    if (error) *error = rd.err.empty() ? "truncated or malformed section" : rd.err;
    return false;
  }
  return true;
}

}  // namespace pave::rt
