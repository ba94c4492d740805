// Input decoding (SPEC §7.2). A valid input takes the fast path, one pass straight into
// the slot arrays; any other input is parsed again into arena nodes, then validated
// strictly against the schema, reporting every problem with its JSON path.
#include <algorithm>
#include <bit>
#include <cstring>

#include "decider_state.h"
#include "pave/decision_errors.h"
#include "pave/literals.h"
#include "json_tables.h"

namespace pave::rt {
using Err = DecisionErrorCode;
namespace {

constexpr int kMaxDepth = 64;

// The JSON tokens: whitespace, literals, numbers and strings. Both decoders below read the
// input through these, so they accept and reject exactly the same text.
class Scanner {
 protected:
  Scanner(std::string_view text, Arena& arena) : t_(text), arena_(arena) {}

  bool bad(const char* what) {
    if (err_.empty()) err_ = what;
    return false;
  }
  // Inline for the common case, where there is no whitespace at all.
  [[gnu::always_inline]] void skipWs() {
    if (pos_ < t_.size() && uint8_t(t_[pos_]) > ' ') return;
    // Pretty-printed input: one space after a ':' or a ','.
    if (pos_ + 1 < t_.size() && t_[pos_] == ' ' && uint8_t(t_[pos_ + 1]) > ' ') {
      ++pos_;
      return;
    }
    skipSomeWs();
  }
  void skipSomeWs() {
#if PAVE_SSE2
    // Runs of indentation, 16 bytes at a time.
    for (; pos_ + 16 <= t_.size(); pos_ += 16)
      if (uint32_t stop = jsonNonWhitespace16(t_.data() + pos_)) {
        pos_ += unsigned(std::countr_zero(stop));
        return;
      }
#endif
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r')) ++pos_;
  }
  bool at(char c) const { return pos_ < t_.size() && t_[pos_] == c; }
  bool literal(std::string_view word) {
    if (t_.size() - pos_ < word.size() || !equalBytes(t_.data() + pos_, word.data(), word.size()))
      return bad("invalid literal");
    pos_ += word.size();
    return true;
  }

  // `"key" :` of an object member, and the whitespace up to its value.
  bool memberKey(std::string_view& key) {
    if (pos_ >= t_.size() || t_[pos_] != '"') return bad("expected a key");
    if (!string(key)) return false;
    skipWs();
    if (pos_ >= t_.size() || t_[pos_] != ':') return bad("expected ':'");
    ++pos_;
    skipWs();
    return true;
  }

  // A value that is not an array or an object (those fail here as an invalid value).
  bool scalar(JNode& out) {
    if (pos_ >= t_.size()) return bad("unexpected end of input");
    out = JNode{};
    switch (t_[pos_]) {
      case 'n': out.type = JNode::Null; return literal("null");
      case 't': out.type = JNode::True; return literal("true");
      case 'f': out.type = JNode::False; return literal("false");
      case '"': out.type = JNode::String; return string(out.s);
      default: return number(out);
    }
  }

  bool number(JNode& out) {
    size_t start = pos_;
    bool neg = false, integral = true;
    if (pos_ < t_.size() && t_[pos_] == '-') neg = true, ++pos_;
    auto digit = [&] { return pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9'; };
    if (!digit()) return bad("invalid value");
    if (t_[pos_] == '0') ++pos_;
    else while (digit()) ++pos_;
    if (pos_ < t_.size() && t_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (!digit()) return bad("invalid number");
      while (digit()) ++pos_;
    }
    if (pos_ < t_.size() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < t_.size() && (t_[pos_] == '+' || t_[pos_] == '-')) ++pos_;
      if (!digit()) return bad("invalid number");
      while (digit()) ++pos_;
    }
    out.type = JNode::Number;
    out.s = t_.substr(start, pos_ - start);
    if (integral) {
      uint64_t mag = 0;
      out.isInt = true;
      for (size_t i = start + (neg ? 1 : 0); i < pos_; ++i) {
        unsigned d = unsigned(t_[i] - '0');
        if (mag > (uint64_t(1) << 63) / 10 || mag * 10 + d > (uint64_t(1) << 63) - (neg ? 0 : 1)) {
          out.isInt = false;  // out of int64 range
          break;
        }
        mag = mag * 10 + d;
      }
      if (out.isInt) out.i = neg ? int64_t(0 - mag) : int64_t(mag);
    }
    return true;
  }

