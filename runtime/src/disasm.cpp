// Disassembler and bundle summary (`pave inspect`).
#include <cstdio>

#include "pave/literals.h"
#include "program.h"

namespace pave::rt {
namespace {

std::string operand(Operand kind, uint32_t v, uint32_t pc) {
  switch (kind) {
    case Operand::RegWrite:
    case Operand::RegRead:
    case Operand::RegReadWrite: return "r" + std::to_string(v);
    case Operand::Const: return "k" + std::to_string(v);
    case Operand::Jump: return "->" + std::to_string(pc + 1 + v);
    case Operand::PrincipalType: return "p" + std::to_string(v);
    case Operand::Slot: return "s" + std::to_string(v);
    case Operand::Count: return std::to_string(v);
    case Operand::Mode: return v == 0 ? "any" : "all";
    case Operand::None: break;
  }
  return {};
}

std::string constText(const Bundle& b, const Const& c) {
  if (c.type >= b.schema.types.size()) return "?";
  const TypeDesc& t = b.schema.types[c.type];
  std::string s;
  switch (t.kind) {
    case TypeKind::Bool: return c.i ? "true" : "false";
    case TypeKind::Int: return std::to_string(c.i);
    case TypeKind::Duration: formatDuration(c.i, s); return s;
    case TypeKind::Timestamp: formatTimestamp(c.i, s); return s;
    case TypeKind::String: return c.str < b.strings.size() ? "\"" + b.strings[c.str] + "\"" : "?";
    case TypeKind::Ip: formatIp(c.ip, s); return s;
    case TypeKind::Cidr: formatCidr(c.ip, s); return s;
    case TypeKind::Enum: {
      const EnumDecl& e = b.schema.enums.at(t.enumIndex);
      return b.strings.at(e.name) + "." + (size_t(c.i) < e.members.size() ? b.strings[e.members[size_t(c.i)]] : "?");
    }
    case TypeKind::Set:
    case TypeKind::Map: {
      s = t.kind == TypeKind::Set ? "[" : "{";
      for (size_t i = 0; i < c.elems.size(); ++i) {
        if (i) s += ", ";
        if (i < c.keys.size() && c.keys[i] < b.strings.size()) s += "\"" + b.strings[c.keys[i]] + "\": ";
        s += constText(b, c.elems[i]);
      }
      return s + (t.kind == TypeKind::Set ? "]" : "}");
    }
    case TypeKind::Record: return "?";  // rows exist only in tables
  }
  return "?";
}

}  // namespace

namespace {

// The disassembly, with each function's plan after its code when `plan` is given.
std::string disassembleWith(const Bundle& b, const DecisionPlan* plan) {
  std::string out;
  char line[160];
  for (size_t f = 0; f < b.functions.size(); ++f) {
    const Function& fn = b.functions[f];
    out += "function " + std::to_string(f) + " (" + std::to_string(fn.numRegs) + " registers)\n";
    for (size_t k = 0; k < fn.consts.size(); ++k)
      out += "  k" + std::to_string(k) + " = " + constText(b, fn.consts[k]) + "\n";
    for (uint32_t pc = 0; pc < fn.code.size(); ++pc) {
      Instr ins = fn.code[pc];
      if (opcodeOf(ins) >= kOpCount) {
        std::snprintf(line, sizeof line, "  %04u  ??? %016llx\n", pc, static_cast<unsigned long long>(ins));
        out += line;
        continue;
      }
      const OpInfo& info = opInfo(Op(opcodeOf(ins)));
      std::string ops;
      const Operand kinds[4] = {info.a, info.b, info.c, info.x};
      const uint32_t vals[4] = {fieldA(ins), fieldB(ins), fieldC(ins), fieldX(ins)};
      for (int k = 0; k < 4; ++k) {
        if (kinds[k] == Operand::None) continue;
        if (!ops.empty()) ops += ", ";
        ops += operand(kinds[k], vals[k], pc);
      }
      std::snprintf(line, sizeof line, "  %04u  %-12s %s\n", pc, info.name, ops.c_str());
      out += line;
    }
    if (plan) out += describeFunctionPlan(*plan, uint32_t(f));
  }
  if (plan) out += describeRuleSets(b, *plan);
  return out;
}

}  // namespace

std::string disassemble(const Bundle& b) { return disassembleWith(b, nullptr); }
std::string disassemble(const LoadedBundle& b) { return disassembleWith(b.model(), &b.impl().plan); }

std::string inspect(const LoadedBundle& lb) {
  const auto& p = lb.impl();
  const Bundle& b = p.model;
  auto opt = [&](StrId id) { return id == kNone ? std::string("-") : b.strings[id]; };
  std::string out;
  out += "format:    PAVB " + std::to_string(kFormatMajor) + "." + std::to_string(p.formatMinor) + "\n";
  out += "digest:    sha256:" + p.digestHex + "\n";
  out += std::string("signed:    ") + (p.isSigned ? "yes" : "no") + "\n";
  out += "name:      " + opt(b.meta.name) + "\n";
  out += "revision:  " + opt(b.meta.revision) + "\n";
  out += "compiler:  " + opt(b.meta.compilerVersion) + "\n";
  out += "sources:   " + opt(b.meta.sourcesDigest) + "\n";
  if (b.meta.dataDigest != kNone) out += "data:      " + b.strings[b.meta.dataDigest] + "\n";
  out += "size:      " + std::to_string(p.fileSize) + " bytes\n";
  out += "sections:\n";
  for (const auto& [name, size] : p.sectionSizes) out += "  " + name + ": " + std::to_string(size) + " bytes\n";
  out += "schema:    " + std::to_string(b.schema.principals.size()) + " principal types, " +
         std::to_string(b.schema.requests.size()) + " request types, " + std::to_string(b.schema.enums.size()) +
         " enums\n";
  if (!b.tables.empty()) {
    size_t rows = 0, dataBytes = 0;
    for (const Table& t : b.tables) rows += t.rows.empty() ? t.rowCount : t.rows.size();
    for (const auto& [name, size] : p.sectionSizes)
      if (name == "data") dataBytes = size;
    out += "tables:    " + std::to_string(b.tables.size()) + ", " + std::to_string(rows) + " rows in " +
           std::to_string(dataBytes) + " bytes";
    if (rows) out += " (" + std::to_string(dataBytes / rows) + " bytes per row)";
    out += "\n";
    for (const Table& t : b.tables) {
      const TypeDesc& map = b.schema.types[t.type];
      const RecordDecl& rec = b.records[b.schema.types[map.elem].enumIndex];
      const size_t count = t.rows.empty() ? t.rowCount : t.rows.size();
      out += "  " + b.strings[t.name] + ": Map<String, " + b.strings[rec.name] + ">, " + std::to_string(count) +
             (count == 1 ? " row, " : " rows, ") + std::to_string(rec.attrs.size()) + " attributes\n";
    }
  }
  out += "rules:     " + std::to_string(b.rules.size()) + "\n";
  for (uint32_t r : p.plan.rulesByName) {
    const Rule& rule = b.rules[r];
    out += "  " + std::string(effectName(rule.effect)) + " " + b.strings[rule.name];
    if (rule.effect == Effect::Exception) {
      std::string until;
      formatTimestamp(rule.until, until);
      out += " lifts " + b.strings[b.rules[rule.lifts].name] + " until " + until + " owner " + opt(rule.owner);
    } else if (rule.allTargets) {
      out += " on *";
    } else {
      out += " on ";
      for (size_t i = 0; i < rule.targets.size(); ++i)
        out += (i ? ", " : "") + b.strings[b.schema.requests[rule.targets[i]].name];
    }
    out += "\n";
    // The rule's metadata (SPEC §3.2), one indented line each when set.
    if (rule.file != kNone) out += "      at:       " + b.strings[rule.file] + ":" + std::to_string(rule.line) + "\n";
    if (rule.severity != Severity::None) out += std::string("      severity: ") + severityName(rule.severity) + "\n";
    if (!rule.controls.empty()) {
      out += "      controls: ";
      for (size_t i = 0; i < rule.controls.size(); ++i) out += (i ? ", " : "") + b.strings[rule.controls[i]];
      out += "\n";
    }
    if (rule.ticket != kNone) out += "      ticket:   " + b.strings[rule.ticket] + "\n";
    if (rule.because != kNone) out += "      because:  " + b.strings[rule.because] + "\n";
    if (rule.doc != kNone) {
      std::string_view doc = b.strings[rule.doc];
      const char* label = "      doc:      ";
      while (!doc.empty()) {  // each line of the doc comment, aligned
        size_t nl = doc.find('\n');
        out += label;
        out += doc.substr(0, nl);
        out += "\n";
        label = "                ";
        doc = nl == std::string_view::npos ? std::string_view() : doc.substr(nl + 1);
      }
    }
  }
  return out;
}

}  // namespace pave::rt
