// Pave runtime, C++ API: load a bundle once, decide many times (SPEC §5, §7).
//
//   std::string err;
//   auto bundle = pave::rt::LoadedBundle::load(bytes, {}, &err);
//   pave::rt::Decider decider(bundle);                 // one per thread
//   std::string out = decider.decideJson(inputJson);  // decision JSON (SPEC §7.4)
//
// A LoadedBundle is immutable and may be shared by any number of threads; a Decider holds
// the per-call scratch memory and must not be used by two threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pave/bundle.h"
#include "pave/decision_errors.h"
#include "pave/value.h"

namespace pave::rt {

struct LoadOptions {
  // Trusted signing keys. Empty: signatures are not checked. Otherwise each entry is PEM text
  // holding one or more Ed25519 public keys (`-----BEGIN PUBLIC KEY-----` blocks), the
  // bundle must be signed, and one of the keys must verify its signature (key rotation:
  // list the old and the new key). An entry that holds no valid Ed25519 public key (an
  // empty text included) fails loading: a configured key never means "no key".
  std::vector<std::string> publicKeysPem;
};

// Checks that `pem` holds one or more Ed25519 public keys and nothing else (see LoadOptions);
// false with `error` otherwise. Loading does the same check; this lets a caller name the file.
bool checkPublicKeys(std::string_view pem, size_t* count, std::string* error);

class LoadedBundle {
 public:
  static std::shared_ptr<const LoadedBundle> load(std::span<const uint8_t> bytes, const LoadOptions& opts,
                                                  std::string* error);
  static std::shared_ptr<const LoadedBundle> loadFile(const std::string& path, const LoadOptions& opts,
                                                      std::string* error);
  ~LoadedBundle();

