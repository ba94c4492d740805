#include "analysis/Witness.h"

#include <pave/bundle.h>
#include <pave/runtime.h>

#include "codegen/Codegen.h"
#include <pave/literals.h>

namespace pave::analysis {

using nlohmann::json;
using sema::TypeId;
using sema::TypeKind;

namespace {

class Decoder {
 public:
  Decoder(Encoder& enc, const z3::model& m, std::vector<z3::expr>* bad) : enc_(enc), m_(m), bad_(bad) {}
  bool ok = true;

  json value(const SymVal& v, TypeId type) {
    const sema::CheckedProgram& p = enc_.program();
    const sema::Type& t = p.types.get(type);
    switch (t.kind) {
      case TypeKind::Bool: return m_.eval(v.x, true).is_true();
      case TypeKind::Int: return integer(v.x);
      case TypeKind::Duration: {
        int64_t d = integer(v.x);
        if (d == INT64_MIN) return d;  // no duration text spells it; integer seconds do
        return rt::formatDuration(d);
      }
      case TypeKind::Timestamp: return rt::formatTimestamp(integer(v.x));
      case TypeKind::Enum: {
        int64_t i = integer(v.x);
        const auto& members = p.enums[t.index].members;
        return members[size_t(std::clamp<int64_t>(i, 0, int64_t(members.size()) - 1))];
      }
      case TypeKind::String: {
        z3::expr s = m_.eval(v.x, true);
        std::string text = s.is_string_value() ? s.get_string() : std::string();
        if (!rt::validUtf8(text)) {
          ok = false;
          if (bad_) bad_->push_back(v.x);
        }
        return text;
      }
      case TypeKind::Ip:
      case TypeKind::Cidr: {
        sema::IpValue ip;
        ip.v6 = m_.eval(*v.v6, true).is_true();
        unsigned __int128 bits = 0;
        for (char c : m_.eval(v.x, true).get_decimal_string(0)) bits = bits * 10 + unsigned(c - '0');
        int n = ip.v6 ? 16 : 4;
        for (int i = n - 1; i >= 0; --i, bits >>= 8) ip.bytes[size_t(i)] = uint8_t(bits & 0xff);
        if (t.kind == TypeKind::Cidr) ip.prefix = uint8_t(integer(*v.prefix));
        return sema::formatIp(ip, t.kind == TypeKind::Cidr);
      }
      case TypeKind::Set: {
        json a = json::array();
        for (const SymElem& e : v.elems)
          if (m_.eval(e.present, true).is_true()) a.push_back(value(e.value, t.elem));
        return a;
      }
      case TypeKind::Map: {
        json o = json::object();
        for (const SymElem& e : v.elems) {
          if (!m_.eval(e.present, true).is_true()) continue;
          SymVal key(*e.key);
          json k = value(key, p.types.string());
          // With duplicate keys the first entry is the one lookups see.
          if (!o.contains(k.get<std::string>())) o[k.get<std::string>()] = value(e.value, t.elem);
        }
        return o;
      }
      default: return nullptr;
    }
  }

  json attrs(const std::vector<sema::AttrInfo>& attrs, const std::function<std::string(const std::string&)>& base) {
    json o = json::object();
    for (const sema::AttrInfo& a : attrs) {
      std::string name = base(a.name);
      if (a.optional && !m_.eval(enc_.present(name, true), true).is_true()) continue;
      o[a.name] = value(enc_.input(name, a.type), a.type);
    }
    return o;
  }

 private:
  int64_t integer(const z3::expr& e) {
    z3::expr v = m_.eval(e, true);
    int64_t out = 0;
    if (!v.is_numeral_i64(out)) ok = false;
    return out;
  }

