#include "analysis/Diff.h"

#include <algorithm>

#include <pave/decision_errors.h>

#include "analysis/Decision.h"
#include "analysis/Query.h"
#include "analysis/Witness.h"

namespace pave::analysis {

using nlohmann::json;
using sema::CheckedProgram;
using sema::RequestId;
using sema::RuleId;

namespace {

constexpr const char* kOutcomes[] = {"allow", "approval", "deny"};

// What an input of a request type looks like: attributes, principals, context, enums.
std::string inputSchema(const CheckedProgram& p, RequestId t) {
  auto attrs = [&](const std::vector<sema::AttrInfo>& list) {
    std::string s;
    for (const sema::AttrInfo& a : list) s += " " + a.name + ":" + p.typeName(a.type) + (a.optional ? "?" : "");
    return s;
  };
  std::string s;
  for (const sema::EnumInfo& e : p.enums) {
    s += "enum " + e.name;
    for (const std::string& m : e.members) s += " " + m;
    s += ";";
  }
  for (const sema::PrincipalInfo& pr : p.principals) s += "principal " + pr.name + attrs(pr.attrs) + ";";
  s += "context" + attrs(p.context.attrs) + ";";
  const sema::RequestInfo& r = p.requests[t.value];
  s += "request" + attrs(r.attrs) + " for";
  for (sema::PrincipalId pid : r.principals) s += " " + p.principals[pid.value].name;
  return s;
}

std::vector<RuleId> rulesOf(const CheckedProgram& p, RequestId t) {
  std::vector<RuleId> out;
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const sema::RuleInfo& r = p.rules[i];
    const std::vector<RequestId>& ts = r.exception ? p.rule(r.exception->lifts).targets : r.targets;
    if (std::find(ts.begin(), ts.end(), t) != ts.end()) out.push_back(RuleId{i});
  }
  return out;
}

// The record type of a table, spelled so that two versions can be compared.
std::string recordShape(const CheckedProgram& p, const sema::TableInfo& t) {
  std::string s = p.typeName(t.type);
  for (const sema::AttrInfo& a : p.records[t.record.value].attrs)
    s += " " + a.name + ":" + p.typeName(a.type) + (a.optional ? "?" : "");
  return s;
}

std::string rowText(const CheckedProgram& p, const sema::TableRow& row) {
  std::string s;
  for (const auto& f : row.fields) s += (f ? p.formatValue(*f) : std::string("\x01")) + '\x1f';
  return s;
}

}  // namespace

void diffTableModels(const CheckedProgram& a, const CheckedProgram& b, TableModels& ma, TableModels& mb,
                     std::vector<TableChange>* changes) {
  ma = defaultTableModels(a);
  mb = defaultTableModels(b);
  // By default each version's tables are its own: exact, or any content of their own.
  for (TableModel& m : ma) m.name += "@old";
  for (TableModel& m : mb) m.name += "@new";
  for (size_t j = 0; j < b.tables.size(); ++j) {
    const sema::TableInfo& tb = b.tables[j];
    size_t i = 0;
    while (i < a.tables.size() && a.tables[i].name != tb.name) ++i;
    if (i == a.tables.size()) continue;
    const sema::TableInfo& ta = a.tables[i];
    if (!ta.data || !tb.data) continue;
    if (recordShape(a, ta) != recordShape(b, tb)) {
      if (changes) changes->push_back({tb.name, 0, true});
      continue;
    }
    bool bothExact = ma[i].closed && mb[j].closed;  // both small: each exact
    // Rows equal in both versions share one abstract content; the keys whose rows differ
    // (changed, added, removed) are encoded exactly in each, so the cost follows the change.
    std::vector<std::pair<std::string, const sema::TableRow*>> ka, kb;
    const auto& ra = ta.data->rows;
    const auto& rb = tb.data->rows;
    size_t x = 0, y = 0, bytes = 0, changed = 0;
    bool small = true;
    auto add = [&](const sema::TableRow* r1, const sema::TableRow* r2) {
      ++changed;
      if (!small || bothExact) return;
      const std::string& key = r1 ? r1->key : r2->key;
      ka.emplace_back(key, r1);
      kb.emplace_back(key, r2);
      bytes += (r1 ? rowStringBytes(*r1) : 0) + (r2 ? rowStringBytes(*r2) : 0);
      small = ka.size() <= kExactTableRows && bytes <= 2 * kExactTableBytes;
    };
    while (x < ra.size() || y < rb.size()) {
      if (y == rb.size() || (x < ra.size() && ra[x].key < rb[y].key)) {
        add(&ra[x++], nullptr);
      } else if (x == ra.size() || rb[y].key < ra[x].key) {
        add(nullptr, &rb[y++]);
      } else {
        if (rowText(a, ra[x]) != rowText(b, rb[y])) add(&ra[x], &rb[y]);
        ++x, ++y;
      }
    }
    if (changes && changed) changes->push_back({tb.name, changed, false});
    if (!small || bothExact) continue;  // too large a change: each version's content is any content
    ma[i].known = std::move(ka);
    mb[j].known = std::move(kb);
    ma[i].closed = mb[j].closed = false;
    ma[i].name = mb[j].name = "tbl." + tb.name;
  }
}

