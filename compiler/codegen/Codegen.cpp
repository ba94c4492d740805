#include "codegen/Codegen.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "codegen/ExprCompiler.h"
#include "stdlib/Stdlib.h"

namespace pave::codegen {

namespace {

using sema::CheckedProgram;

/// Maps sema types and values onto the bundle's tables.
class SchemaLowering {
 public:
  SchemaLowering(const CheckedProgram& p, rt::Bundle& b) : p_(p), b_(b) {}

  rt::TypeId type(sema::TypeId t) {
    const sema::Type& ty = p_.types.get(t);
    rt::TypeDesc d;
    switch (ty.kind) {
      case sema::TypeKind::Bool: d.kind = rt::TypeKind::Bool; break;
      case sema::TypeKind::Int: d.kind = rt::TypeKind::Int; break;
      case sema::TypeKind::String: d.kind = rt::TypeKind::String; break;
      case sema::TypeKind::Duration: d.kind = rt::TypeKind::Duration; break;
      case sema::TypeKind::Timestamp: d.kind = rt::TypeKind::Timestamp; break;
      case sema::TypeKind::Ip: d.kind = rt::TypeKind::Ip; break;
      case sema::TypeKind::Cidr: d.kind = rt::TypeKind::Cidr; break;
      case sema::TypeKind::Enum:
        d.kind = rt::TypeKind::Enum;
        d.enumIndex = ty.index;
        break;
      case sema::TypeKind::Set: d.kind = rt::TypeKind::Set; d.elem = type(ty.elem); break;
      case sema::TypeKind::Map: d.kind = rt::TypeKind::Map; d.elem = type(ty.elem); break;
      case sema::TypeKind::Record:
        d.kind = rt::TypeKind::Record;
        d.enumIndex = ty.index;
        break;
      default: throw std::runtime_error("type " + p_.typeName(t) + " has no bundle form");
    }
    return b_.typeId(d);
  }

  rt::Const constant(const sema::ConstValue& v) {
    rt::Const c;
    c.type = type(v.type);
    c.i = v.i;
    switch (v.kind) {
      case sema::ConstValue::Kind::String: c.str = b_.intern(v.s); break;
      case sema::ConstValue::Kind::Ip:
      case sema::ConstValue::Kind::Cidr:
        c.ip.family = v.ip.v6 ? 6 : 4;
        c.ip.prefix = v.ip.prefix;
        c.ip.bytes = v.ip.bytes;
        break;
      case sema::ConstValue::Kind::Set:
        for (const auto& e : v.elems) c.elems.push_back(constant(e));
        break;
      case sema::ConstValue::Kind::Map:
        for (const auto& [k, e] : v.entries) {
          c.keys.push_back(b_.intern(k));
          c.elems.push_back(constant(e));
        }
        break;
      default: break;
    }
    return c;
  }

  rt::Attribute attribute(const sema::AttrInfo& a) { return {b_.intern(a.name), type(a.type), a.optional}; }

  void schema() {
    for (const auto& e : p_.enums) {
      rt::EnumDecl d{b_.intern(e.name), {}};
      for (const auto& m : e.members) d.members.push_back(b_.intern(m));
      b_.schema.enums.push_back(std::move(d));
    }
    for (const auto& pr : p_.principals) {
      rt::PrincipalType t{b_.intern(pr.name), {}};
      for (const auto& a : pr.attrs) t.attrs.push_back(attribute(a));
      b_.schema.principals.push_back(std::move(t));
    }
    for (const auto& rq : p_.requests) {
      rt::RequestType t;
      t.name = b_.intern(rq.name);
      for (sema::PrincipalId id : rq.principals) t.principals.push_back(id.value);
      for (const auto& a : rq.attrs) t.attrs.push_back({requestSlot(a.name, a.type), a.optional});
      for (const auto& g : rq.grants) {
        rt::MergeOp m = static_cast<rt::MergeOp>(g.merge);  // same order in both enums
        t.grants.push_back({b_.intern(g.name), type(g.type), constant(g.defaultValue), m});
      }
      b_.schema.requests.push_back(std::move(t));
    }
    for (const auto& a : p_.context.attrs) b_.schema.context.push_back(attribute(a));
  }

