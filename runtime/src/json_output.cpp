// JSON output (SPEC §7.4) with the canonical value forms of §7.3. Written by hand so the
// key order and bytes are fixed.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "pave/literals.h"
#include "json_tables.h"
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

  [[gnu::always_inline]] Writer& operator+=(char c) {
    if (n_ == kCap) flush();
    buf_[n_++] = c;
    return *this;
  }
  // Inline, with the rare overflow out of line. Most appends are short (quoted names):
  // up to 32 bytes are copied with two overlapping moves from each end, not a call.
  [[gnu::always_inline]] Writer& operator+=(std::string_view s) {
    const size_t n = s.size();
    if (n > kCap - n_) return spill(s);
    char* to = buf_ + n_;
    const char* from = s.data();
    if (n >= 16 && n <= 32) move2<16>(to, from, n);
    else if (n >= 8 && n < 16) move2<8>(to, from, n);
    else std::memcpy(to, from, n);
    n_ += n;
    return *this;
  }
  // A literal: its length is known at compile time, so the copy is a few moves.
  template <size_t N>
  [[gnu::always_inline]] Writer& operator+=(const char (&s)[N]) {
    return *this += std::string_view(s, N - 1);
  }
  void append(const char* p, size_t n) { *this += std::string_view(p, n); }
  void flush() {
    out_.append(buf_, n_);
    n_ = 0;
  }

 private:
  static constexpr size_t kCap = 2048;
  std::string& out_;
  size_t n_ = 0;
  char buf_[kCap];

  // Copies n bytes (W ≤ n ≤ 2W) as the first W and the last W.
  template <size_t W>
  static void move2(char* to, const char* from, size_t n) {
    char head[W], tail[W];
    std::memcpy(head, from, W);
    std::memcpy(tail, from + n - W, W);
    std::memcpy(to, head, W);
    std::memcpy(to + n - W, tail, W);
  }

  [[gnu::noinline]] Writer& spill(std::string_view s) {
    flush();
    if (s.size() > kCap) out_.append(s);
    else *this += s;
    return *this;
  }
};

struct Out {
  const LoadedBundle::Impl& p;
  const JsonTables& j;
  Writer& o;
  std::string text = {};  // scratch for formatted values and escaped strings

  void integer(int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    o.append(buf, size_t(r.ptr - buf));
  }

  // Most strings need no escape: they are copied as they are.
  void str(std::string_view s) {
    if (!needsJsonEscape(s)) {
      o += '"';
      o += s;
      o += '"';
      return;
    }
    text.clear();
    appendJsonQuoted(s, text);
    o += text;
  }
  void ruleList(std::span<const uint32_t> rules) {
    o += '[';
    for (size_t i = 0; i < rules.size(); ++i) {
      if (i) o += ',';
      o += j.ruleNames[rules[i]];
    }
    o += ']';
  }

