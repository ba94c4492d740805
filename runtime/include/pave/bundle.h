// The in-memory model of a Pave bundle (SPEC §7.1). The compiler's code generator fills a
// `Bundle`; `writeBundle` turns it into deterministic bytes; `LoadedBundle::load`
// (runtime.h) reads, verifies and indexes bytes for evaluation.
//
// Everything is addressed by index: strings by `StrId` into `strings`, types by `TypeId`
// into `types`, functions by index into `functions`, rules by index into `rules`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pave/opcodes.h"

namespace pave::rt {

using StrId = uint32_t;
using TypeId = uint32_t;
inline constexpr uint32_t kNone = 0xffffffffu;  // an absent optional index

enum class TypeKind : uint8_t { Bool, Int, String, Duration, Timestamp, Ip, Cidr, Enum, Set, Map, Record };

// `enumIndex` for Enum, and the record's index in `Bundle::records` for Record; `elem` (a
// TypeId of a scalar type, or of a record for a table) for Set<T> and Map<String, T>.
struct TypeDesc {
  TypeKind kind = TypeKind::Bool;
  uint32_t enumIndex = kNone;
  TypeId elem = kNone;
  bool operator==(const TypeDesc&) const = default;
};

// Timestamps exist only in years 0000–9999 (SPEC §4.5): 0000-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z. Arithmetic that leaves the range is an evaluation error, and the
// loader rejects constants and exception `until` values outside it.
inline constexpr int64_t kMinTimestamp = -62167219200;  // 0000-01-01T00:00:00Z
inline constexpr int64_t kMaxTimestamp = 253402300799;  // 9999-12-31T23:59:59Z
inline constexpr bool timestampInRange(int64_t secs) { return secs >= kMinTimestamp && secs <= kMaxTimestamp; }

// Ip and Cidr payload: IPv4 uses the first 4 bytes of `bytes`.
struct IpAddr {
  uint8_t family = 4;  // 4 or 6
  uint8_t prefix = 0;  // Cidr only
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddr&) const = default;
};

// A constant. Scalars: `i` (Bool 0/1, Int, Duration and Timestamp seconds, enum member
// index), `str` (String), `ip` (Ip, Cidr). Set: `elems` sorted and duplicate-free.
// Map: `keys` (string ids, sorted by their text) with `elems` the values.
struct Const {
  TypeId type = 0;
  int64_t i = 0;
  StrId str = kNone;
  IpAddr ip{};
  std::vector<Const> elems;
  std::vector<StrId> keys;
  bool operator==(const Const&) const = default;
};

struct EnumDecl {
  StrId name;                   // qualified
  std::vector<StrId> members;
};

struct Attribute {
  StrId name;
  TypeId type;
  bool optional = false;
};

struct PrincipalType {
  StrId name;                   // qualified
  std::vector<Attribute> attrs;  // slot = position
};

// Request attributes live in one bundle-wide slot space, so a rule on several request
// types (or `on *`) reads a shared attribute with one slot. Same name and type ⇒ same slot.
struct RequestSlot {
  StrId name;
  TypeId type;
};

struct RequestAttr {
  uint32_t slot;  // index into Schema::requestSlots
  bool optional = false;
};

enum class MergeOp : uint8_t { Min, Max, Union, Intersect, And, Or, Unique };

struct GrantDecl {
  StrId name;
  TypeId type;
  Const defaultValue;
  MergeOp merge = MergeOp::Unique;
};

struct RequestType {
  StrId name;                        // qualified
  std::vector<uint32_t> principals;  // allowed principal types (empty: all)
  std::vector<RequestAttr> attrs;
  std::vector<GrantDecl> grants;
};

struct Schema {
  std::vector<TypeDesc> types;
  std::vector<EnumDecl> enums;
  std::vector<PrincipalType> principals;
  std::vector<RequestSlot> requestSlots;
  std::vector<RequestType> requests;
  std::vector<Attribute> context;  // must contain `time: Timestamp`, required; slot = position
};

struct Function {
  uint32_t numRegs = 0;
  std::vector<Instr> code;
  std::vector<Const> consts;
  bool operator==(const Function&) const = default;
};

enum class Effect : uint8_t { Allow, Approve, Deny, Exception };
enum class Severity : uint8_t { None, Low, Medium, High, Critical };