  const Bundle& model() const;
  std::string_view digestHex() const;  // SHA-256 of the bundle content, lowercase hex
  bool isSigned() const;
  // The SHA-256 (hex) of the raw Ed25519 public key that verified the signature; empty
  // when no key was configured.
  std::string_view signerKeyHex() const;
  // Request / principal type by qualified name or unique short name; -1 if none.
  int32_t findRequestType(std::string_view name) const;
  int32_t findPrincipalType(std::string_view name) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit LoadedBundle(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class Outcome : uint8_t { Allow, Approval, Deny };

struct DecisionError {
  std::string code;        // one of pave/decision_errors.def, e.g. `missing-attribute`
  std::string path;        // input problems: JSON path such as `$.request.duration`
  uint32_t rule = kNone;   // evaluation problems: the rule
  std::string message;
};

struct Approval {
  uint32_t rule;
  std::span<const std::string_view> groups;  // sorted, duplicate-free
  uint32_t quorum;
};

enum class Matched : uint8_t { False, True, Error };

struct TraceEntry {
  uint32_t rule;
  Matched matched;
  bool active = false;      // exceptions
  int32_t failed = -1;      // index of the first false conjunct, or -1
};

// A decision: views of the Decider's memory, like the values they hold, valid until the next
// decision made with the same Decider (copy what must outlive it). The Decider keeps room
// for the most a decision of its bundle can hold, so deciding allocates nothing. Rule lists
// hold rule indices sorted by qualified name.
struct Decision {
  Outcome outcome = Outcome::Deny;
  uint32_t requestType = kNone;
  std::span<const uint32_t> rules;
  std::span<const uint32_t> denyRules;
  std::span<const uint32_t> exceptions;
  std::span<const Approval> approvals;
  std::span<const Value> grants;  // per grant of the request type, in declaration order; empty on deny
  std::span<const std::string_view> reasons;
  std::span<const DecisionError> errors;
  std::span<const TraceEntry> trace;  // filled when explaining
  bool explained = false;             // adds "trace" to the JSON
};

// Appends the decision JSON (SPEC §7.4) to `out`.
void toJson(const LoadedBundle& b, const Decision& d, std::string& out);

class Decider;

namespace detail {
// How binding without JSON checks one attribute's value: Int, String, Duration and
// Timestamp need only the kind compared, Bool and Enum a range check too (inline, by the
// value's kind); the others take InputBuilder's checked path: Set<String> and
// Map<String, String> a sorted, duplicate-free walk, Ip and Cidr a range check and
// canonical form, the rest the general type check.
struct BindSlot {
  enum class Check : uint8_t { Kind, Bool, Enum, StringSet, StringMap, Address, Full };
  uint32_t type = kNone;  // the attribute's TypeId; kNone: no such attribute
  Kind kind = Kind::Absent;
  Check check = Check::Full;
  uint32_t enumIndex = 0;  // Enum: the enum, and the largest member index
  uint64_t enumMax = 0;
  // The attribute's bit in its object's mask of the attributes set (0: not tracked).
  uint64_t bit = 0;
};
// The attributes of one input object (principal, request or context) and their values.
struct BindTarget {
  const BindSlot* slots = nullptr;
  Value* values = nullptr;
  uint32_t count = 0;
  uint64_t* present = nullptr;  // the bits (BindSlot::bit) of the attributes set
};
}  // namespace detail

// Binds input values by slot, without JSON. Obtained from Decider::bind; values must stay
// alive until the decision is made (use the `make*` helpers to copy into the decider).
// The slot setters are inline: binding a scalar other than an address costs a bounds
// check, a kind (and range) check and a copy.
class InputBuilder {
 public:
  // False when the slot is out of range or the value does not fit the attribute's type.
  [[gnu::always_inline]] bool principal(uint32_t slot, const Value& v) { return set(principal_, slot, v); }
  [[gnu::always_inline]] bool request(uint32_t requestSlot, const Value& v) { return set(request_, requestSlot, v); }
  [[gnu::always_inline]] bool context(uint32_t slot, const Value& v) { return set(context_, slot, v); }
  bool principal(std::string_view name, const Value& v);
  bool request(std::string_view name, const Value& v);
  bool context(std::string_view name, const Value& v);

  Value makeString(std::string_view s);             // copied
  Value makeSet(std::span<const Value> elems);      // copied, sorted, de-duplicated
  Value makeMap(std::span<const std::pair<std::string_view, Value>> entries);
  Value makeEnum(std::string_view enumName, std::string_view member);  // Absent if unknown

 private:
  friend class Decider;
  explicit InputBuilder(Decider& d) : d_(d) {}
  InputBuilder(Decider& d, const detail::BindTarget& principal, const detail::BindTarget& request,
               const detail::BindTarget& context)
      : d_(d), principal_(principal), request_(request), context_(context) {}
  // Inlined into the caller: a bound scalar costs a few instructions. The checks go by the
  // value's kind (once it equals the attribute's), which the compiler usually knows (the
  // value is built just before the call), so the checks of other kinds fold away.
  [[gnu::always_inline]] bool set(const detail::BindTarget& t, uint32_t slot, const Value& v) {
    if (slot >= t.count) return false;
    const detail::BindSlot& b = t.slots[slot];
    if (v.kind != b.kind) return false;
    switch (v.kind) {
      case Kind::Int:
      case Kind::String:
      case Kind::Duration: break;
      case Kind::Timestamp:
        if (!timestampInRange(v.i)) return false;  // years 0000–9999 only (SPEC §4.5)
        break;
      case Kind::Bool:
        if (uint64_t(v.i) > 1) return false;
        break;
      case Kind::Enum:
        if (v.n != b.enumIndex || uint64_t(v.i) > b.enumMax) return false;
        break;
      case Kind::Set:
      case Kind::Map:
        if (b.check != detail::BindSlot::Check::Full) return setStrings(b, v, t.values[slot], t.present);
        return setChecked(b, v, t.values[slot], t.present);
      case Kind::Ip:
      case Kind::Cidr: return setAddress(b, v, t.values[slot], t.present);
      default: return setChecked(b, v, t.values[slot], t.present);
    }
    // The fields these kinds use, one by one: `v` is usually built just before the call,
    // and one wide load across the several stores that built it would wait for them to
    // reach the cache (no store-to-load forwarding), the cost of many copies.
    Value& out = t.values[slot];
    out.kind = v.kind;
    out.n = v.n;
    out.i = v.i;
    *t.present |= b.bit;
    return true;
  }
  // The out-of-line checks, for a value of the attribute's kind.
  static bool setStrings(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present);
  static bool setAddress(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present);
  bool setChecked(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present);
  Decider& d_;
  detail::BindTarget principal_, request_, context_;  // empty unless bound
};

class Decider {
 public:
  explicit Decider(std::shared_ptr<const LoadedBundle> bundle);
  ~Decider();
  Decider(const Decider&) = delete;
  Decider& operator=(const Decider&) = delete;

  // JSON input (SPEC §7.2) to a decision.
  const Decision& decide(std::string_view inputJson, bool explain = false);
  std::string decideJson(std::string_view inputJson, bool explain = false);

  // Pre-bound input: bind, set every required attribute, then decideBound.
  InputBuilder bind(uint32_t requestType, uint32_t principalType);
  const Decision& decideBound(bool explain = false);

  const LoadedBundle& bundle() const { return *bundle_; }

  struct State;

 private:
  friend class InputBuilder;
  std::shared_ptr<const LoadedBundle> bundle_;
  std::unique_ptr<State> st_;
};

// One line per instruction, per function, e.g. `  0003  LT          r2, r0, r1`.
std::string disassemble(const Bundle& b);
// The same with each function's decision plan after its code, the fast test the runtime
// recognized in it (`  ; fast: compare req.s3 <= k0`, `  ; fast: none`) and whether its
// result is memoized: the shapes the code generator emits and the runtime's recognizer
// expects, made visible (the golden bytecode tests record them).
std::string disassemble(const LoadedBundle& b);
// Header, metadata, section sizes and rules of a loaded bundle.
std::string inspect(const LoadedBundle& b);

}  // namespace pave::rt
