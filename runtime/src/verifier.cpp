// Checks a decoded bundle before anything runs it (SPEC §7.6): every index of the schema
// and rules, every constant, and every function — operand kinds and ranges, forward jumps,
// properly nested quantifier loops, and register types by forward data flow.
#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "bundle_reader.h"
#include "pave/literals.h"
#include "pave/builder.h"

namespace pave::rt {
namespace {

// A register type as the verifier tracks it: the structure of a TypeDesc without ids.
struct VT {
  uint8_t kind = kUninit;  // TypeKind, or kUninit (not readable)
  uint8_t ekind = 0xff;    // Set/Map element kind
  uint32_t en = kNone;     // enum index of an Enum, or of a Set's enum elements; record index of a
                           // Record, or of a table's rows
  static constexpr uint8_t kUninit = 0xff;
  bool operator==(const VT&) const = default;
  bool is(TypeKind k) const { return kind == uint8_t(k); }
};
VT scalar(TypeKind k) { return VT{uint8_t(k)}; }

constexpr uint64_t kVerifyBudget = uint64_t(1) << 22;  // registers × instructions per function

struct Verifier {
  const Bundle& b;
  std::string err;

  bool fail(std::string msg) {
    if (err.empty()) err = std::move(msg);
    return false;
  }

  VT vt(TypeId id) const {
    const TypeDesc& t = b.schema.types[id];
    VT v{uint8_t(t.kind)};
    if (t.kind == TypeKind::Enum || t.kind == TypeKind::Record) v.en = t.enumIndex;
    if (t.kind == TypeKind::Set || t.kind == TypeKind::Map) {
      const TypeDesc& e = b.schema.types[t.elem];
      v.ekind = uint8_t(e.kind);
      v.en = e.enumIndex;
    }
    return v;
  }
  VT elemOf(const VT& set) const {
    VT e{set.ekind};
    if (set.ekind == uint8_t(TypeKind::Enum) || set.ekind == uint8_t(TypeKind::Record)) e.en = set.en;
    return e;
  }

  // ---- schema and constants ----

  bool types() {
    const auto& ts = b.schema.types;
    for (const TypeDesc& t : ts) {
      bool isEnum = t.kind == TypeKind::Enum, isColl = t.kind == TypeKind::Set || t.kind == TypeKind::Map;
      bool isRecord = t.kind == TypeKind::Record;
      if ((isEnum || isRecord) != (t.enumIndex != kNone) || (isEnum && t.enumIndex >= b.schema.enums.size()))
        return fail("type descriptor with an invalid enum index");
      if (isRecord && t.enumIndex >= b.records.size()) return fail("type descriptor with an invalid record index");
      if (isColl != (t.elem != kNone) || (isColl && t.elem >= ts.size()))
        return fail("type descriptor with an invalid element type");
      if (isColl) {
        TypeKind e = ts[t.elem].kind;
        bool ok = t.kind == TypeKind::Set
                      ? (e == TypeKind::String || e == TypeKind::Int || e == TypeKind::Ip || e == TypeKind::Enum)
                      : (e == TypeKind::String || e == TypeKind::Int || e == TypeKind::Bool || e == TypeKind::Record);
        if (!ok) return fail("invalid element type of a set or map type");
      }
    }
    return true;
  }

  bool constant(const Const& c) {
    const TypeDesc& t = b.schema.types[c.type];
    switch (t.kind) {
      case TypeKind::Enum:
        if (c.i < 0 || uint64_t(c.i) >= b.schema.enums[t.enumIndex].members.size())
          return fail("enum constant out of range");
        return true;
      case TypeKind::Set:
      case TypeKind::Map:
        for (size_t i = 0; i < c.elems.size(); ++i) {
          if (c.elems[i].type != t.elem && !(b.schema.types[c.elems[i].type] == b.schema.types[t.elem]))
            return fail("collection constant with an element of the wrong type");
          if (!constant(c.elems[i])) return false;
          if (t.kind == TypeKind::Set && i > 0 && compareConsts(b, c.elems[i - 1], c.elems[i]) >= 0)
            return fail("set constant not sorted or with duplicates");
          if (t.kind == TypeKind::Map && i > 0 && b.strings[c.keys[i - 1]] >= b.strings[c.keys[i]])
            return fail("map constant keys not sorted or duplicated");
        }
        return true;
      case TypeKind::Timestamp:
        if (!timestampInRange(c.i)) return fail("timestamp constant outside years 0000-9999");
        return true;
      case TypeKind::Record: return fail("a record constant outside a table");
      default: return true;
    }
  }

