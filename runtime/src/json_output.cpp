// JSON output (SPEC §7.4) with the canonical value forms of §7.3. Written by hand so the
// key order and bytes are fixed.
#include <charconv>
#include <cstring>

#include "format.h"
#include "program.h"

namespace pave::rt {
namespace {

// Appends to a string through a fixed buffer: std::string's own appends are out-of-line
// calls, which dominated the cost of writing a decision.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  ~Writer() { flush(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& operator+=(char c) {
    if (n_ == kCap) flush();
    buf_[n_++] = c;
    return *this;
  }
  Writer& operator+=(std::string_view s) {
    if (s.size() > kCap - n_) {
      flush();
      if (s.size() > kCap) {
        out_.append(s);
        return *this;
      }
    }
    std::memcpy(buf_ + n_, s.data(), s.size());
    n_ += s.size();
    return *this;
  }
  Writer& operator+=(const char* s) { return *this += std::string_view(s); }
  void append(const char* p, size_t n) { *this += std::string_view(p, n); }
  char back() const { return n_ ? buf_[n_ - 1] : out_.back(); }
  void flush() {
    out_.append(buf_, n_);
    n_ = 0;
  }

 private:
  static constexpr size_t kCap = 2048;
  std::string& out_;
  size_t n_ = 0;
  char buf_[kCap];
};