namespace {

SetBounds jointBounds(const CheckedProgram& a, RequestId ta, const CheckedProgram& b, RequestId tb,
                      const TableModels& ma, const TableModels& mb) {
  auto roots = [](const CheckedProgram& p, RequestId t) {
    std::vector<sema::CExprId> out;
    for (RuleId r : rulesOf(p, t)) {
      const sema::RuleInfo& info = p.rule(r);
      for (const sema::Conjunct& c : info.condition) out.push_back(c.expr);
      for (const sema::GrantAssignment& g : info.grants) out.push_back(g.value);
      for (sema::CExprId x : info.approvers) out.push_back(x);
    }
    return out;
  };
  SetBounds x = computeBounds(a, ta, roots(a, ta), &ma), y = computeBounds(b, tb, roots(b, tb), &mb);
  // Entries either formula needs must all be kept, so demands add up.
  for (const auto& [name, n] : y.count) x.count[name] += n;
  x.distinct.insert(y.distinct.begin(), y.distinct.end());
  x.exact = x.exact && y.exact;
  for (auto& [name, n] : x.count) n += 1;  // one entry for a grant element compared across versions
  return x;
}

std::string summary(const json& d) {
  std::string s = d.value("decision", "?");
  std::vector<std::string> rules;
  for (const char* list : {"deny_rules", "rules"})
    for (const json& r : d.value(list, json::array())) rules.push_back(r.get<std::string>());
  if (s == "deny" && d.value("deny_rules", json::array()).empty()) {
    for (const json& e : d.value("errors", json::array()))
      if (e.value("code", "") == rt::errorCode(rt::DecisionErrorCode::GrantConflict)) return s + " (grant conflict)";
    if (d.value("rules", json::array()).empty()) return s + " (no matching rule)";
  }
  if (s == "deny") {
    rules.clear();
    for (const json& r : d.value("deny_rules", json::array())) rules.push_back(r.get<std::string>());
  }
  if (rules.empty()) return s;
  std::string out = s + " by ";
  for (size_t i = 0; i < rules.size(); ++i) out += (i ? ", `" : "`") + rules[i] + "`";
  return out;
}

class TypeDiff {
 public:
  TypeDiff(z3::context& ctx, const CheckedProgram& a, RequestId ta, const CheckedProgram& b, RequestId tb,
           Confirmer& ca, Confirmer& cb, const TableModels& ma, const TableModels& mb, unsigned timeoutMs,
           DiffResult& out)
      : ctx_(ctx), a_(a), b_(b), ta_(ta), tb_(tb), ca_(ca), cb_(cb), timeout_(timeoutMs), out_(out),
        bounds_(jointBounds(a, ta, b, tb, ma, mb)), ea_(ctx, a, ta, bounds_, &ma), eb_(ctx, b, tb, bounds_, &mb),
        da_(ea_), db_(eb_),
        ra_(rulesOf(a, ta)), rb_(rulesOf(b, tb)), oa_(da_.outcome(ra_)), ob_(db_.outcome(rb_)) {}