  // ---- reference data (SPEC §2.3) ----

  bool data() {
    const auto& ts = b.schema.types;
    std::vector<StrId> names;
    for (const RecordDecl& r : b.records) {
      if (!attributes(r.attrs, "record attribute")) return false;
      for (const Attribute& a : r.attrs) {
        const TypeDesc& t = ts[a.type];
        if (t.kind == TypeKind::Record || (t.kind == TypeKind::Map && ts[t.elem].kind == TypeKind::Record))
          return fail("a record attribute of a record or table type");
      }
      names.push_back(r.name);
    }
    if (!uniqueNames(names, "record")) return false;
    names.clear();
    for (const Table& t : b.tables) {
      if (t.type >= ts.size() || ts[t.type].kind != TypeKind::Map || ts[ts[t.type].elem].kind != TypeKind::Record)
        return fail("table of a type that is not a map of records");
      const RecordDecl& rec = b.records[ts[ts[t.type].elem].enumIndex];
      if (t.keys.size() != t.rows.size()) return fail("table with mismatched keys and rows");
      for (size_t i = 0; i < t.rows.size(); ++i) {
        if (i > 0 && t.keys[i - 1] >= t.keys[i])
          return fail("table '" + b.strings[t.name] + "': keys not sorted or duplicated");
        const Const& row = t.rows[i];
        if (row.elems.size() != rec.attrs.size()) return fail("table row with a wrong attribute count");
        for (size_t a = 0; a < rec.attrs.size(); ++a) {
          const Const& f = row.elems[a];
          if (f.type == kNone) {
            if (!rec.attrs[a].optional) return fail("table row without a required attribute");
            continue;
          }
          if (f.type != rec.attrs[a].type && !(ts[f.type] == ts[rec.attrs[a].type]))
            return fail("table row attribute of the wrong type");
          if (!constant(f)) return false;
        }
      }
      names.push_back(t.name);
    }
    return uniqueNames(names, "table");
  }

  bool uniqueNames(const std::vector<StrId>& names, const char* what) {
    std::unordered_set<StrId> seen;
    for (StrId n : names)
      if (!seen.insert(n).second) return fail(std::string("duplicate ") + what + " '" + b.strings[n] + "'");
    return true;
  }

  bool attributes(const std::vector<Attribute>& as, const char* what) {
    std::vector<StrId> names;
    for (const Attribute& a : as) names.push_back(a.name);
    return uniqueNames(names, what);
  }

  bool mergeFits(MergeOp m, TypeKind k) {
    switch (m) {
      case MergeOp::Min:
      case MergeOp::Max: return k == TypeKind::Int || k == TypeKind::Duration || k == TypeKind::Timestamp;
      case MergeOp::Union:
      case MergeOp::Intersect: return k == TypeKind::Set;
      case MergeOp::And:
      case MergeOp::Or: return k == TypeKind::Bool;
      case MergeOp::Unique: return true;
    }
    return false;
  }

  // Records exist only as table rows: no input attribute or grant holds one.
  bool holdsRecord(TypeId id) const {
    const auto& ts = b.schema.types;
    return ts[id].kind == TypeKind::Record || (ts[id].kind == TypeKind::Map && ts[ts[id].elem].kind == TypeKind::Record);
  }
  bool noRecords() {
    const Schema& s = b.schema;
    for (const PrincipalType& p : s.principals)
      for (const Attribute& a : p.attrs)
        if (holdsRecord(a.type)) return fail("a principal attribute of a record type");
    for (const RequestSlot& r : s.requestSlots)
      if (holdsRecord(r.type)) return fail("a request attribute of a record type");
    for (const Attribute& a : s.context)
      if (holdsRecord(a.type)) return fail("a context attribute of a record type");
    for (const RequestType& r : s.requests)
      for (const GrantDecl& g : r.grants)
        if (holdsRecord(g.type)) return fail("a grant of a record type");
    return true;
  }