  bool hex4(uint32_t& v) {
    if (pos_ + 4 > t_.size()) return bad("invalid escape");
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else return bad("invalid escape");
    }
    return true;
  }

  // Nearly every string is printable ASCII without escapes: found 16 bytes at a time (SSE2)
  // or a word at a time, it is the input text as it is. Anything else takes anyString().
  bool string(std::string_view& out) {
    const size_t start = pos_ + 1;
    size_t i = start;
#if PAVE_SSE2
    for (; i + 16 <= t_.size(); i += 16)
      if (uint32_t stop = jsonSpecial16(t_.data() + i, true)) {
        i += unsigned(std::countr_zero(stop));
        if (t_[i] != '"') return anyString(out);
        out = std::string_view(t_.data() + start, i - start);  // in range: no check
        pos_ = i + 1;
        return true;
      }
#endif
    return stringWords(start, i, out);
  }
  // The rest of string() from byte `i` on, a word at a time (with SSE2, only the last bytes
  // of the input). Out of line: its constants take registers string() would have to save.
  [[gnu::noinline]] bool stringWords(size_t start, size_t i, std::string_view& out) {
    constexpr uint64_t kNonAscii = 0x8080808080808080ull;
    for (; i + 8 <= t_.size(); i += 8) {
      uint64_t w = loadLanes(t_.data() + i);
      if (uint64_t stop = jsonSpecialBytes(w) | (w & kNonAscii)) {
        i += unsigned(std::countr_zero(stop)) / 8;
        if (t_[i] != '"') break;
        out = std::string_view(t_.data() + start, i - start);
        pos_ = i + 1;
        return true;
      }
    }
    return anyString(out);
  }

  bool anyString(std::string_view& out) {
    size_t start = ++pos_;
    bool escaped = false;
    unsigned char high = 0;  // any byte >= 0x80: only then is the UTF-8 check needed
    while (pos_ < t_.size() && t_[pos_] != '"') {
      unsigned char c = uint8_t(t_[pos_]);
      if (c < 0x20) return bad("control character in string");
      if (c == '\\') escaped = true, ++pos_;
      high |= c;
      ++pos_;
    }
    if (pos_ >= t_.size()) return bad("unterminated string");
    std::string_view raw = t_.substr(start, pos_ - start);
    ++pos_;
    if ((high & 0x80) && !validUtf8(raw)) return bad("invalid UTF-8");
    if (!escaped) {
      out = raw;
      return true;
    }
    std::string buf;
    size_t end = pos_ - 1;
    pos_ = start;
    while (pos_ < end) {
      char c = t_[pos_++];
      if (c != '\\') {
        buf += c;
        continue;
      }
      char e = t_[pos_++];
      switch (e) {
        case '"': buf += '"'; break;
        case '\\': buf += '\\'; break;
        case '/': buf += '/'; break;
        case 'b': buf += '\b'; break;
        case 'f': buf += '\f'; break;
        case 'n': buf += '\n'; break;
        case 'r': buf += '\r'; break;
        case 't': buf += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (pos_ + 2 > end || t_[pos_] != '\\' || t_[pos_ + 1] != 'u') return bad("unpaired surrogate");
            pos_ += 2;
            if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return bad("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return bad("unpaired surrogate");
          }
          appendUtf8(buf, cp);
          break;
        }
        default: return bad("invalid escape");
      }
    }
    pos_ = end + 1;
    out = arena_.copy(buf);
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
  Arena& arena_;
  std::string err_;
};

// The DOM path: the whole input as a tree of JNodes, which the Validator walks.
class Parser : Scanner {
 public:
  Parser(std::string_view text, Decider::State& st) : Scanner(text, st.scratch.arena), st_(st) {}

  bool parse(JNode& root, std::string& error) {
    skipWs();
    if (!value(root, 0)) {
      error = "at byte " + std::to_string(pos_) + ": " + err_;
      return false;
    }
    skipWs();
    if (pos_ != t_.size()) {
      error = "at byte " + std::to_string(pos_) + ": trailing characters";
      return false;
    }
    return true;
  }