  void value(const Value& v) {
    switch (v.kind) {
      case Kind::Absent:
      case Kind::Error:
      case Kind::Record: o += "null"; break;  // a row is never an output value
      case Kind::Bool: o += std::string_view(v.i ? "true" : "false"); break;
      case Kind::Int: integer(v.i); break;
      case Kind::String: str(v.str()); break;
      case Kind::Duration: {  // digits and units: nothing to escape
        char buf[kDurationChars];
        const size_t n = formatDuration(v.i, buf);
        o += '"';
        o.append(buf, n);
        o += '"';
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

  // The rest of an approval of a rule whose approvers are constants, written ahead of time
  // (the groups are those views, so nothing else can have been evaluated).
  bool constApproval(const Approval& a) {
    const JsonTables::ConstApproval& c = j.approvals[a.rule];
    if (c.tail.empty() || a.quorum != c.quorum || a.groups.size() != c.groups.size()) return false;
    for (size_t g = 0; g < c.groups.size(); ++g)
      if (a.groups[g].data() != c.groups[g].data() || a.groups[g].size() != c.groups[g].size()) return false;
    o += c.tail;
    return true;
  }

  void decision(const Decision& d) {
    static constexpr std::string_view kOutcomes[] = {"{\"decision\":\"allow\"", "{\"decision\":\"approval\"",
                                                     "{\"decision\":\"deny\""};
    o += kOutcomes[size_t(d.outcome)];
    o += ",\"request_type\":";
    if (d.requestType == kNone)
      o += "null";
    else
      o += j.requestTypeNames[d.requestType];
    o += ",\"rules\":";
    ruleList(d.rules);
    o += ",\"deny_rules\":";
    ruleList(d.denyRules);
    o += ",\"exceptions\":[";
    for (size_t i = 0; i < d.exceptions.size(); ++i) {
      if (i) o += ',';
      o += j.exceptions[d.exceptions[i]];
    }
    o += "],\"approvals\":[";
    for (size_t i = 0; i < d.approvals.size(); ++i) {
      const Approval& a = d.approvals[i];
      if (i) o += ',';
      o += "{\"rule\":";
      o += j.ruleNames[a.rule];
      if (constApproval(a)) continue;
      o += ",\"groups\":[";
      for (size_t g = 0; g < a.groups.size(); ++g) {
        if (g) o += ',';
        str(a.groups[g]);
      }
      o += "],\"quorum\":";
      integer(a.quorum);
      o += '}';
    }
    o += "],\"grants\":{";
    if (d.requestType != kNone && d.outcome != Outcome::Deny) {
      const auto& keys = j.grantKeys[d.requestType];
      for (size_t g = 0; g < keys.size() && g < d.grants.size(); ++g) {
        if (g) o += ',';
        o += keys[g];
        value(d.grants[g]);
      }
    }
    o += "},\"reasons\":[";
    for (size_t i = 0; i < d.reasons.size(); ++i) {
      if (i) o += ',';
      str(d.reasons[i]);
    }
    o += "],\"errors\":[";
    for (size_t i = 0; i < d.errors.size(); ++i) {
      const DecisionError& e = d.errors[i];
      if (i) o += ',';
      o += "{\"code\":";
      str(e.code);
      if (e.rule != kNone) {
        o += ",\"rule\":";
        o += j.ruleNames[e.rule];
      } else {
        o += ",\"path\":";
        str(e.path);
      }
      o += ",\"message\":";
      str(e.message);
      o += '}';
    }
    o += "],";
    o += j.bundle;
    // The highest severity among the deny rules (SPEC §3.2), when one is set.
    Severity severity = Severity::None;
    for (uint32_t r : d.denyRules) severity = std::max(severity, p.model.rules[r].severity);
    if (severity != Severity::None) {
      o += ",\"severity\":";
      str(severityName(severity));
    }
    if (d.explained) trace(d);
    o += '}';
  }

  void trace(const Decision& d) {
    const Bundle& m = p.model;
    o += ",\"trace\":[";
    for (size_t i = 0; i < d.trace.size(); ++i) {
      const TraceEntry& t = d.trace[i];
      const Rule& r = m.rules[t.rule];
      if (i) o += ',';
      o += "{\"rule\":";
      o += j.ruleNames[t.rule];
      o += ",\"effect\":";
      str(effectName(r.effect));
      o += ",\"matched\":";
      o += std::string_view(t.matched == Matched::True ? "true" : t.matched == Matched::False ? "false" : "\"error\"");
      if (r.effect == Effect::Exception) {
        o += ",\"active\":";
        o += std::string_view(t.active ? "true" : "false");
      }
      o += j.traceMeta[t.rule];
      if (t.failed >= 0 && size_t(t.failed) < r.source.size() && r.source[size_t(t.failed)].text != kNone) {
        o += ",\"failed\":{";
        o += j.traceFile[t.rule];
        o += "\"line\":";
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
  Out{b.impl(), b.impl().json, w}.decision(d);
}

}  // namespace pave::rt