  bool schema() {
    const Schema& s = b.schema;
    if (!types() || !noRecords()) return false;
    std::vector<StrId> names;
    for (const EnumDecl& e : s.enums) {
      if (e.members.empty()) return fail("enum without members");
      if (!uniqueNames(e.members, "enum member")) return false;
      names.push_back(e.name);
    }
    if (!uniqueNames(names, "enum")) return false;
    names.clear();
    for (const PrincipalType& p : s.principals) {
      if (!attributes(p.attrs, "principal attribute")) return false;
      names.push_back(p.name);
    }
    if (!uniqueNames(names, "principal type")) return false;
    names.clear();
    for (const RequestType& r : s.requests) {
      std::vector<StrId> attrNames;
      for (const RequestAttr& a : r.attrs) attrNames.push_back(s.requestSlots[a.slot].name);
      if (!uniqueNames(attrNames, "request attribute")) return false;
      std::vector<StrId> grantNames;
      for (const GrantDecl& g : r.grants) {
        grantNames.push_back(g.name);
        if (!mergeFits(g.merge, s.types[g.type].kind)) return fail("merge operator does not fit the grant type");
        if (!(vt(g.defaultValue.type) == vt(g.type))) return fail("grant default of the wrong type");
        if (!constant(g.defaultValue)) return false;
      }
      if (!uniqueNames(grantNames, "grant")) return false;
      std::vector<StrId> allowed;  // principal type indices, checked here, then by name
      for (uint32_t pt : r.principals) {
        if (pt >= s.principals.size()) return fail("allowed principal type out of range");
        allowed.push_back(s.principals[pt].name);
      }
      if (!uniqueNames(allowed, "allowed principal")) return false;
      names.push_back(r.name);
    }
    if (!uniqueNames(names, "request type")) return false;
    if (!attributes(s.context, "context attribute")) return false;
    bool hasTime = false;
    for (const Attribute& a : s.context)
      if (b.strings[a.name] == "time") hasTime = s.types[a.type].kind == TypeKind::Timestamp && !a.optional;
    if (!hasTime) return fail("the context lacks the required attribute `time: Timestamp`");
    return true;
  }

  // ---- functions ----

  struct Use {
    VT ret;
    std::vector<uint32_t> targets;  // request types the function may run for
  };