 private:
  bool value(JNode& out, int depth) {
    if (depth > kMaxDepth) return bad("nesting too deep");
    if (at('[')) return array(out, depth);
    if (at('{')) return object(out, depth);
    return scalar(out);
  }

  // Children are collected on the shared stacks, then copied into the arena.
  bool array(JNode& out, int depth) {
    ++pos_;
    size_t base = st_.jstack.size();
    skipWs();
    if (pos_ < t_.size() && t_[pos_] == ']') ++pos_;
    else {
      for (;;) {
        skipWs();
        st_.jstack.emplace_back();
        JNode tmp;
        if (!value(tmp, depth + 1)) return false;
        st_.jstack[st_.jstack.size() - 1] = tmp;
        skipWs();
        if (pos_ < t_.size() && t_[pos_] == ',') { ++pos_; continue; }
        if (pos_ < t_.size() && t_[pos_] == ']') { ++pos_; break; }
        return bad("expected ',' or ']'");
      }
    }
    out.type = JNode::Array;
    out.n = uint32_t(st_.jstack.size() - base);
    JNode* kids = arena_.allocArray<JNode>(out.n);
    std::copy(st_.jstack.begin() + long(base), st_.jstack.end(), kids);
    st_.jstack.resize(base);
    out.kids = kids;
    return true;
  }

  bool object(JNode& out, int depth) {
    ++pos_;
    size_t base = st_.jstack.size(), kbase = st_.jkeys.size();
    skipWs();
    if (pos_ < t_.size() && t_[pos_] == '}') ++pos_;
    else {
      for (;;) {
        skipWs();
        std::string_view key;
        if (!memberKey(key)) return false;
        JNode tmp;
        if (!value(tmp, depth + 1)) return false;
        st_.jkeys.push_back(key);
        st_.jstack.push_back(tmp);
        skipWs();
        if (pos_ < t_.size() && t_[pos_] == ',') { ++pos_; continue; }
        if (pos_ < t_.size() && t_[pos_] == '}') { ++pos_; break; }
        return bad("expected ',' or '}'");
      }
    }
    out.type = JNode::Object;
    out.n = uint32_t(st_.jstack.size() - base);
    JNode* kids = arena_.allocArray<JNode>(out.n);
    auto* keys = arena_.allocArray<std::string_view>(out.n);
    std::copy(st_.jstack.begin() + long(base), st_.jstack.end(), kids);
    std::copy(st_.jkeys.begin() + long(kbase), st_.jkeys.end(), keys);
    st_.jstack.resize(base);
    st_.jkeys.resize(kbase);
    out.kids = kids;
    out.keys = keys;
    return true;
  }

