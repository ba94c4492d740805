#include "diag/Messages.h"

namespace pave::msg {

namespace {
template <typename... Args>
constexpr MessageInfo info(std::string_view name, const Message<Args...>& m) {
  return {
      name, m.kind,
      std::string_view(static_cast<fmt::string_view>(m.format).data(), static_cast<fmt::string_view>(m.format).size()),
      sizeof...(Args)};
}
}  // namespace

const std::vector<MessageInfo>& allMessages() {
  static const std::vector<MessageInfo> messages = {
#define PAVE_MSG(Id, Kind, Format, ...) info(#Id, Id),
#include "diag/messages.def"
  };
  return messages;
}

}  // namespace pave::msg