struct GrantAssign {
  StrId grant;                  // grant name, resolved per target request type
  uint32_t function;            // returns the grant's type
};

struct ConjunctSource {
  uint32_t line = 0;
  StrId text = kNone;
};

struct Rule {
  StrId name;                          // qualified
  Effect effect = Effect::Allow;
  bool allTargets = false;             // `on *` (then `targets` is ignored)
  std::vector<uint32_t> targets;       // request types; ignored for exceptions, which take the lifted deny's
  std::vector<uint32_t> conjuncts;     // functions returning Bool; matches iff all true
  std::vector<uint32_t> approvers;     // approve: functions returning String
  uint32_t quorum = 1;
  std::vector<GrantAssign> grants;     // allow, approve
  StrId because = kNone;
  Severity severity = Severity::None;  // deny
  uint32_t lifts = kNone;              // exception: rule index of a deny
  int64_t until = 0;                   // exception: active while context.time < until
  StrId owner = kNone;
  StrId ticket = kNone;
  StrId doc = kNone;
  std::vector<StrId> controls;         // `@controls` members, as written
  // Source map (dropped by --strip): empty, or one entry per conjunct.
  StrId file = kNone;                  // the rule's file, relative to the repository root (format 1.1)
  uint32_t line = 0;
  std::vector<ConjunctSource> source;
};

struct Metadata {
  StrId name = kNone;
  StrId revision = kNone;
  StrId compilerVersion = kNone;
  StrId sourcesDigest = kNone;
  StrId dataDigest = kNone;  // "sha256:<hex>" of the tables' content (format 1.2, with tables)
};

// Reference data (SPEC §2.3). A record types the rows of a table.
struct RecordDecl {
  StrId name;                    // qualified
  std::vector<Attribute> attrs;  // attribute index = position
};

// A table: rows sorted by key (bytewise), keys unique. A row is a Const of the
// record's type whose `elems` hold one value per attribute; an absent optional attribute
// is a Const with `type == kNone`.
struct Table {
  StrId name;                    // qualified
  TypeId type = kNone;           // Map<String, record>
  std::vector<std::string> keys;  // row keys (not in the string table: one string per row);
                                  // written by the compiler, empty in a loaded bundle
  std::vector<Const> rows;       // likewise: the loader decodes rows straight into run-time values
  uint32_t rowCount = 0;         // a loaded bundle's number of rows
  // Internal to the loader: the encoded rows, valid only while the bundle loads.
  const uint8_t* encoded = nullptr;
  size_t encodedSize = 0;
};

struct Bundle {
  std::vector<std::string> strings;
  Schema schema;
  std::vector<Function> functions;
  std::vector<Rule> rules;
  Metadata meta;
  bool hasSourceMap = false;         // writes the source-map section (rule lines, conjuncts)
  std::vector<RecordDecl> records;   // data section (format 1.2): written only with tables
  std::vector<Table> tables;

  // Interns `s` into `strings` (first occurrence wins, so ids follow insertion order).
  StrId intern(std::string_view s);
  // Adds (or finds) a type descriptor.
  TypeId typeId(const TypeDesc& t);
  TypeId typeId(TypeKind k) { return typeId(TypeDesc{k}); }
  std::string_view str(StrId id) const { return strings.at(id); }

 private:
  std::unordered_map<std::string, StrId> interned_;
};

// Bundle file format version written by this runtime.
inline constexpr uint16_t kFormatMajor = 1;
// 1.1: the source map names each rule's file. 1.0 bundles still load (without it).
// 1.2: a data section (records and tables) and the metadata's data digest. A bundle
// without tables is written as 1.1, so runtimes that read 1.1 still load it.
inline constexpr uint16_t kFormatMinor = 2;

struct WriteOptions {
  std::string signKeyPem;    // Ed25519 private key (PEM); empty: unsigned
  bool strip = false;        // omit the source map
};

// Serializes `b` (SPEC §7.1). Byte-identical for identical models. Returns false with a
// message in `error` when signing fails or the model does not fit the format.
bool writeBundle(const Bundle& b, const WriteOptions& opts, std::vector<uint8_t>& out, std::string* error);

// Merge operator and effect names as written in sources.
const char* mergeOpName(MergeOp m);
const char* effectName(Effect e);
const char* severityName(Severity s);
const char* typeKindName(TypeKind k);

}  // namespace pave::rt