  Decider::State& st_;
};

// Converting a scalar JSON value to a value of a scalar schema type; shared by both
// decoders so that they accept the same values. The Validator turns a failure into the
// problem it reports.
enum class Conversion : uint8_t { Ok, WrongType, NotInt64, Invalid };

// A JSON string as a value of type `d`.
Conversion convertString(const LoadedBundle::Impl& p, const TypeDesc& d, std::string_view s, Value& out) {
  switch (d.kind) {
    case TypeKind::Duration:
      if (!parseDuration(s, out.i)) return Conversion::Invalid;
      out.kind = Kind::Duration;
      return Conversion::Ok;
    case TypeKind::Timestamp:
      if (!parseTimestamp(s, out.i)) return Conversion::Invalid;
      out.kind = Kind::Timestamp;
      return Conversion::Ok;
    case TypeKind::String:
      out = Value::string(s);
      return Conversion::Ok;
    case TypeKind::Ip:
    case TypeKind::Cidr: {
      IpAddr ip;
      bool cidr = d.kind == TypeKind::Cidr;
      if (!(cidr ? parseCidr(s, ip) : parseIp(s, ip))) return Conversion::Invalid;
      out = Value();
      out.kind = cidr ? Kind::Cidr : Kind::Ip;
      out.family = ip.family;
      out.prefix = ip.prefix;
      std::memcpy(out.ip, ip.bytes.data(), 16);
      return Conversion::Ok;
    }
    case TypeKind::Enum: {
      const EnumDecl& e = p.model.schema.enums[d.enumIndex];
      for (size_t m = 0; m < e.members.size(); ++m)
        if (p.str(e.members[m]) == s) {
          out = Value::enumMember(d.enumIndex, int64_t(m));
          return Conversion::Ok;
        }
      return Conversion::Invalid;
    }
    default: return Conversion::WrongType;  // Bool, Int, Set, Map
  }
}

Conversion convertScalar(const LoadedBundle::Impl& p, const TypeDesc& d, const JNode& n, Value& out) {
  if (n.type == JNode::String) return convertString(p, d, n.s, out);
  switch (d.kind) {
    case TypeKind::Bool:
      if (n.type != JNode::True && n.type != JNode::False) return Conversion::WrongType;
      out = Value::boolean(n.type == JNode::True);
      return Conversion::Ok;
    case TypeKind::Int:
      if (n.type != JNode::Number) return Conversion::WrongType;
      if (!n.isInt) return Conversion::NotInt64;
      out = Value::integer(n.i);
      return Conversion::Ok;
    case TypeKind::Duration:
      if (n.type != JNode::Number || !n.isInt) return Conversion::WrongType;
      out = Value::integer(n.i, Kind::Duration);
      return Conversion::Ok;
    default: return Conversion::WrongType;  // the other types are strings (or not scalars)
  }
}

// One attribute of an object of the input, whichever list it comes from.
struct AttrView {
  StrId name;
  TypeId type;
  bool optional;
  uint32_t slot;  // into the principal, request or context slot array
};
AttrView principalAttr(const PrincipalType& pt, size_t a) {
  const Attribute& at = pt.attrs[a];
  return AttrView{at.name, at.type, at.optional, uint32_t(a)};
}
AttrView requestAttr(const Schema& s, const RequestType& r, size_t a) {
  const RequestAttr& ra = r.attrs[a];
  const RequestSlot& rs = s.requestSlots[ra.slot];
  return AttrView{rs.name, rs.type, ra.optional, ra.slot};
}
AttrView contextAttr(const Schema& s, size_t a) {
  const Attribute& at = s.context[a];
  return AttrView{at.name, at.type, at.optional, uint32_t(a)};
}

// A JSON path built only when a problem is reported.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  int64_t index = -1;

  std::string str() const {
    std::string s = parent ? parent->str() : "$";
    if (index >= 0) return s + "[" + std::to_string(index) + "]";
    if (key.empty() && !parent) return s;
    bool ident = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (ident) return s + "." + std::string(key);
    std::string q = "[\"";
    for (char c : key) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return s + q + "\"]";
  }
};

class Validator {
 public:
  Validator(const LoadedBundle::Impl& p, Decider::State& st)
      : p_(p), st_(st), arena_(st.scratch.arena), seen_(st.seen) {}

  void problem(Err code, const Path& path, std::string message) {
    st_.errors.push_back({std::string(errorCode(code)), path.str(), kNone, std::move(message)});
  }

  static const char* jsonTypeName(const JNode& n) {
    static constexpr const char* kNames[] = {"null", "false", "true", "a number", "a string", "an array", "an object"};
    return kNames[n.type];
  }
  std::string typeName(TypeId t) const {
    const TypeDesc& d = p_.model.schema.types[t];
    if (d.kind == TypeKind::Enum) return std::string(p_.str(p_.model.schema.enums[d.enumIndex].name));
    if (d.kind == TypeKind::Set) return "Set<" + typeName(d.elem) + ">";
    if (d.kind == TypeKind::Map) return "Map<String, " + typeName(d.elem) + ">";
    return typeKindName(d.kind);
  }
  bool wrongType(const JNode& n, TypeId t, const Path& path) {
    problem(Err::WrongType, path, "expected " + typeName(t) + ", got " + jsonTypeName(n));
    return false;
  }