  // Returns the number of changes found.
  size_t run() {
    size_t found = 0;
    const std::string& name = b_.requests[tb_.value].name;
    z3::expr before[] = {oa_.allow, oa_.approval, oa_.deny};
    z3::expr after[] = {ob_.allow, ob_.approval, ob_.deny};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        if (i == j) continue;
        std::string from = kOutcomes[i], to = kOutcomes[j];
        auto check = [&](const json& x, const json& y) {
          return x.value("decision", "") == from && y.value("decision", "") == to;
        };
        auto w = solve(before[i] && after[j], check, from + " to " + to);
        if (!w) continue;
        out_.changes.push_back({name, "decision", from, to, "", w->input, w->before, w->after});
        ++found;
      }
    for (const sema::GrantInfo& g : b_.requests[tb_.value].grants) {
      const sema::GrantInfo* old = a_.requests[ta_.value].grant(g.name);
      if (!old || a_.typeName(old->type) != b_.typeName(g.type)) continue;
      std::string grant = g.name;
      auto check = [grant](const json& x, const json& y) {
        return x.value("decision", "") != "deny" && y.value("decision", "") != "deny" &&
               x["grants"][grant] != y["grants"][grant];
      };
      auto w = solve(!oa_.deny && !ob_.deny && grantDiffers(*old, g), check, "grant `" + g.name + "`");
      if (!w) continue;
      out_.changes.push_back({name, "grant", w->before["grants"][grant].dump(), w->after["grants"][grant].dump(),
                              grant, w->input, w->before, w->after});
      ++found;
    }
    return found;
  }

 private:
  struct Witness {
    json input, before, after;
  };

  z3::expr grantDiffers(const sema::GrantInfo& old, const sema::GrantInfo& now) {
    auto ma = da_.mergedGrant(ra_, old);
    auto mb = db_.mergedGrant(rb_, now);
    if (ma.contains && mb.contains) {
      sema::TypeId elem = b_.types.get(now.type).elem;
      const SymVal& z = eb_.input("diff." + now.name, elem);
      return ma.contains(z) != mb.contains(z);
    }
    if (ma.value && mb.value) return !eb_.equal(*ma.value, *mb.value, now.type);
    return ctx_.bool_val(false);
  }

  std::optional<Witness> solve(const z3::expr& f, const std::function<bool(const json&, const json&)>& check,
                               const std::string& what) {
    z3::solver s(ctx_, z3::solver::simple());
    z3::params params(ctx_);
    params.set("timeout", timeout_);
    s.set(params);
    s.add(f);
    s.add(ea_.domain());
    s.add(eb_.domain());
    const std::string& name = b_.requests[tb_.value].name;
    for (int attempt = 0; attempt < 3; ++attempt) {
      z3::check_result r = s.check();
      if (r == z3::unsat) {
        if (!bounds_.exact || !ea_.proves() || !eb_.proves())
          out_.inconclusive.push_back(name + ": " + what + " (sets too large to bound)");
        return std::nullopt;
      }
      if (r == z3::unknown) {
        out_.inconclusive.push_back(name + ": " + what + " (solver budget exhausted)");
        return std::nullopt;
      }
      std::vector<z3::expr> bad;
      std::optional<json> in = decodeWitness(eb_, s.get_model(), &bad);
      if (in) {
        json x = ca_.decide(*in), y = cb_.decide(*in);
        if (validInput(x) && validInput(y) && check(x, y)) return Witness{*in, x, y};
      }
      if (bad.empty()) break;
      char lo = 0x20, hi = 0x7e;
      z3::expr printable = z3::star(z3::range(ctx_.string_val(&lo, 1), ctx_.string_val(&hi, 1)));
      for (const z3::expr& v : bad) s.add(z3::in_re(v, printable));
    }
    out_.inconclusive.push_back(name + ": " + what + " (no confirmed witness)");
    return std::nullopt;
  }

  z3::context& ctx_;
  const CheckedProgram &a_, &b_;
  RequestId ta_, tb_;
  Confirmer &ca_, &cb_;
  unsigned timeout_;
  DiffResult& out_;
  SetBounds bounds_;
  Encoder ea_, eb_;
  DecisionEncoder da_, db_;
  std::vector<RuleId> ra_, rb_;
  SymOutcome oa_, ob_;
};

}  // namespace