  /// Records and tables (SPEC §2.3): the rows sorted by key as data::loadTables left them.
  void data() {
    for (const auto& r : p_.records) {
      rt::RecordDecl d{b_.intern(r.name), {}};
      for (const auto& a : r.attrs) d.attrs.push_back(attribute(a));
      b_.records.push_back(std::move(d));
    }
    for (const auto& t : p_.tables) {
      if (!t.data) throw std::runtime_error("the data of table `" + t.name + "` was not read");
      rt::Table out;
      out.name = b_.intern(t.name);
      out.type = type(t.type);
      const rt::TypeId rowType = type(p_.types.get(t.type).elem);
      out.keys.reserve(t.data->rows.size());
      out.rows.reserve(t.data->rows.size());
      for (const sema::TableRow& row : t.data->rows) {
        out.keys.push_back(row.key);
        rt::Const c;
        c.type = rowType;
        c.elems.reserve(row.fields.size());
        for (const auto& f : row.fields) {
          if (f) {
            c.elems.push_back(constant(*f));
          } else {
            rt::Const absent;
            absent.type = rt::kNone;
            c.elems.push_back(std::move(absent));
          }
        }
        out.rows.push_back(std::move(c));
      }
      b_.tables.push_back(std::move(out));
    }
  }

  /// Request attributes share one slot space: same name and type, same slot.
  uint32_t requestSlot(const std::string& name, sema::TypeId t) {
    auto key = std::make_pair(name, t.value);
    auto it = slots_.find(key);
    if (it != slots_.end()) return it->second;
    uint32_t slot = static_cast<uint32_t>(b_.schema.requestSlots.size());
    b_.schema.requestSlots.push_back({b_.intern(name), type(t)});
    slots_.emplace(key, slot);
    return slot;
  }