  bool value(const JNode& n, TypeId t, const Path& path, Value& out) {
    const Schema& s = p_.model.schema;
    const TypeDesc& d = s.types[t];
    switch (d.kind) {
      case TypeKind::Set: {
        if (n.type != JNode::Array) return wrongType(n, t, path);
        Value* elems = arena_.allocArray<Value>(n.n);
        bool ok = true;
        for (uint32_t k = 0; k < n.n; ++k) {
          Path ep{&path, {}, int64_t(k)};
          ok &= value(n.kids[k], d.elem, ep, elems[k]);
        }
        if (!ok) return false;
        out = Value::set(elems, sortUnique(elems, n.n));
        return true;
      }
      case TypeKind::Map: {
        if (n.type != JNode::Object) return wrongType(n, t, path);
        std::vector<uint32_t> order(n.n);
        for (uint32_t k = 0; k < n.n; ++k) order[k] = k;
        std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return n.keys[x] < n.keys[y]; });
        Value* entries = arena_.allocArray<Value>(2 * size_t(n.n));
        bool ok = true;
        for (uint32_t k = 0; k < n.n; ++k) {
          uint32_t src = order[k];
          Path ep{&path, n.keys[src]};
          if (k > 0 && n.keys[order[k - 1]] == n.keys[src]) {
            problem(Err::InvalidValue, ep, "duplicate key");
            ok = false;
            continue;
          }
          entries[2 * k] = Value::string(n.keys[src]);
          ok &= value(n.kids[src], d.elem, ep, entries[2 * k + 1]);
        }
        if (!ok) return false;
        out = Value::map(entries, n.n);
        return true;
      }
      default:
        switch (convertScalar(p_, d, n, out)) {
          case Conversion::Ok: return true;
          case Conversion::WrongType: return wrongType(n, t, path);
          case Conversion::NotInt64:
            problem(Err::InvalidValue, path, "not an integer in the int64 range: " + std::string(n.s));
            return false;
          case Conversion::Invalid: return invalid(path, invalidWhat(d), n.s);
        }
    }
    return false;
  }

  // What an invalid value of a scalar type `d` is called in messages.
  std::string invalidWhat(const TypeDesc& d) const {
    switch (d.kind) {
      case TypeKind::Duration: return "duration";
      case TypeKind::Timestamp: return "timestamp";
      case TypeKind::Ip: return "IP address";
      case TypeKind::Cidr: return "CIDR";
      case TypeKind::Enum: return std::string(p_.str(p_.model.schema.enums[d.enumIndex].name)) + " member";
      default: return typeKindName(d.kind);
    }
  }

  bool invalid(const Path& path, const std::string& what, std::string_view text) {
    problem(Err::InvalidValue, path, "invalid " + what + ": \"" + std::string(text) + "\"");
    return false;
  }

  // Decodes the attributes of one object. `attr(k)` gives (name, type, optional, slot).
  template <typename AttrAt>
  void attributes(const JNode& obj, const Path& path, size_t count, AttrAt attr, Value* out, bool skipTypeKey) {
    seen_.assign(count, 0);
    for (uint32_t k = 0; k < obj.n; ++k) {
      std::string_view key = obj.keys[k];
      Path kp{&path, key};
      if (skipTypeKey && key == "type") continue;
      size_t a = 0;
      while (a < count && p_.str(attr(a).name) != key) ++a;
      if (a == count) {
        problem(Err::UnknownAttribute, kp, "unknown attribute '" + std::string(key) + "'");
        continue;
      }
      if (seen_[a]++) {
        problem(Err::InvalidValue, kp, "duplicate key");
        continue;
      }
      auto at = attr(a);
      if (obj.kids[k].type == JNode::Null && at.optional) out[at.slot] = Value();  // null: absent
      else value(obj.kids[k], at.type, kp, out[at.slot]);
    }
    for (size_t a = 0; a < count; ++a) {
      if (seen_[a]) continue;
      auto at = attr(a);
      out[at.slot] = Value();
      if (!at.optional)
        problem(Err::MissingAttribute, Path{&path, p_.str(at.name)},
                "missing attribute '" + std::string(p_.str(at.name)) + "'");
    }
  }

  void run(const JNode& root) {
    const Schema& s = p_.model.schema;
    Path top;
    if (root.type != JNode::Object) {
      problem(Err::WrongType, top, "the input must be a JSON object");
      return;
    }
    const JNode *type = nullptr, *principal = nullptr, *request = nullptr, *context = nullptr;
    for (uint32_t k = 0; k < root.n; ++k) {
      std::string_view key = root.keys[k];
      const JNode** slot = key == "type" ? &type : key == "principal" ? &principal : key == "request" ? &request
                         : key == "context" ? &context : nullptr;
      if (!slot) problem(Err::UnknownAttribute, Path{&top, key}, "unknown key '" + std::string(key) + "'");
      else if (*slot) problem(Err::InvalidValue, Path{&top, key}, "duplicate key");
      else *slot = &root.kids[k];
    }
    Input& in = st_.input;
    int32_t rt = -1;
    Path tp{&top, "type"};
    if (!type) problem(Err::MissingAttribute, tp, "missing request type");
    else if (type->type != JNode::String) problem(Err::WrongType, tp, "the request type must be a string");
    else if ((rt = p_.requestNames.find(type->s)) < 0)
      problem(Err::UnknownRequestType, tp, "unknown request type '" + std::string(type->s) + "'");
    if (rt >= 0) {
      in.requestType = uint32_t(rt);
      st_.decision.requestType = uint32_t(rt);
    }

    Path pp{&top, "principal"};
    if (!principal) problem(Err::MissingAttribute, pp, "missing principal");
    else if (principal->type != JNode::Object) problem(Err::WrongType, pp, "the principal must be an object");
    else principalObject(*principal, pp, rt);

    Path rp{&top, "request"};
    if (!request) problem(Err::MissingAttribute, rp, "missing request");
    else if (request->type != JNode::Object) problem(Err::WrongType, rp, "the request must be an object");
    else if (rt >= 0) {
      const RequestType& r = s.requests[size_t(rt)];
      attributes(*request, rp, r.attrs.size(), [&](size_t a) { return requestAttr(s, r, a); }, st_.request.data(),
                 false);
    }

    Path cp{&top, "context"};
    if (!context) problem(Err::MissingAttribute, cp, "missing context");
    else if (context->type != JNode::Object) problem(Err::WrongType, cp, "the context must be an object");
    else
      attributes(*context, cp, s.context.size(), [&](size_t a) { return contextAttr(s, a); }, st_.context.data(),
                 false);
  }

  void principalObject(const JNode& obj, const Path& pp, int32_t rt) {
    const Schema& s = p_.model.schema;
    const JNode* type = nullptr;
    Path tp{&pp, "type"};
    for (uint32_t k = 0; k < obj.n; ++k) {
      if (obj.keys[k] != "type") continue;
      // Like any other repeated key, and never "the last one wins": which type the
      // principal has must not depend on how a JSON reader resolves duplicates.
      if (type) return problem(Err::InvalidValue, tp, "duplicate key");
      type = &obj.kids[k];
    }
    if (!type) return problem(Err::MissingAttribute, tp, "missing principal type");
    if (type->type != JNode::String) return problem(Err::WrongType, tp, "the principal type must be a string");
    int32_t pt = p_.principalNames.find(type->s);
    if (pt < 0) return problem(Err::PrincipalNotAllowed, tp, "unknown principal type '" + std::string(type->s) + "'");
    if (rt >= 0) {
      const auto& allowed = s.requests[size_t(rt)].principals;
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), uint32_t(pt)) == allowed.end())
        problem(Err::PrincipalNotAllowed, tp,
                "principal type '" + std::string(p_.str(s.principals[size_t(pt)].name)) + "' may not ask for '" +
                    std::string(p_.str(s.requests[size_t(rt)].name)) + "'");
    }
    st_.input.principalType = uint32_t(pt);
    const PrincipalType& ptype = s.principals[size_t(pt)];
    attributes(obj, pp, ptype.attrs.size(), [&](size_t a) { return principalAttr(ptype, a); }, st_.principal.data(),
               true);
  }

 private:
  const LoadedBundle::Impl& p_;
  Decider::State& st_;
  Arena& arena_;
  std::vector<uint8_t>& seen_;  // per attribute of the object being decoded
};

