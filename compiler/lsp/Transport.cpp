#include "lsp/Transport.h"

#include <cctype>

namespace pave::lsp {

namespace {

constexpr size_t kMaxMessageBytes = 256u << 20;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Transport::Read Transport::read(std::string& body) {
  long long length = -1;
  bool sawHeader = false;
  std::string line;
  while (std::getline(in_, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!sawHeader) continue;  // stray blank lines between messages
      break;
    }
    sawHeader = true;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (lower(line.substr(0, colon)) != "content-length") continue;
    try {
      length = std::stoll(line.substr(colon + 1));
    } catch (...) {
      length = -1;
    }
  }
  if (!in_) return Read::End;
  if (length < 0 || static_cast<size_t>(length) > kMaxMessageBytes) return Read::BadFrame;
  body.assign(static_cast<size_t>(length), '\0');
  in_.read(body.data(), length);
  if (in_.gcount() != length) return Read::End;
  return Read::Message;
}

void Transport::write(const nlohmann::json& message) {
  writeText(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Transport::writeText(const std::string& text) {
  std::lock_guard<std::mutex> lock(writeMutex_);
  out_ << "Content-Length: " << text.size() << "\r\n\r\n" << text;
  out_.flush();
}

nlohmann::json makeResponse(const nlohmann::json& id, nlohmann::json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

nlohmann::json makeError(const nlohmann::json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

nlohmann::json makeNotification(const std::string& method, nlohmann::json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

}  // namespace pave::lsp