bool diffPrograms(const CheckedProgram& before, const SourceManager& beforeSources, const CheckedProgram& after,
                  const SourceManager& afterSources, const DiffOptions& options, DiffResult& out, std::string& error) {
  auto ba = Bundle::build(before, beforeSources, error);
  if (!ba) return false;
  auto bb = Bundle::build(after, afterSources, error);
  if (!bb) return false;
  initSolver();
  z3::context ctx;
  Confirmer ca(ba), cb(bb);
  TableModels ma, mb;
  diffTableModels(before, after, ma, mb, &out.tables);
  for (const sema::RequestInfo& r : before.requests)
    if (!after.findRequest(r.name)) out.removed.push_back(r.name);
  for (uint32_t i = 0; i < after.requests.size(); ++i) {
    const std::string& name = after.requests[i].name;
    auto old = before.findRequest(name);
    if (!old) {
      out.added.push_back(name);
      continue;
    }
    RequestId tb{i};
    if (inputSchema(before, *old) != inputSchema(after, tb)) {
      out.schemaChanged.push_back(name);
      continue;
    }
    TypeDiff d(ctx, before, *old, after, tb, ca, cb, ma, mb, options.timeoutMs, out);
    if (d.run() == 0) out.unchanged.push_back(name);
  }
  for (auto* list : {&out.added, &out.removed, &out.schemaChanged, &out.unchanged}) std::sort(list->begin(), list->end());
  std::stable_sort(out.changes.begin(), out.changes.end(),
                   [](const DiffChange& x, const DiffChange& y) { return x.requestType < y.requestType; });
  return true;
}

std::string diffText(const DiffResult& r) {
  std::string s = "## Policy change impact\n\n";
  if (!r.changed() && r.inconclusive.empty()) return s + "No request type changes its decisions or grants.\n";
  auto list = [&](const char* title, const std::vector<std::string>& names) {
    if (names.empty()) return;
    s += std::string(title) + ": ";
    for (size_t i = 0; i < names.size(); ++i) s += (i ? ", `" : "`") + names[i] + "`";
    s += "\n\n";
  };
  list("Added request types", r.added);
  list("Removed request types", r.removed);
  list("Request types whose inputs changed (not compared)", r.schemaChanged);
  for (const TableChange& t : r.tables)
    s += "Data of table `" + t.table + "`: " +
         (t.recordChanged ? std::string("its record type changed") : std::to_string(t.rows) + (t.rows == 1 ? " row" : " rows") + " changed, added or removed") +
         "\n\n";
  std::string current;
  for (const DiffChange& c : r.changes) {
    if (c.requestType != current) {
      current = c.requestType;
      s += "### `" + current + "`\n\n";
    }
    if (c.what == "decision")
      s += "- **" + c.from + " → " + c.to + "**: some requests that were decided `" + c.from + "` are now `" + c.to +
           "`\n";
    else
      s += "- **grant `" + c.grant + "` changes**: " + c.from + " → " + c.to + "\n";
    s += "  - before: " + summary(c.before) + "\n";
    s += "  - after: " + summary(c.after) + "\n";
    s += "  - witness: `" + c.witness.dump() + "`\n";
  }
  if (!r.changes.empty()) s += "\n";
  list("Unchanged request types", r.unchanged);
  if (!r.inconclusive.empty()) {
    s += "Not decided within the solver budget:\n";
    for (const std::string& i : r.inconclusive) s += "- " + i + "\n";
  }
  return s;
}

json diffJson(const DiffResult& r) {
  json changes = json::array();
  for (const DiffChange& c : r.changes) {
    json o = {{"request_type", c.requestType}, {"kind", c.what}, {"witness", c.witness}};
    if (c.what == "decision") {
      o["from"] = c.from;
      o["to"] = c.to;
    } else {
      o["grant"] = c.grant;
      o["from"] = json::parse(c.from, nullptr, false);
      o["to"] = json::parse(c.to, nullptr, false);
    }
    for (auto [key, d] : {std::pair<const char*, const json*>{"before", &c.before}, {"after", &c.after}}) {
      json slim = json::object();
      for (const char* k : {"decision", "rules", "deny_rules", "exceptions", "grants", "reasons"})
        if (d->contains(k)) slim[k] = (*d)[k];
      o[key] = slim;
    }
    changes.push_back(o);
  }
  json tables = json::array();
  for (const TableChange& t : r.tables) {
    json o = {{"table", t.table}};
    if (t.recordChanged) o["record_changed"] = true;
    else o["rows"] = t.rows;
    tables.push_back(o);
  }
  return {{"changed", r.changed()},
          {"data_changed", tables},
          {"added", r.added},
          {"removed", r.removed},
          {"schema_changed", r.schemaChanged},
          {"unchanged", r.unchanged},
          {"changes", changes},
          {"inconclusive", r.inconclusive}};
}

}  // namespace pave::analysis