// The fast path: decodes a valid input in one pass straight into the slot arrays, with no
// tree and no error text. It gives up (returns false) at the first thing it does not
// expect: any problem the Validator would report, and also two valid but rare orders it
// does not handle, "request" before "type" and a principal whose "type" is not its first
// key. The caller then decodes the input again on the DOM path, which reports the problems
// (or succeeds), so the errors stay exactly those of the DOM path.
class FastDecoder : Scanner {
 public:
  FastDecoder(const LoadedBundle::Impl& p, std::string_view text, Decider::State& st)
      : Scanner(text, st.scratch.arena), p_(p), s_(p.model.schema), st_(st) {}

  bool run() {
    int32_t rt = -1, pt = -1;
    bool principal = false, request = false, context = false;
    skipWs();
    bool ok = object([&](std::string_view key) {
      if (is(key, "type")) {
        JNode type;
        return rt < 0 && scalar(type) && type.type == JNode::String && (rt = p_.json.requestTypes.find(type.s)) >= 0;
      }
      if (is(key, "principal")) return !principal && (principal = principalObject(pt));
      if (is(key, "request")) {
        if (request || rt < 0) return false;
        const RequestType& r = s_.requests[size_t(rt)];
        return request = attributes(
                   p_.json.requestAttrs[size_t(rt)], r.attrs.size(), [&](size_t a) { return requestAttr(s_, r, a); },
                   st_.request.data());
      }
      if (is(key, "context"))
        return !context && (context = attributes(
                                p_.json.contextAttrs, s_.context.size(), [&](size_t a) { return contextAttr(s_, a); },
                                st_.context.data()));
      return false;
    });
    skipWs();
    if (!ok || pos_ != t_.size() || !principal || !request || !context) return false;
    if (!p_.plan.requests[size_t(rt)].allows[size_t(pt)]) return false;
    st_.input.requestType = uint32_t(rt);
    st_.input.principalType = uint32_t(pt);
    st_.decision.requestType = uint32_t(rt);
    return true;
  }