void quoted(std::string_view s, Writer& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

struct Out {
  const LoadedBundle::Impl& p;
  Writer& o;
  std::string text = {};  // scratch for formatted values

  void integer(int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    o.append(buf, size_t(r.ptr - buf));
  }

  void str(std::string_view s) { quoted(s, o); }
  void key(const char* k) {
    if (o.back() != '{') o += ',';
    o += '"';
    o += k;
    o += "\":";
  }
  void ruleName(uint32_t r) { str(p.str(p.model.rules[r].name)); }
  void ruleList(const char* k, const std::vector<uint32_t>& rules) {
    key(k);
    o += '[';
    for (size_t i = 0; i < rules.size(); ++i) {
      if (i) o += ',';
      ruleName(rules[i]);
    }
    o += ']';
  }

  void value(const Value& v) {
    switch (v.kind) {
      case Kind::Absent:
      case Kind::Error: o += "null"; break;
      case Kind::Bool: o += v.i ? "true" : "false"; break;
      case Kind::Int: integer(v.i); break;
      case Kind::String: str(v.str()); break;
      case Kind::Duration: {
        text.clear();
        formatDuration(v.i, text);
        str(text);
        break;
      }
      case Kind::Timestamp: {
        text.clear();
        formatTimestamp(v.i, text);
        str(text);
        break;
      }
      case Kind::Ip:
      case Kind::Cidr: {
        IpAddr ip;
        ip.family = v.family;
        ip.prefix = v.prefix;
        std::copy(v.ip, v.ip + 16, ip.bytes.begin());
        text.clear();
        if (v.kind == Kind::Ip) formatIp(ip, text);
        else formatCidr(ip, text);
        str(text);
        break;
      }
      case Kind::Enum: str(p.str(p.model.schema.enums[v.n].members[size_t(v.i)])); break;
      case Kind::Set:
        o += '[';
        for (uint32_t i = 0; i < v.n; ++i) {
          if (i) o += ',';
          value(v.elems[i]);
        }
        o += ']';
        break;
      case Kind::Map:
        o += '{';
        for (uint32_t i = 0; i < v.n; ++i) {
          if (i) o += ',';
          str(v.elems[2 * i].str());
          o += ':';
          value(v.elems[2 * i + 1]);
        }
        o += '}';
        break;
    }
  }

  void optStr(StrId id) {
    if (id == kNone) o += "null";
    else str(p.str(id));
  }

  void decision(const Decision& d) {
    static constexpr const char* kOutcomes[] = {"allow", "approval", "deny"};
    const Bundle& m = p.model;
    o += '{';
    key("decision");
    str(kOutcomes[size_t(d.outcome)]);
    key("request_type");
    if (d.request_type == kNone) o += "null";
    else str(p.str(m.schema.requests[d.request_type].name));
    ruleList("rules", d.rules);
    ruleList("deny_rules", d.deny_rules);
    key("exceptions");
    o += '[';
    for (size_t i = 0; i < d.exceptions.size(); ++i) {
      const Rule& r = m.rules[d.exceptions[i]];
      if (i) o += ',';
      o += '{';
      key("id");
      str(p.str(r.name));
      key("lifts");
      ruleName(r.lifts);
      key("until");
      text.clear();
      formatTimestamp(r.until, text);
      str(text);
      key("owner");
      optStr(r.owner);
      if (r.ticket != kNone) {
        key("ticket");
        str(p.str(r.ticket));
      }
      o += '}';
    }
    o += ']';
    key("approvals");
    o += '[';
    for (size_t i = 0; i < d.approvals.size(); ++i) {
      const Approval& a = d.approvals[i];
      if (i) o += ',';
      o += '{';
      key("rule");
      ruleName(a.rule);
      key("groups");
      o += '[';
      for (size_t g = 0; g < a.groups.size(); ++g) {
        if (g) o += ',';
        str(a.groups[g]);
      }
      o += ']';
      key("quorum");
      integer(a.quorum);
      o += '}';
    }
    o += ']';
    key("grants");
    o += '{';
    if (d.request_type != kNone && d.outcome != Outcome::Deny) {
      const auto& grants = m.schema.requests[d.request_type].grants;
      for (size_t g = 0; g < grants.size() && g < d.grants.size(); ++g) {
        if (g) o += ',';
        str(p.str(grants[g].name));
        o += ':';
        value(d.grants[g]);
      }
    }
    o += '}';
    key("reasons");
    o += '[';
    for (size_t i = 0; i < d.reasons.size(); ++i) {
      if (i) o += ',';
      str(d.reasons[i]);
    }
    o += ']';
    key("errors");
    o += '[';
    for (size_t i = 0; i < d.errors.size(); ++i) {
      const DecisionError& e = d.errors[i];
      if (i) o += ',';
      o += '{';
      key("code");
      str(e.code);
      if (e.rule != kNone) {
        key("rule");
        ruleName(e.rule);
      } else {
        key("path");
        str(e.path);
      }
      key("message");
      str(e.message);
      o += '}';
    }
    o += ']';
    key("bundle");
    o += '{';
    key("name");
    optStr(m.meta.name);
    key("revision");
    optStr(m.meta.revision);
    key("digest");
    o += "\"sha256:";
    o += p.digest_hex;
    o += '"';
    o += '}';
    if (d.explained) trace(d);
    o += '}';
  }

  void trace(const Decision& d) {
    const Bundle& m = p.model;
    key("trace");
    o += '[';
    for (size_t i = 0; i < d.trace.size(); ++i) {
      const TraceEntry& t = d.trace[i];
      const Rule& r = m.rules[t.rule];
      if (i) o += ',';
      o += '{';
      key("rule");
      str(p.str(r.name));
      key("effect");
      str(effectName(r.effect));
      key("matched");
      o += t.matched == Matched::True ? "true" : t.matched == Matched::False ? "false" : "\"error\"";
      if (r.effect == Effect::Exception) {
        key("active");
        o += t.active ? "true" : "false";
      }
      if (t.failed >= 0 && size_t(t.failed) < r.source.size() && r.source[size_t(t.failed)].text != kNone) {
        key("failed");
        o += "{\"line\":";
        integer(r.source[size_t(t.failed)].line);
        o += ",\"text\":";
        str(p.str(r.source[size_t(t.failed)].text));
        o += '}';
      }
      o += '}';
    }
    o += ']';
  }
};

}  // namespace

void toJson(const LoadedBundle& b, const Decision& d, std::string& out) {
  Writer w(out);
  Out{b.impl(), w}.decision(d);
}

}  // namespace pave::rt
