#include "audit/Record.h"

#include "audit/Json.h"

namespace pave::audit {

const char* className(Class c) {
  switch (c) {
    case Class::Allow: return "allow";
    case Class::Approval: return "approval";
    case Class::Deny: return "deny";
  }
  return "deny";
}

std::string_view Record::text(std::string_view value) {
  auto body = stringBody(value);
  if (!body) return {};
  if (body->find('\\') == std::string_view::npos) return *body;
  storage.push_back(unescape(*body));
  return storage.back();
}

void Record::clear() {
  id = time = source = client = input = decisionJson = requestType = digest = revision = bundleName = {};
  decision = Class::Deny;
  rules.clear();
  denyRules.clear();
  reasons.clear();
  exceptions.clear();
  storage.clear();
  timeSeconds = 0;
}

namespace {

bool isString(std::string_view v) { return !v.empty() && v.front() == '"'; }

bool stringList(Record& r, std::string_view value, std::vector<std::string_view>& out) {
  bool ok = true;
  bool array = forEachElement(value, [&](std::string_view e) {
    if (!isString(e)) return ok = false;
    out.push_back(r.text(e));
    return true;
  });
  return array && ok;
}

/// Reads the decision object at `p` in one pass; returns its end, or nullptr with `why`.
const char* parseDecision(Record& r, const char* p, const char* end, std::string& why) {
  bool haveClass = false, ok = true;
  const char* stop = scanObject(p, end, [&](std::string_view k, const char* at) -> const char* {
    const char* e = skipValue(at, end);
    if (!e) return nullptr;
    std::string_view v(at, size_t(e - at));
    if (k == "decision") {
      std::string_view c = r.text(v);
      haveClass = true;
      if (c == "allow") r.decision = Class::Allow;
      else if (c == "approval") r.decision = Class::Approval;
      else if (c == "deny") r.decision = Class::Deny;
      else haveClass = false;
    } else if (k == "request_type") {
      if (isString(v)) r.requestType = r.text(v);  // null for an unknown request type
    } else if (k == "rules") {
      ok = stringList(r, v, r.rules);
    } else if (k == "deny_rules") {
      ok = stringList(r, v, r.denyRules);
    } else if (k == "reasons") {
      ok = stringList(r, v, r.reasons);
    } else if (k == "exceptions") {
      ok = forEachElement(v, [&](std::string_view e) {
        LiftedException x;
        bool fields = forEachMember(e, [&](std::string_view ek, std::string_view ev) {
          if (ek == "id") x.id = r.text(ev);
          else if (ek == "lifts") x.lifts = r.text(ev);
          else if (ek == "until") x.until = r.text(ev);
          else if (ek == "owner") x.owner = r.text(ev);
          else if (ek == "ticket") x.ticket = r.text(ev);
          return true;
        });
        if (!fields || x.id.empty()) return ok = false;
        r.exceptions.push_back(x);
        return true;
      }) && ok;
    } else if (k == "bundle") {
      forEachMember(v, [&](std::string_view bk, std::string_view bv) {
        if (bk == "digest") r.digest = r.text(bv);
        else if (bk == "revision") r.revision = r.text(bv);
        else if (bk == "name") r.bundleName = r.text(bv);
        return true;
      });
    }
    if (!ok) why = "malformed `decision." + std::string(k) + "`";
    return ok ? e : nullptr;
  });
  if (!ok) return nullptr;
  if (!stop) why = "`decision` is not an object";
  else if (!haveClass) why = "`decision.decision` is not allow, approval or deny";
  else if (r.digest.empty()) why = "`decision.bundle.digest` is missing";
  else return stop;
  return nullptr;
}

}  // namespace

bool parseRecord(std::string_view line, Record& r, std::string& why) {
  r.clear();
  why.clear();
  const char* end = line.data() + line.size();
  const char* start = skipSpace(line.data(), end);
  bool version = false, haveInput = false, haveDecision = false;
  // One pass: each member's value is skipped (checked) once, the decision read as it is.
  const char* stop = scanObject(start, end, [&](std::string_view k, const char* p) -> const char* {
    if (k == "decision") {
      const char* e = parseDecision(r, p, end, why);
      if (e) r.decisionJson = std::string_view(p, size_t(e - p)), haveDecision = true;
      return e;
    }
    const char* e = skipValue(p, end);
    if (!e) return nullptr;
    std::string_view v(p, size_t(e - p));
    if (k == "log_version") version = v == "1";
    else if (k == "id") r.id = r.text(v);
    else if (k == "time") r.time = r.text(v);
    else if (k == "source") r.source = r.text(v);
    else if (k == "client") r.client = r.text(v);
    else if (k == "input") r.input = v, haveInput = true;  // any JSON value: the input as received (SPEC §10.1)
    return e;
  });
  if (!stop || skipSpace(stop, end) != end) {
    if (why.empty()) why = stop ? "text after the record" : start < end && *start == '{' ? "not JSON (cut short or corrupted)" : "not a JSON object";
    return false;
  }
  if (!version) {
    why = "`log_version` is not 1";
    return false;
  }
  if (r.id.empty()) {
    why = "`id` is missing";
    return false;
  }
  auto t = parseLogTime(r.time);
  if (!t) {
    why = "`time` is not a UTC timestamp";
    return false;
  }
  r.timeSeconds = *t;
  if (!haveInput) {
    why = "`input` is missing";
    return false;
  }
  if (!haveDecision) {
    why = "`decision` is missing";
    return false;
  }
  return true;
}

}  // namespace pave::audit
