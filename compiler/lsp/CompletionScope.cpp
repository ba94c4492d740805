// Names in scope for completion: the file's namespace and `use`s, and the enclosing rule's
// targets and principal narrowing.
#include <algorithm>

#include "lsp/CompletionContext.h"

namespace pave::lsp {

using syntax::TokenKind;

namespace {

bool isEffect(TokenKind k) {
  return k == TokenKind::Allow || k == TokenKind::Approve || k == TokenKind::Deny || k == TokenKind::Exception;
}

}  // namespace

std::vector<std::string> CompletionContext::candidates(const std::string& written) const {
  std::vector<std::string> out;
  if (!ns_.empty()) out.push_back(ns_ + "." + written);
  std::string head = written.substr(0, written.find('.'));
  auto use = uses_.find(head);
  if (use != uses_.end()) out.push_back(use->second + written.substr(head.size()));
  out.push_back(written);
  return out;
}

const sema::EnumInfo* CompletionContext::findEnum(const std::string& written) const {
  for (const std::string& q : candidates(written))
    for (const sema::EnumInfo& e : p_.enums)
      if (e.name == q) return &e;
  return nullptr;
}

const sema::TableInfo* CompletionContext::findTable(const std::string& written) const {
  if (written.empty()) return nullptr;
  for (const std::string& q : candidates(written))
    for (const sema::TableInfo& t : p_.tables)
      if (t.name == q) return &t;
  return nullptr;
}

std::string CompletionContext::shortest(const std::string& qualified) const {
  if (!ns_.empty() && qualified.compare(0, ns_.size() + 1, ns_ + ".") == 0 &&
      qualified.find('.', ns_.size() + 1) == std::string::npos)
    return qualified.substr(ns_.size() + 1);
  for (const auto& [alias, target] : uses_) {
    if (qualified == target) return alias;
    if (qualified.compare(0, target.size() + 1, target + ".") == 0) return alias + qualified.substr(target.size());
  }
  return qualified;
}

std::optional<size_t> CompletionContext::ruleStart() const {
  for (size_t k = code_.size(); k-- > 0;) {
    TokenKind t = kind(k);
    if (t == TokenKind::Semi || t == TokenKind::LBrace || t == TokenKind::RBrace) return std::nullopt;
    if (isEffect(t) && !(k > 0 && kind(k - 1) == TokenKind::Expect)) return k;
  }
  return std::nullopt;
}

std::vector<sema::RequestId> CompletionContext::ruleTargets() const {
  std::vector<sema::RequestId> out;
  std::optional<size_t> start = ruleStart();
  if (!start || *start + 2 >= code_.size()) return out;
  size_t k = *start + 2;
  if (kind(k) == TokenKind::Lifts && k + 1 < code_.size()) {  // an exception: the lifted deny's targets
    size_t first = 0, last = k + 1;
    while (last + 2 < code_.size() && kind(last + 1) == TokenKind::Dot && isName(last + 2)) last += 2;
    std::string name = dottedBefore(last, first);
    for (const std::string& q : candidates(name))
      if (auto rule = p_.findRule(q)) return p_.rule(*rule).targets;
    return out;
  }
  if (kind(k) != TokenKind::On) return out;
  if (k + 1 < code_.size() && kind(k + 1) == TokenKind::Star) {
    for (uint32_t i = 0; i < p_.requests.size(); ++i) out.push_back(sema::RequestId{i});
    return out;
  }
  for (++k; k < code_.size() && isName(k); k += 2) {
    size_t first = 0, last = k;
    while (last + 2 < code_.size() && kind(last + 1) == TokenKind::Dot && isName(last + 2)) last += 2;
    std::string name = dottedBefore(last, first);
    for (const std::string& q : candidates(name))
      if (auto r = p_.findRequest(q)) {
        out.push_back(*r);
        break;
      }
    k = last;
    if (k + 1 >= code_.size() || kind(k + 1) != TokenKind::Comma) break;
  }
  return out;
}

std::vector<AttrGroup> CompletionContext::principalAttrs() const {
  std::vector<AttrGroup> out;
  std::optional<size_t> start = ruleStart();
  if (start) {
    // The last `principal is P` before the cursor narrows `principal` (where it holds is
    // the checker's business; for completion the last test is the best guess).
    for (size_t k = code_.size(); k-- > *start + 2;) {
      if (kind(k) != TokenKind::Is || kind(k - 1) != TokenKind::Principal || !(k + 1 < code_.size() && isName(k + 1)))
        continue;
      size_t last = k + 1, first = 0;
      while (last + 2 < code_.size() && kind(last + 1) == TokenKind::Dot && isName(last + 2)) last += 2;
      std::string name = dottedBefore(last, first);
      for (const std::string& q : candidates(name))
        if (auto p = p_.findPrincipal(q)) return {{&p_.principals[p->value].attrs, p_.principals[p->value].name}};
    }
  }
  std::vector<sema::PrincipalId> allowed;
  for (sema::RequestId r : ruleTargets())
    for (sema::PrincipalId p : p_.requests[r.value].principals)
      if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) allowed.push_back(p);
  if (allowed.empty())
    for (uint32_t i = 0; i < p_.principals.size(); ++i) allowed.push_back(sema::PrincipalId{i});
  for (sema::PrincipalId p : allowed) out.push_back({&p_.principals[p.value].attrs, p_.principals[p.value].name});
  return out;
}

std::vector<AttrGroup> CompletionContext::requestAttrs() const {
  std::vector<AttrGroup> out;
  std::vector<sema::RequestId> targets = ruleTargets();
  if (targets.empty())
    for (uint32_t i = 0; i < p_.requests.size(); ++i) targets.push_back(sema::RequestId{i});
  for (sema::RequestId r : targets) out.push_back({&p_.requests[r.value].attrs, p_.requests[r.value].name});
  return out;
}

std::vector<AttrGroup> CompletionContext::testFieldAttrs() const {
  if (code_.empty()) return {};
  std::optional<size_t> open = openerBefore(code_.size() - 1);
  if (!open || kind(*open) != TokenKind::LBrace || *open == 0 || !openerBefore(*open - 1)) return {};
  if (kind(*open - 1) == TokenKind::Context) return {{&p_.context.attrs, "context"}};
  if (!isName(*open - 1)) return {};
  size_t first = 0;
  std::string name = dottedBefore(*open - 1, first);
  if (first == 0) return {};
  TokenKind keyword = kind(first - 1);
  for (const std::string& q : candidates(name)) {
    if (keyword == TokenKind::Request)
      if (auto r = p_.findRequest(q)) return {{&p_.requests[r->value].attrs, p_.requests[r->value].name}};
    if (keyword == TokenKind::Principal)
      if (auto p = p_.findPrincipal(q)) return {{&p_.principals[p->value].attrs, p_.principals[p->value].name}};
  }
  return {};
}

}  // namespace pave::lsp
