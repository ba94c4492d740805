// JSON-RPC 2.0 over a byte stream with LSP's `Content-Length` framing.
#pragma once

#include <istream>
#include <mutex>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace pave::lsp {

/// JSON-RPC error codes used by the server.
namespace rpc {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerNotInitialized = -32002;
inline constexpr int kRequestCancelled = -32800;
}  // namespace rpc

class Transport {
 public:
  /// Unties `in` from `out`: reading happens on its own thread, and a tied stream would
  /// flush `out` from there while another thread writes to it.
  Transport(std::istream& in, std::ostream& out) : in_(in), out_(out) { in_.tie(nullptr); }

  enum class Read { Message, End, BadFrame };
  /// Reads the next message body. `BadFrame`: a header block without a usable
  /// Content-Length (the block is skipped, so reading can go on).
  Read read(std::string& body);

  /// Writes one message; safe to call from several threads.
  void write(const nlohmann::json& message);
  /// Writes a message already serialized (one JSON object).
  void writeText(const std::string& text);

 private:
  std::istream& in_;
  std::ostream& out_;
  std::mutex writeMutex_;
};

nlohmann::json makeResponse(const nlohmann::json& id, nlohmann::json result);
nlohmann::json makeError(const nlohmann::json& id, int code, const std::string& message);
nlohmann::json makeNotification(const std::string& method, nlohmann::json params);

}  // namespace pave::lsp