 private:
  const CheckedProgram& p_;
  rt::Bundle& b_;
  std::map<std::pair<std::string, uint32_t>, uint32_t> slots_;
};

static_assert(static_cast<int>(rt::MergeOp::Unique) == static_cast<int>(sema::MergeOp::Unique));
static_assert(static_cast<int>(rt::Severity::Critical) == static_cast<int>(sema::SeverityLevel::Critical));

rt::Effect effectOf(ast::Effect e) {
  switch (e) {
    case ast::Effect::Allow: return rt::Effect::Allow;
    case ast::Effect::Approve: return rt::Effect::Approve;
    case ast::Effect::Deny: return rt::Effect::Deny;
    case ast::Effect::Exception: return rt::Effect::Exception;
  }
  return rt::Effect::Deny;
}

/// The conjunct as written, on one line, for `--explain`.
std::string conjunctText(const SourceManager& sources, const sema::Conjunct& c) {
  std::string text(sources.slice(c.range));
  std::string out;
  bool space = false;
  for (char ch : text) {
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return c.fromUnless ? "unless " + out : out;
}

/// The conjuncts an `unless` clause compiles to, as (expression, negated): `not (a or b)`
/// is `not a and not b`, so a clause that is a disjunction gives one negated conjunct per
/// alternative (and `not not a` is `a`). A rule's result and the error it reports stay the
/// same: any false conjunct decides, as a true alternative decides `or`, and otherwise the
/// first erring conjunct's error is reported, as `or` reports its first erring operand's.
/// The parts are often single tests (dispatch keys, fast tests) where the whole clause was
/// one function. `expr` is the clause's expression, without the `not`.
void unlessParts(const CheckedProgram& p, sema::CExprId expr, std::vector<std::pair<sema::CExprId, bool>>& out) {
  const sema::CExpr& e = p.expr(expr);
  if (e.kind == sema::CExprKind::Or) {
    for (uint32_t i = 0; i < p.numChildren(expr); ++i) unlessParts(p, p.child(expr, i), out);
  } else if (e.kind == sema::CExprKind::Not) {
    out.push_back({p.child(expr, 0), false});
  } else {
    out.push_back({expr, true});
  }
}

/// `path` relative to the repository root `root` (as the sources digest names it), with
/// `/` separators; as given when there is no root or for the standard library.
std::string repositoryPath(const std::string& path, const std::string& root) {
  namespace fs = std::filesystem;
  if (root.empty() || isStdlibPath(path)) return path;
  std::error_code ec;
  const fs::path base = fs::absolute(root, ec).lexically_normal();
  std::string rel = fs::absolute(path, ec).lexically_normal().lexically_relative(base).generic_string();
  return rel.empty() ? path : rel;
}

}  // namespace

bool generate(const CheckedProgram& program, const SourceManager& sources, const CodegenOptions& options,
              rt::Bundle& b, std::string& error) {
  try {
    SchemaLowering lower(program, b);
    lower.schema();
    ExprCompiler compiler(program, b, [&](sema::TypeId t) { return lower.type(t); },
                          [&](const sema::ConstValue& v) { return lower.constant(v); },
                          [&](const std::string& n, sema::TypeId t) { return lower.requestSlot(n, t); });
    b.hasSourceMap = options.sourceMap;
    for (const sema::RuleInfo& r : program.rules) {
      rt::Rule out;
      out.name = b.intern(r.name);
      out.effect = effectOf(r.effect);
      out.allTargets = r.onStar;
      const sema::RuleInfo& targetsFrom = r.exception ? program.rule(r.exception->lifts) : r;
      out.allTargets = targetsFrom.onStar;
      for (sema::RequestId t : targetsFrom.targets) out.targets.push_back(t.value);
      for (const sema::Conjunct& c : r.condition) {
        // Each part of a split `unless` clause keeps the clause's source entry, so that
        // `--explain` names the clause as written.
        std::vector<std::pair<sema::CExprId, bool>> parts;
        if (c.fromUnless && program.expr(c.expr).kind == sema::CExprKind::Not)
          unlessParts(program, program.child(c.expr, 0), parts);
        else
          parts.push_back({c.expr, false});
        rt::ConjunctSource entry{};
        for (size_t i = 0; i < parts.size(); ++i) {
          const auto [expr, negated] = parts[i];
          out.conjuncts.push_back(negated ? compiler.negatedFunction(expr, r.numVars, r.name)
                                          : compiler.function(expr, r.numVars, r.name));
          if (!options.sourceMap) continue;
          if (i == 0)  // made once, after the first part (the string table's order as before)
            entry = {sources.lineCol(c.range.file, c.range.begin).line, b.intern(conjunctText(sources, c))};
          out.source.push_back(entry);
        }
      }
      for (sema::CExprId g : r.approvers) out.approvers.push_back(compiler.function(g, r.numVars, r.name));
      out.quorum = static_cast<uint32_t>(r.quorum);
      for (const sema::GrantAssignment& g : r.grants)
        out.grants.push_back({b.intern(g.grant), compiler.function(g.value, r.numVars, r.name)});
      if (r.because) out.because = b.intern(*r.because);
      out.severity = static_cast<rt::Severity>(r.severity);
      if (r.exception) {
        out.lifts = r.exception->lifts.value;
        out.until = r.exception->until;
        out.owner = b.intern(r.exception->owner);
        if (r.exception->ticket) out.ticket = b.intern(*r.exception->ticket);
      }
      if (!r.doc.empty()) out.doc = b.intern(r.doc);
      for (const std::string& c : r.controls) out.controls.push_back(b.intern(c));
      if (options.sourceMap) {
        out.line = sources.lineCol(r.range.file, r.range.begin).line;
        out.file = b.intern(repositoryPath(sources.path(r.range.file), options.root));
      }
      b.rules.push_back(std::move(out));
    }
    b.meta.name = b.intern(options.name);
    b.meta.revision = b.intern(options.revision);
    b.meta.compilerVersion = b.intern(std::string("pave ") + PAVE_VERSION);
    b.meta.sourcesDigest = b.intern(options.sourcesDigest);
    if (!program.tables.empty() || !program.records.empty()) {
      lower.data();
      b.meta.dataDigest = b.intern(digestData(program));
    }
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

namespace {
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  /// The length as a little-endian u64, then the bytes: no two sequences of parts collide.
  void part(std::string_view s) {
    size(s.size());
    bytes(s);
  }
  /// A length as a little-endian u64, whatever the machine.
  void size(uint64_t n) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * i));
    EVP_DigestUpdate(ctx_, b, sizeof b);
  }
  void bytes(std::string_view s) { EVP_DigestUpdate(ctx_, s.data(), s.size()); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};
}  // namespace

std::string digestData(const CheckedProgram& program) {
  Sha256 h;
  for (const sema::TableInfo& t : program.tables) {
    h.part(t.name);
    h.part(program.typeName(t.type));
    if (!t.data) continue;
    h.part(std::to_string(t.data->rows.size()));
    for (const sema::TableRow& row : t.data->rows) {
      h.part(row.key);
      for (const auto& f : row.fields) h.part(f ? program.formatValue(*f) : std::string_view("\x01"));
    }
  }
  return h.hex();
}

std::string digestSources(const SourceManager& sources, const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path base = fs::absolute(root, ec).lexically_normal();
  std::vector<std::pair<std::string, std::string_view>> files;  // (path from the root, text)
  for (uint32_t i = 0; i < sources.size(); ++i) {
    FileId id{i};
    const std::string& path = sources.path(id);
    if (isStdlibPath(path)) continue;
    files.emplace_back(repositoryPath(path, root), sources.text(id));
  }
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& [path, text] : files) {  // both lengths, then the path and the text
    h.size(path.size());
    h.size(text.size());
    h.bytes(path);
    h.bytes(text);
  }
  return h.hex();
}

}  // namespace pave::codegen
