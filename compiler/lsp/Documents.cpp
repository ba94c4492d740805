#include "lsp/Documents.h"

#include "lsp/Positions.h"

namespace pave::lsp {

void DocumentStore::open(const std::string& uri, std::string text, int64_t version) {
  docs_[uri] = Document{uri, uriToPath(uri), std::move(text), version};
}

bool DocumentStore::change(const std::string& uri, const nlohmann::json& contentChanges, int64_t version) {
  auto it = docs_.find(uri);
  if (it == docs_.end()) return false;
  Document& doc = it->second;
  for (const nlohmann::json& change : contentChanges) {
    std::string replacement = change.at("text").get<std::string>();
    if (!change.contains("range")) {
      doc.text = std::move(replacement);
      continue;
    }
    LineIndex lines(doc.text);
    uint32_t begin = lines.offset(positionFrom(change.at("range").at("start")));
    uint32_t end = lines.offset(positionFrom(change.at("range").at("end")));
    if (end < begin) std::swap(begin, end);
    doc.text.replace(begin, end - begin, replacement);
  }
  doc.version = version;
  return true;
}

void DocumentStore::close(const std::string& uri) { docs_.erase(uri); }

const Document* DocumentStore::find(const std::string& uri) const {
  auto it = docs_.find(uri);
  return it == docs_.end() ? nullptr : &it->second;
}

const Document* DocumentStore::findByPath(const std::string& path) const {
  for (const auto& [uri, doc] : docs_)
    if (doc.path == path) return &doc;
  return nullptr;
}

}  // namespace pave::lsp