  bool function(uint32_t index, const Use& use) {
    const Function& f = b.functions[index];
    std::string where = "function " + std::to_string(index);
    const uint32_t n = uint32_t(f.code.size());
    if (n == 0) return fail(where + ": empty");
    if (f.numRegs == 0 || f.numRegs > kMaxRegisters) return fail(where + ": invalid register count");
    if (uint64_t(f.numRegs) * n > kVerifyBudget) return fail(where + ": too large to verify");
    for (const Const& c : f.consts)
      if (!constant(c)) return false;

    // Request slots present in every target.
    std::vector<uint32_t> slotCount(b.schema.requestSlots.size());
    for (uint32_t t : use.targets)
      for (const RequestAttr& a : b.schema.requests[t].attrs) slotCount[a.slot]++;
    auto requestSlotOk = [&](uint32_t slot) {
      return slot < slotCount.size() && slotCount[slot] == use.targets.size() && !use.targets.empty();
    };

    // Pass 1: operand ranges and loop structure.
    std::vector<int32_t> owner(n, -1);  // innermost loop (ITER_BEGIN pc) whose body holds pc
    std::vector<uint32_t> stack;        // ITER_BEGIN pcs
    std::vector<uint32_t> loopEnd(n, 0);
    for (uint32_t pc = 0; pc < n; ++pc) {
      Instr ins = f.code[pc];
      if (opcodeOf(ins) >= kOpCount) return fail(where + ": unknown opcode at " + std::to_string(pc));
      Op op = Op(opcodeOf(ins));
      const OpInfo& info = opInfo(op);
      const Operand kinds[4] = {info.x, info.a, info.b, info.c};
      const uint32_t vals[4] = {fieldX(ins), fieldA(ins), fieldB(ins), fieldC(ins)};
      for (int k = 0; k < 4; ++k) {
        uint32_t v = vals[k];
        bool ok = true;
        switch (kinds[k]) {
          case Operand::None: ok = v == 0; break;
          case Operand::RegWrite:
          case Operand::RegRead:
          case Operand::RegReadWrite: ok = v < f.numRegs; break;
          case Operand::Const: ok = v < f.consts.size(); break;
          case Operand::Jump: ok = uint64_t(pc) + 1 + v < n; break;
          case Operand::PrincipalType: ok = v < b.schema.principals.size(); break;
          case Operand::Mode: ok = v <= 1; break;
          case Operand::Slot:
          case Operand::Count: break;  // checked with the types below
        }
        if (!ok) return fail(where + ": invalid operand of " + info.name + " at " + std::to_string(pc));
      }
      if (!stack.empty()) owner[pc] = int32_t(stack.back());
      if (op == Op::ITER_BEGIN) {
        uint32_t end = pc + 1 + fieldC(ins);
        if (Op(opcodeOf(f.code[end])) != Op::ITER_NEXT) return fail(where + ": ITER_BEGIN without its ITER_NEXT");
        if (!stack.empty() && end >= loopEnd[stack.back()]) return fail(where + ": loops not nested");
        if (stack.size() >= kMaxLoopDepth) return fail(where + ": loops nested too deeply");
        loopEnd[pc] = end;
        stack.push_back(pc);
      } else if (op == Op::ITER_NEXT) {
        if (stack.empty() || loopEnd[stack.back()] != pc) return fail(where + ": stray ITER_NEXT");
        stack.pop_back();
      }
    }
    if (!stack.empty()) return fail(where + ": unterminated loop");
    for (uint32_t pc = 0; pc < n; ++pc) {
      Instr ins = f.code[pc];
      const Op op = Op(opcodeOf(ins));
      if (!hasJump(op) || opHas(op, opflag::Loop)) continue;  // a loop's skip edge goes to its ITER_NEXT
      const uint32_t off = jumpOffset(ins);
      if (owner[pc + 1 + off] != owner[pc]) return fail(where + ": jump into or out of a loop at " + std::to_string(pc));
    }

    // Pass 2: register types by forward data flow.
    using State = std::vector<VT>;
    std::unordered_map<uint32_t, State> pending;  // states flowing into jump targets
    struct LoopState { State skip; State body; bool reachable; };
    std::vector<LoopState> loops;
    State cur(f.numRegs);
    bool live = true;
    auto merge = [](State& into, const State& from) {
      for (size_t r = 0; r < into.size(); ++r)
        if (!(into[r] == from[r])) into[r] = VT{};
    };
    auto flow = [&](uint32_t target, const State& s) {
      auto [it, added] = pending.try_emplace(target, s);
      if (!added) merge(it->second, s);
    };
    for (uint32_t pc = 0; pc < n; ++pc) {
      Instr ins = f.code[pc];
      Op op = Op(opcodeOf(ins));
      uint32_t a = fieldA(ins), bb = fieldB(ins), c = fieldC(ins);
      if (auto it = pending.find(pc); it != pending.end()) {
        if (live) merge(cur, it->second);
        else cur = std::move(it->second);
        live = true;
        pending.erase(it);
      }
      if (op == Op::ITER_NEXT) {  // the skip edge of ITER_BEGIN joins after the predicate is read
        LoopState ls = std::move(loops.back());
        loops.pop_back();
        if (live) {
          if (!cur[bb].is(TypeKind::Bool)) return fail(where + ": quantifier predicate is not Bool");
          for (uint32_t r = 0; r < f.numRegs; ++r)
            if (ls.body[r].kind != VT::kUninit && !(ls.body[r] == cur[r]))
              return fail(where + ": loop body changes the type of r" + std::to_string(r));
          merge(cur, ls.skip);
        } else if (ls.reachable) {
          cur = std::move(ls.skip);
          live = true;
        }
        if (live) cur[a] = scalar(TypeKind::Bool);
        continue;
      }
      if (!live) {
        if (op == Op::ITER_BEGIN) loops.push_back({State(), State(), false});
        continue;
      }
      auto rd = [&](uint32_t r) -> const VT& { return cur[r]; };
      auto need = [&](bool ok, const char* what) {
        if (!ok) fail(where + ": " + opInfo(op).name + " at " + std::to_string(pc) + ": " + what);
        return ok;
      };
      auto readable = [&](uint32_t r) { return need(cur[r].kind != VT::kUninit, "reads an unset register"); };
      auto isk = [&](uint32_t r, TypeKind k) { return readable(r) && need(cur[r].is(k), "operand of the wrong type"); };
      auto same = [&](uint32_t x, uint32_t y) {
        return readable(x) && readable(y) && need(cur[x] == cur[y], "operands of different types");
      };
      auto ordered = [&](uint32_t r) {
        return need(rd(r).is(TypeKind::Int) || rd(r).is(TypeKind::Duration) || rd(r).is(TypeKind::Timestamp),
                    "operand is not Int, Duration or Timestamp");
      };
      auto sized = [&](uint32_t r) {
        return readable(r) && need(rd(r).is(TypeKind::String) || rd(r).is(TypeKind::Set) || rd(r).is(TypeKind::Map),
                                   "operand is not a String, Set or Map");
      };
      const VT kBool = scalar(TypeKind::Bool);
      VT out;
      bool writes = opInfo(op).a == Operand::RegWrite;
      switch (op) {
        case Op::LOADK: out = vt(f.consts[bb].type); break;
        case Op::LOADB:
          if (!need(bb <= 1, "immediate is not 0 or 1")) return false;
          out = kBool;
          break;
        case Op::MOVE:
          if (!readable(bb)) return false;
          out = rd(bb);
          break;
        case Op::LOAD_PRIN:
        case Op::HAS_PRIN: {
          const auto& attrs = b.schema.principals[c].attrs;
          if (!need(bb < attrs.size(), "principal slot out of range")) return false;
          out = op == Op::HAS_PRIN ? kBool : vt(attrs[bb].type);
          break;
        }
        case Op::LOAD_REQ:
        case Op::HAS_REQ:
          if (!need(requestSlotOk(bb), "request slot not on every target")) return false;
          out = op == Op::HAS_REQ ? kBool : vt(b.schema.requestSlots[bb].type);
          break;
        case Op::LOAD_CTX:
        case Op::HAS_CTX:
          if (!need(bb < b.schema.context.size(), "context slot out of range")) return false;
          out = op == Op::HAS_CTX ? kBool : vt(b.schema.context[bb].type);
          break;
        case Op::IS_PRIN: out = kBool; break;
        case Op::EQ:
        case Op::NE:
          if (!same(bb, c)) return false;
          out = kBool;
          break;
        case Op::LT:
        case Op::LE:
        case Op::GT:
        case Op::GE:
          if (!same(bb, c) || !ordered(bb)) return false;
          out = kBool;
          break;
        case Op::ADD:
        case Op::SUB: {
          if (!readable(bb) || !readable(c)) return false;
          TypeKind x = TypeKind(rd(bb).kind), y = TypeKind(rd(c).kind);
          using K = TypeKind;
          if (x == y && (x == K::Int || x == K::Duration)) out = rd(bb);
          else if (x == K::Timestamp && y == K::Duration) out = scalar(K::Timestamp);
          else if (op == Op::SUB && x == K::Timestamp && y == K::Timestamp) out = scalar(K::Duration);
          else return need(false, "operands of the wrong types");
          break;
        }
        case Op::NEG:
          if (!readable(bb) || !need(rd(bb).is(TypeKind::Int) || rd(bb).is(TypeKind::Duration), "not Int or Duration"))
            return false;
          out = rd(bb);
          break;
        case Op::CONCAT:
        case Op::STARTS_WITH:
        case Op::ENDS_WITH:
        case Op::CONTAINS_STR:
          if (!isk(bb, TypeKind::String) || !isk(c, TypeKind::String)) return false;
          out = op == Op::CONCAT ? scalar(TypeKind::String) : kBool;
          break;
        case Op::NOT:
          if (!isk(bb, TypeKind::Bool)) return false;
          out = kBool;
          break;
        case Op::AND:
        case Op::OR:
          if (!isk(bb, TypeKind::Bool) || !isk(c, TypeKind::Bool)) return false;
          out = kBool;
          break;
        case Op::TAKE_ERROR:
          if (!readable(a) || !readable(bb)) return false;
          break;
        case Op::IN_SET:
          if (!isk(c, TypeKind::Set) || !readable(bb) || !need(elemOf(rd(c)) == rd(bb), "element type differs"))
            return false;
          out = kBool;
          break;
        case Op::IN_CIDR:
          if (!isk(bb, TypeKind::Ip) || !isk(c, TypeKind::Cidr)) return false;
          out = kBool;
          break;
        case Op::IN_MAP:
          if (!isk(bb, TypeKind::String) || !isk(c, TypeKind::Map)) return false;
          out = kBool;
          break;
        case Op::LIKE:
          if (!isk(bb, TypeKind::String) ||
              !need(b.schema.types[f.consts[c].type].kind == TypeKind::String, "pattern is not a String constant"))
            return false;
          out = kBool;
          break;
        case Op::LOWER:
        case Op::UPPER:
          if (!isk(bb, TypeKind::String)) return false;
          out = scalar(TypeKind::String);
          break;
        case Op::SIZE:
        case Op::IS_EMPTY:
          if (!sized(bb)) return false;
          out = op == Op::SIZE ? scalar(TypeKind::Int) : kBool;
          break;
        case Op::CONTAINS_ALL:
        case Op::CONTAINS_ANY:
          if (!isk(bb, TypeKind::Set) || !same(bb, c)) return false;
          out = kBool;
          break;
        case Op::MAP_GET:
          if (!isk(bb, TypeKind::Map) || !isk(c, TypeKind::String)) return false;
          out = elemOf(rd(bb));
          break;
        case Op::LOAD_TABLE:
          if (!need(bb < b.tables.size(), "table index out of range")) return false;
          out = vt(b.tables[bb].type);
          break;
        case Op::GET_FIELD:
        case Op::HAS_FIELD: {
          if (!isk(bb, TypeKind::Record)) return false;
          if (!need(rd(bb).en < b.records.size(), "row of an unknown record")) return false;
          const auto& attrs = b.records[rd(bb).en].attrs;
          if (!need(c < attrs.size(), "record attribute out of range")) return false;
          out = op == Op::GET_FIELD ? vt(attrs[c].type) : kBool;
          break;
        }
        case Op::BUILD_SET: {
          if (!need(c >= 1 && uint64_t(bb) + c <= f.numRegs, "register range out of bounds")) return false;
          if (!readable(bb)) return false;
          for (uint32_t r = bb + 1; r < bb + c; ++r)
            if (!same(bb, r)) return false;
          TypeKind e = TypeKind(rd(bb).kind);
          if (!need(e == TypeKind::String || e == TypeKind::Int || e == TypeKind::Ip || e == TypeKind::Enum,
                    "elements cannot form a set"))
            return false;
          out = VT{uint8_t(TypeKind::Set), uint8_t(e), rd(bb).en};
          break;
        }
        case Op::HOUR:
        case Op::WEEKDAY:
        case Op::DATE:
          if (!isk(bb, TypeKind::Timestamp)) return false;
          out = scalar(op == Op::DATE ? TypeKind::Timestamp : TypeKind::Int);
          break;
        case Op::SECONDS:
          if (!isk(bb, TypeKind::Duration)) return false;
          out = scalar(TypeKind::Int);
          break;
        case Op::JMP:
          flow(pc + 1 + bb, cur);
          live = false;
          continue;
        case Op::JMP_FALSE:
        case Op::JMP_TRUE:
        case Op::JMP_NOT_TRUE:
          if (!isk(a, TypeKind::Bool)) return false;
          flow(pc + 1 + bb, cur);
          continue;
        case Op::ITER_BEGIN: {
          if (!isk(bb, TypeKind::Set)) return false;
          LoopState ls{cur, cur, true};
          ls.body[a] = elemOf(rd(bb));
          cur = ls.body;
          loops.push_back(std::move(ls));
          continue;
        }
        case Op::ITER_NEXT: break;  // handled above
        case Op::RET:
          if (!readable(a) || !need(rd(a) == use.ret, "returns a value of the wrong type")) return false;
          live = false;
          continue;
      }
      if (writes) cur[a] = out;
    }
    if (live) return fail(where + ": control falls off the end");
    return true;
  }

