#include "sema/InputJson.h"

#include <pave/literals.h>

namespace pave::sema {

using nlohmann::json;

json valueToJson(const CheckedProgram& p, const ConstValue& v) {
  switch (v.kind) {
    case ConstValue::Kind::Bool: return v.i != 0;
    case ConstValue::Kind::Int: return v.i;
    case ConstValue::Kind::String: return v.s;
    case ConstValue::Kind::Duration: return rt::formatDuration(v.i);
    case ConstValue::Kind::Timestamp: return rt::formatTimestamp(v.i);
    case ConstValue::Kind::Ip: return formatIp(v.ip, false);
    case ConstValue::Kind::Cidr: return formatIp(v.ip, true);
    case ConstValue::Kind::Enum: return p.enums[p.types.get(v.type).index].members[static_cast<size_t>(v.i)];
    case ConstValue::Kind::Set: {
      json a = json::array();
      for (const auto& e : v.elems) a.push_back(valueToJson(p, e));
      return a;
    }
    case ConstValue::Kind::Map: {
      json o = json::object();
      for (const auto& [k, e] : v.entries) o[k] = valueToJson(p, e);
      return o;
    }
  }
  return nullptr;
}

json fieldsToJson(const CheckedProgram& p, const std::vector<TestFieldValue>& fields) {
  json o = json::object();
  for (const auto& f : fields) o[f.name] = valueToJson(p, f.value);
  return o;
}

}  // namespace pave::sema
