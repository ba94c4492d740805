// The documents the client has open: their text as the user sees it, kept in step with
// incremental changes.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace pave::lsp {

struct Document {
  std::string uri;
  std::string path;  // empty for URIs that are not files
  std::string text;
  int64_t version = 0;
};

class DocumentStore {
 public:
  void open(const std::string& uri, std::string text, int64_t version);
  /// Applies `contentChanges` of a didChange notification in order (ranged edits in UTF-16
  /// positions, or whole-text replacements). Returns false for an unknown document.
  bool change(const std::string& uri, const nlohmann::json& contentChanges, int64_t version);
  void close(const std::string& uri);

  const Document* find(const std::string& uri) const;
  const Document* findByPath(const std::string& path) const;
  const std::map<std::string, Document>& all() const { return docs_; }

 private:
  std::map<std::string, Document> docs_;  // by URI
};

}  // namespace pave::lsp
