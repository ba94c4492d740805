// Declarations, namespaces, `use` bindings and name resolution (SPEC §1.2).
#include <algorithm>

#include "sema/internal/Checker.h"
#include "stdlib/Stdlib.h"

namespace pave::sema::internal {

std::string Checker::qualify(std::string_view ns, std::string_view name) const {
  if (ns.empty()) return std::string(name);
  return std::string(ns) + "." + std::string(name);
}

std::string Checker::fileNamespace(uint32_t file) const { return fileNs_[file]; }

SourceRange Checker::segRange(ast::NameId name, uint32_t from, uint32_t to) const {
  return ast_.segment(name, from).range.to(ast_.segment(name, to - 1).range);
}

void Checker::addRef(SourceRange use, RefKind kind, ast::DeclId decl, uint32_t index, SourceRange target) {
  p_.references.push_back({use, kind, decl, index, target});
}

void Checker::collectDecls() {
  const size_t numFiles = ast_.files.size();
  fileNs_.resize(numFiles);
  uses_.resize(numFiles);
  for (uint32_t f = 0; f < numFiles; ++f) {
    const ast::SourceFile& file = ast_.files[f];
    if (file.namespaceName) fileNs_[f] = ast_.nameText(file.namespaceName);
    for (std::string ns = fileNs_[f]; !ns.empty();) {
      namespaces_.insert(ns);
      size_t dot = ns.rfind('.');
      ns.resize(dot == std::string::npos ? 0 : dot);
    }
    fileOrder_.push_back(f);
  }
  // The standard library's files first, then the user's by path: an order that does not
  // depend on how the repository's path was spelled (it decides the order of declarations,
  // and so of the bundle's tables).
  std::stable_sort(fileOrder_.begin(), fileOrder_.end(), [&](uint32_t a, uint32_t b) {
    const std::string &x = sources_.path(ast_.files[a].file), &y = sources_.path(ast_.files[b].file);
    const bool xs = isStdlibPath(x), ys = isStdlibPath(y);
    return xs != ys ? xs : x < y;
  });

  entryOf_.assign(ast_.decls.size(), nullptr);
  for (uint32_t f : fileOrder_) {
    std::vector<ast::DeclId> ids = ast_.files[f].decls;
    std::stable_sort(ids.begin(), ids.end(),
                     [&](ast::DeclId a, ast::DeclId b) { return ast_.decl(a).range.begin < ast_.decl(b).range.begin; });
    for (ast::DeclId id : ids) {
      const ast::Decl& d = ast_.decl(id);
      std::string qname = d.kind == ast::DeclKind::Context || !d.name ? "" : qualify(fileNs_[f], ast_.str(d.name));
      decls_.push_back({id, std::move(qname), fileNs_[f], static_cast<uint32_t>(decls_.size())});
    }
  }

  const DeclEntry* firstContext = nullptr;
  for (const DeclEntry& e : decls_) {
    entryOf_[e.id.value] = &e;
    const ast::Decl& d = ast_.decl(e.id);
    if (d.kind == ast::DeclKind::Context) {
      if (!firstContext) {
        firstContext = &e;
        continue;
      }
      report(msg::SecondContext, d.range).related("", ast_.decl(firstContext->id).range, "the first `context` is here");
      continue;
    }
    if (!d.name) continue;
    auto [it, inserted] = byName_.try_emplace(e.qname, e.id);
    if (inserted) continue;
    DiagBuilder b = report(msg::DuplicateDecl, d.range, e.qname);
    b.related("", ast_.decl(it->second).nameRange, bt(e.qname) + " is first declared here");
    if (d.kind == ast::DeclKind::Rule) b.rule(e.qname);
  }
}

void Checker::checkUses() {
  for (uint32_t f : fileOrder_) {
    unit_.file = f;
    for (const ast::UseDecl& u : ast_.files[f].uses) {
      Resolved r = resolveFromRoot(u.target);
      const uint32_t n = ast_.name(u.target).numSegments;
      if (r.kind == Resolved::Kind::Error) continue;
      if (r.consumed < n || (r.kind != Resolved::Kind::Namespace && r.kind != Resolved::Kind::Decl)) {
        report(msg::UseTargetUnknown, ast_.name(u.target).range, ast_.nameText(u.target));
        continue;
      }
      std::string alias = std::string(ast_.str(u.alias ? u.alias : ast_.segment(u.target, n - 1).name));
      auto& list = uses_[f];
      auto dup = std::find_if(list.begin(), list.end(), [&](const auto& x) { return x.first == alias; });
      if (dup != list.end()) {
        report(msg::UseAliasTaken, u.range, alias);
        continue;
      }
      list.emplace_back(alias, r);
    }
  }
}

namespace {
std::string describeDecl(ast::DeclKind k) {
  switch (k) {
    case ast::DeclKind::Enum: return "an enum";
    case ast::DeclKind::Principal: return "a principal type";
    case ast::DeclKind::Request: return "a request type";
    case ast::DeclKind::Context: return "the context";
    case ast::DeclKind::Const: return "a const";
    case ast::DeclKind::Def: return "a def";
    case ast::DeclKind::Rule: return "a rule";
    case ast::DeclKind::Test: return "a test";
    case ast::DeclKind::Record: return "a record type";
    case ast::DeclKind::Table: return "a table";
  }
  return "a declaration";
}

bool sameTarget(const Resolved& a, const Resolved& b) { return a.kind == b.kind && a.path == b.path; }
}  // namespace

Resolved Checker::resolveHead(ast::NameId name, bool allowLocals) {
  const ast::NameSegment& seg = ast_.segment(name, 0);
  std::string_view s = ast_.str(seg.name);
  Resolved r;
  r.consumed = 1;
  if (allowLocals) {
    for (size_t i = unit_.locals.size(); i-- > 0;) {
      const Local& l = unit_.locals[i];
      if (l.name != seg.name) continue;
      r.kind = Resolved::Kind::Local;
      r.index = static_cast<uint32_t>(i);
      addRef(seg.range, l.isParam ? RefKind::Param : RefKind::Variable, l.def, l.index, l.range);
      return r;
    }
  }
  const std::string& ns = fileNs_[unit_.file];
  std::optional<Resolved> inNs, viaUse;
  if (auto it = byName_.find(qualify(ns, s)); it != byName_.end())
    inNs = Resolved{Resolved::Kind::Decl, it->first, it->second, 0, 1};
  for (const auto& [alias, target] : uses_[unit_.file])
    if (alias == s) viaUse = target;
  if (inNs && viaUse && !sameTarget(*inNs, *viaUse)) {
    report(msg::NameAmbiguous, seg.range, s, inNs->path, viaUse->path)
        .note("write the qualified name, or rename the binding with `use " + viaUse->path + " as …;`");
    return Resolved::error();
  }
  if (!inNs && !viaUse && !ns.empty()) {
    if (auto it = byName_.find(std::string(s)); it != byName_.end())
      inNs = Resolved{Resolved::Kind::Decl, it->first, it->second, 0, 1};
  }
  if (inNs || viaUse) {
    r = inNs ? *inNs : *viaUse;
    r.consumed = 1;
  } else if (namespaces_.count(std::string(s))) {
    r.kind = Resolved::Kind::Namespace;
    r.path = std::string(s);
  } else {
    if (std::string q = qualifiedElsewhere(s); !q.empty()) {
      report(msg::UnknownNameDidYouMean, seg.range, s, q)
          .note("a name of another namespace, an enclosing one too, is written qualified or bound with `use`")
          .fix("change to " + bt(q), seg.range, q);
      return Resolved::error();
    }
    DiagBuilder d = report(msg::UnknownNameSimple, seg.range, s);
    suggest(d, s, visibleNames(), seg.range);
    return Resolved::error();
  }
  if (r.kind == Resolved::Kind::Decl)
    addRef(seg.range, RefKind::Decl, r.decl, 0, ast_.decl(r.decl).nameRange);
  else if (r.kind == Resolved::Kind::Namespace)
    addRef(seg.range, RefKind::Namespace, {}, 0, {});
  return r;
}

Resolved Checker::walk(Resolved r, ast::NameId name) {
  const uint32_t n = ast_.name(name).numSegments;
  while (r.consumed < n) {
    const ast::NameSegment& seg = ast_.segment(name, r.consumed);
    std::string_view s = ast_.str(seg.name);
    if (r.kind == Resolved::Kind::Namespace) {
      std::string q = r.path + "." + std::string(s);
      if (auto it = byName_.find(q); it != byName_.end()) {
        r = Resolved{Resolved::Kind::Decl, q, it->second, 0, r.consumed + 1};
        addRef(seg.range, RefKind::Decl, r.decl, 0, ast_.decl(r.decl).nameRange);
      } else if (namespaces_.count(q)) {
        r = Resolved{Resolved::Kind::Namespace, q, {}, 0, r.consumed + 1};
        addRef(seg.range, RefKind::Namespace, {}, 0, {});
      } else {
        DiagBuilder d = report(msg::NamespaceLacksDecl, seg.range, r.path, s);
        std::vector<std::string> names;
        for (const auto& [qn, id] : byName_)
          if (qn.size() > r.path.size() && qn.compare(0, r.path.size() + 1, r.path + ".") == 0 &&
              qn.find('.', r.path.size() + 1) == std::string::npos)
            names.push_back(qn.substr(r.path.size() + 1));
        suggest(d, s, names, seg.range);
        return Resolved::error();
      }
      continue;
    }
    if (r.kind == Resolved::Kind::Decl && ast_.decl(r.decl).kind == ast::DeclKind::Enum) {
      const EnumInfo* info = enumOf_.count(r.decl.value) ? &p_.enums[enumOf_.at(r.decl.value).value] : nullptr;
      std::optional<uint32_t> m = info ? info->member(s) : std::nullopt;
      if (!info) return Resolved::error();  // enums are checked before any expression
      if (!m) {
        DiagBuilder d = report(msg::EnumLacksMember, seg.range, r.path, s);
        suggest(d, s, info->members, seg.range);
        return Resolved::error();
      }
      addRef(seg.range, RefKind::EnumMember, r.decl, *m, info->memberRanges[*m]);
      r = Resolved{Resolved::Kind::EnumMember, r.path + "." + std::string(s), r.decl, *m, r.consumed + 1};
      continue;
    }
    break;  // a value: the remaining segments are member accesses / a method
  }
  return r;
}

Resolved Checker::resolve(ast::NameId name, bool allowLocals) {
  Resolved head = resolveHead(name, allowLocals);
  if (head.kind == Resolved::Kind::Error) return head;
  return walk(head, name);
}

Resolved Checker::resolveFromRoot(ast::NameId name) {
  const ast::NameSegment& seg = ast_.segment(name, 0);
  std::string s(ast_.str(seg.name));
  Resolved r;
  r.consumed = 1;
  if (auto it = byName_.find(s); it != byName_.end()) {
    r = Resolved{Resolved::Kind::Decl, s, it->second, 0, 1};
    addRef(seg.range, RefKind::Decl, r.decl, 0, ast_.decl(r.decl).nameRange);
  } else if (namespaces_.count(s)) {
    r = Resolved{Resolved::Kind::Namespace, s, {}, 0, 1};
    addRef(seg.range, RefKind::Namespace, {}, 0, {});
  } else {
    std::vector<std::string> roots(namespaces_.begin(), namespaces_.end());
    DiagBuilder d = report(msg::UnknownNamespaceOrDecl, seg.range, s);
    suggest(d, s, roots, seg.range);
    return Resolved::error();
  }
  return walk(r, name);
}

std::optional<ast::DeclId> Checker::resolveDeclName(ast::NameId name, std::initializer_list<ast::DeclKind> kinds,
                                                    std::string_view what) {
  Resolved r = resolve(name, false);
  if (r.kind == Resolved::Kind::Error) return std::nullopt;
  const uint32_t n = ast_.name(name).numSegments;
  if (r.kind == Resolved::Kind::Decl && r.consumed == n &&
      std::find(kinds.begin(), kinds.end(), ast_.decl(r.decl).kind) != kinds.end())
    return r.decl;
  if (r.consumed < n) {
    report(msg::UnknownOfKind, ast_.name(name).range, what, ast_.nameText(name));
    return std::nullopt;
  }
  std::string kind = r.kind == Resolved::Kind::Namespace    ? "a namespace"
                     : r.kind == Resolved::Kind::EnumMember ? "an enum member"
                                                            : describeDecl(ast_.decl(r.decl).kind);
  report(msg::WrongKindOfName, ast_.name(name).range, r.path, kind, what);
  return std::nullopt;
}

std::string Checker::qualifiedElsewhere(std::string_view s) const {
  // The nearest enclosing namespace first (`corp.X` from `corp.cloud`)...
  std::string ns = fileNs_[unit_.file];
  while (!ns.empty()) {
    size_t dot = ns.rfind('.');
    ns = dot == std::string::npos ? std::string() : ns.substr(0, dot);
    if (ns.empty()) break;
    if (std::string q = ns + "." + std::string(s); byName_.count(q)) return q;
  }
  // ...else the first, by name, of the declarations so called in any namespace.
  std::string best;
  std::string suffix = "." + std::string(s);
  for (const auto& [qn, id] : byName_)
    if (qn.size() > suffix.size() && qn.compare(qn.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        (best.empty() || qn < best))
      best = qn;
  return best;
}

std::vector<std::string> Checker::visibleNames() const {
  std::vector<std::string> out;
  for (const Local& l : unit_.locals) out.emplace_back(ast_.str(l.name));
  const std::string& ns = fileNs_[unit_.file];
  for (const auto& [qn, id] : byName_) {
    if (ns.empty() ? qn.find('.') == std::string::npos
                   : (qn.size() > ns.size() && qn.compare(0, ns.size() + 1, ns + ".") == 0 &&
                      qn.find('.', ns.size() + 1) == std::string::npos))
      out.push_back(ns.empty() ? qn : qn.substr(ns.size() + 1));
  }
  for (const auto& [alias, target] : uses_[unit_.file]) out.push_back(alias);
  for (const std::string& n : namespaces_)
    if (n.find('.') == std::string::npos) out.push_back(n);
  return out;
}

}  // namespace pave::sema::internal