  // ---- rules ----

  bool rules() {
    const Schema& s = b.schema;
    const size_t nf = b.functions.size();
    std::vector<StrId> names;
    for (size_t i = 0; i < b.rules.size(); ++i) {
      const Rule& r = b.rules[i];
      std::string where = "rule '" + b.strings[r.name] + "'";
      names.push_back(r.name);
      std::vector<uint32_t> targets = r.targets;
      if (r.effect == Effect::Exception) {
        if (r.lifts >= b.rules.size() || b.rules[r.lifts].effect != Effect::Deny)
          return fail(where + ": lifts a rule that is not a deny");
        if (r.owner == kNone) return fail(where + ": exception without owner");
        if (!timestampInRange(r.until)) return fail(where + ": `until` outside years 0000-9999");
        const Rule& d = b.rules[r.lifts];
        targets = d.targets;
        if (d.allTargets) {
          targets.clear();
          for (uint32_t t = 0; t < s.requests.size(); ++t) targets.push_back(t);
        }
      } else {
        if (r.lifts != kNone || r.owner != kNone || r.ticket != kNone) return fail(where + ": exception clauses on a non-exception");
        if (!r.allTargets && r.targets.empty()) return fail(where + ": no targets");
        if (r.allTargets) {
          targets.clear();
          for (uint32_t t = 0; t < s.requests.size(); ++t) targets.push_back(t);
        }
        if (!uniqueNames(r.targets, "target")) return false;
      }
      if (r.effect == Effect::Approve) {
        if (r.approvers.empty() || r.quorum < 1) return fail(where + ": approve needs approvers and quorum >= 1");
      } else if (!r.approvers.empty()) {
        return fail(where + ": approvers on a rule that is not approve");
      }
      if (!r.grants.empty() && r.effect != Effect::Allow && r.effect != Effect::Approve)
        return fail(where + ": grants on a rule that is not allow or approve");
      if (b.hasSourceMap && !r.source.empty() && r.source.size() != r.conjuncts.size())
        return fail(where + ": source map does not match the conjuncts");
      for (uint32_t fn : r.conjuncts)
        if (fn >= nf || !function(fn, {scalar(TypeKind::Bool), targets})) return fail(where + ": invalid condition");
      for (uint32_t fn : r.approvers)
        if (fn >= nf || !function(fn, {scalar(TypeKind::String), targets})) return fail(where + ": invalid approver");
      std::vector<StrId> grantNames;
      // (each grant function is verified once per target: with none, it would not be)
      if (!r.grants.empty() && targets.empty()) return fail(where + ": grants on a rule without targets");
      for (const GrantAssign& g : r.grants) {
        grantNames.push_back(g.grant);
        if (g.function >= nf) return fail(where + ": invalid grant function");
        for (uint32_t t : targets) {
          const GrantDecl* decl = nullptr;
          for (const GrantDecl& d : s.requests[t].grants)
            if (d.name == g.grant) decl = &d;
          if (!decl) return fail(where + ": grant not declared on every target");
          if (!function(g.function, {vt(decl->type), {t}})) return fail(where + ": invalid grant");
        }
      }
      if (!uniqueNames(grantNames, "grant assignment")) return false;
    }
    return uniqueNames(names, "rule");
  }
};

}  // namespace

bool verifyBundle(const Bundle& b, std::string* error) {
  Verifier v{b, {}};
  bool ok = v.schema() && v.data() && v.rules();
  if (!ok && error) *error = v.err;
  return ok;
}

}  // namespace pave::rt