  Encoder& enc_;
  const z3::model& m_;
  std::vector<z3::expr>* bad_;
};

}  // namespace

std::optional<json> decodeWitness(Encoder& enc, const z3::model& model, std::vector<z3::expr>* badStrings) {
  const sema::CheckedProgram& p = enc.program();
  const sema::RequestInfo& req = p.requests[enc.requestType().value];
  Decoder d(enc, model, badStrings);
  int64_t ptype = 0;
  if (!model.eval(enc.principalType(), true).is_numeral_i64(ptype) || ptype < 0 ||
      size_t(ptype) >= p.principals.size())
    return std::nullopt;
  const sema::PrincipalInfo& principal = p.principals[size_t(ptype)];
  json in = json::object();
  in["type"] = req.name;
  json pr = d.attrs(principal.attrs, [&](const std::string& a) { return principalVarName(p, uint32_t(ptype), a); });
  pr["type"] = principal.name;
  in["principal"] = pr;
  in["request"] = d.attrs(req.attrs, [](const std::string& a) { return requestVarName(a); });
  in["context"] = d.attrs(p.context.attrs, [](const std::string& a) { return contextVarName(a); });
  if (!d.ok) return std::nullopt;
  return in;
}

std::shared_ptr<const Bundle> Bundle::build(const sema::CheckedProgram& p, const SourceManager& sources,
                                            std::string& error) {
  codegen::CodegenOptions cg;
  cg.name = "analysis";
  cg.sourceMap = false;
  rt::Bundle model;
  auto out = std::make_shared<Bundle>();
  // Tables whose data was not read (the language server): the bundle gets empty ones, and
  // no decision on a request type with a rule that reads a table is taken as a witness's
  // confirmation (it would be the decision on other data).
  bool unread = std::any_of(p.tables.begin(), p.tables.end(), [](const sema::TableInfo& t) { return !t.data; });
  if (unread) {
    sema::CheckedProgram copy = p;
    for (sema::TableInfo& t : copy.tables)
      if (!t.data) t.data = std::make_shared<sema::TableData>();
    if (!codegen::generate(copy, sources, cg, model, error)) return nullptr;
    for (const sema::RuleInfo& r : p.rules) {
      if (!usesTables(p, r)) continue;
      const std::vector<sema::RequestId>& ts = r.exception ? p.rule(r.exception->lifts).targets : r.targets;
      for (sema::RequestId t : ts) out->unconfirmable.insert(p.requests[t.value].name);
    }
  } else if (!codegen::generate(p, sources, cg, model, error)) {
    return nullptr;
  }
  std::vector<uint8_t> bytes;
  rt::WriteOptions write;
  write.strip = true;
  if (!rt::writeBundle(model, write, bytes, &error)) return nullptr;
  out->loaded = rt::LoadedBundle::load(bytes, {}, &error);
  if (!out->loaded) return nullptr;
  return out;
}

Confirmer::Confirmer(std::shared_ptr<const Bundle> bundle)
    : bundle_(std::move(bundle)), decider_(std::make_unique<rt::Decider>(bundle_->loaded)) {}

Confirmer::~Confirmer() = default;

json Confirmer::decide(const json& input) {
  // The trace keeps only the rules that matched (true or on an error): the analysis asks
  // about nothing else, and a trace of every rule of the type made each decision cost time
  // in proportion to the repository (and the analysis quadratic in it).
  if (!bundle_->unconfirmable.empty() && input.is_object() && input.contains("type") && input["type"].is_string() &&
      bundle_->unconfirmable.count(input["type"].get<std::string>()))
    return json();  // no decision: nothing is confirmed
  rt::Decision d = decider_->decide(input.dump(), true);
  std::vector<rt::TraceEntry> matched;
  for (const rt::TraceEntry& e : d.trace)
    if (e.matched != rt::Matched::False) matched.push_back(e);
  d.trace = matched;
  std::string out;
  rt::toJson(*bundle_->loaded, d, out);
  return json::parse(out, nullptr, false);
}

bool matchedTrue(const json& decision, const std::string& rule) {
  if (!decision.is_object() || !decision.contains("trace")) return false;
  for (const json& t : decision["trace"])
    if (t.value("rule", "") == rule) return t["matched"] == true;
  return false;
}

bool matchedAtAll(const json& decision, const std::string& rule) {
  if (!decision.is_object() || !decision.contains("trace")) return false;
  for (const json& t : decision["trace"])
    if (t.value("rule", "") == rule) return t["matched"] == true || t["matched"] == "error";
  return false;
}

bool validInput(const json& decision) {
  if (!decision.is_object()) return false;
  for (const json& e : decision.value("errors", json::array())) {
    auto code = rt::findDecisionError(e.value("code", ""));
    if (!code || rt::decisionErrorInfo(*code).origin != rt::DecisionErrorOrigin::Evaluation) return false;
  }
  return true;
}

bool listed(const json& decision, const char* list, const std::string& rule) {
  if (!decision.is_object() || !decision.contains(list)) return false;
  for (const json& e : decision[list])
    if ((e.is_string() && e == rule) || (e.is_object() && (e.value("id", "") == rule || e.value("rule", "") == rule)))
      return true;
  return false;
}

}  // namespace pave::analysis