 private:
  // Whether a key is the literal `word` (compared in line).
  template <size_t N>
  static bool is(std::string_view key, const char (&word)[N]) {
    return key.size() == N - 1 && equalBytes(key.data(), word, N - 1);
  }
  // The comma-separated items up to `close`, the opening bracket being consumed already.
  template <typename Item>
  bool items(char close, Item item) {
    skipWs();
    if (at(close)) return ++pos_, true;
    for (;;) {
      skipWs();
      if (!item()) return false;
      skipWs();
      if (at(',')) ++pos_;
      else if (at(close)) return ++pos_, true;
      else return false;
    }
  }
  // An object; `member(key)` reads the value of each member.
  template <typename Member>
  bool object(Member member) {
    if (!at('{')) return false;
    ++pos_;
    return items('}', [&] {
      std::string_view key;
      return memberKey(key) && member(key);
    });
  }

  bool principalObject(int32_t& pt) {
    const PrincipalType* ptype = nullptr;
    uint32_t cursor = 0;
    auto attr = [&](size_t a) { return principalAttr(*ptype, a); };
    bool ok = object([&](std::string_view key) {
      if (ptype)
        return !is(key, "type") &&
               attribute(p_.json.principalAttrs[size_t(pt)], attr, st_.principal.data(), key, cursor);
      // The first member names the type, which tells what the other members are.
      JNode type;
      if (!is(key, "type") || !scalar(type) || type.type != JNode::String) return false;
      if ((pt = p_.json.principalTypes.find(type.s)) < 0) return false;
      ptype = &s_.principals[size_t(pt)];
      seen_ = 0;
      return ptype->attrs.size() <= 64;  // else the general decoder
    });
    return ok && ptype && complete(ptype->attrs.size(), attr, st_.principal.data());
  }

  // An object of attributes, `attr(k)` being the k-th attribute of the list `names` indexes.
  template <typename AttrAt>
  bool attributes(const NameTable& names, size_t count, AttrAt attr, Value* out) {
    if (count > 64) return false;  // the general decoder
    seen_ = 0;
    uint32_t cursor = 0;
    return object([&](std::string_view key) { return attribute(names, attr, out, key, cursor); }) &&
           complete(count, attr, out);
  }
  // The value of attribute `key`, which must be known and not given before (`cursor`: see
  // NameTable::find).
  template <typename AttrAt>
  bool attribute(const NameTable& names, AttrAt attr, Value* out, std::string_view key, uint32_t& cursor) {
    int32_t a = names.find(key, cursor);
    if (a < 0 || (seen_ >> a & 1)) return false;
    seen_ |= uint64_t(1) << a;
    AttrView at = attr(size_t(a));
    return value(at.type, at.optional, out[at.slot]);
  }
  // Every attribute not given must be optional; it is absent.
  template <typename AttrAt>
  bool complete(size_t count, AttrAt attr, Value* out) {
    const uint64_t all = count == 64 ? ~uint64_t(0) : (uint64_t(1) << count) - 1;
    for (uint64_t unset = all & ~seen_; unset; unset &= unset - 1) {
      AttrView at = attr(size_t(__builtin_ctzll(unset)));
      if (!at.optional) return false;
      out[at.slot] = Value();
    }
    return true;
  }

  bool value(TypeId t, bool optional, Value& out) {
    const TypeDesc& d = s_.types[t];
    if (d.kind == TypeKind::Set && at('[')) return set(s_.types[d.elem], out);
    if (d.kind == TypeKind::Map && at('{')) return map(s_.types[d.elem], out);
    if (optional && at('n')) {  // null: absent (anything else starting with n is invalid)
      JNode n;
      out = Value();
      return scalar(n) && n.type == JNode::Null;
    }
    return element(d, out);
  }

  // A scalar of type `d`, also a set or map element (a Set or Map element type fails
  // conversion).
  bool element(const TypeDesc& d, Value& out) {
    if (at('"')) {  // most values are strings: no JNode, and String values not even a call
      std::string_view text;
      if (!string(text)) return false;
      if (d.kind == TypeKind::String) {
        out = Value::string(text);
        return true;
      }
      return convertString(p_, d, text, out) == Conversion::Ok;
    }
    if (d.kind == TypeKind::Bool && (at('t') || at('f'))) {
      const bool b = t_[pos_] == 't';
      if (!literal(b ? "true" : "false")) return false;
      out = Value::boolean(b);
      return true;
    }
    JNode n;
    return scalar(n) && convertScalar(p_, d, n, out) == Conversion::Ok;
  }

  bool set(const TypeDesc& elem, Value& out) {
    ++pos_;
    std::vector<Value>& elems = st_.jvalues;
    elems.clear();
    if (!items(']', [&] { return element(elem, elems.emplace_back()); })) return false;
    auto n = uint32_t(elems.size());
    Value* copy = arena_.allocArray<Value>(n);
    std::copy(elems.begin(), elems.end(), copy);
    out = Value::set(copy, sortUnique(copy, n));
    return true;
  }

  bool map(const TypeDesc& elem, Value& out) {
    auto& entries = st_.jentries;
    entries.clear();
    bool ok = object([&](std::string_view key) {
      auto& e = entries.emplace_back(key, Value());
      return element(elem, e.second);
    });
    if (!ok) return false;
    std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    auto n = uint32_t(entries.size());
    Value* flat = arena_.allocArray<Value>(2 * size_t(n));
    for (uint32_t k = 0; k < n; ++k) {
      if (k > 0 && entries[k - 1].first == entries[k].first) return false;  // a duplicate key
      flat[2 * k] = Value::string(entries[k].first);
      flat[2 * k + 1] = entries[k].second;
    }
    out = Value::map(flat, n);
    return true;
  }

  const LoadedBundle::Impl& p_;
  const Schema& s_;
  Decider::State& st_;
  uint64_t seen_ = 0;  // the attributes of the object being decoded given so far (at most 64)
};

}  // namespace

bool decodeJsonInput(const LoadedBundle::Impl& p, std::string_view json, Decider::State& st) {
  json = st.scratch.arena.copy(json);  // the decision may point into the input
  if (FastDecoder(p, json, st).run()) return true;
  JNode root;
  std::string error;
  Parser parser(json, st);
  if (!parser.parse(root, error)) {
    st.jstack.clear();
    st.jkeys.clear();
    st.errors.push_back({std::string(errorCode(Err::MalformedJson)), "$", kNone, error});
    return false;
  }
  Validator v(p, st);
  v.run(root);
  return st.errors.empty();
}

}  // namespace pave::rt
