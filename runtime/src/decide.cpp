// The decision procedure (SPEC §5): match the applicable rules, lift denies, then
// deny → approval → allow → default deny, with grant merging.
#include <algorithm>
#include <bit>
#include <cstring>

#include "decider_state.h"
#include "pave/decision_errors.h"
#include "pave/literals.h"

namespace pave::rt {
using Err = DecisionErrorCode;
namespace {

constexpr std::string_view kNoMatchingRule = "no-matching-rule";

// The position of the lowest set bit of `x` (not 0), for the loops over bitsets. GCC 12
// surrounds its `tzcnt` for __builtin_ctzll with a zeroing `xor` and a sign extension,
// two of the seven instructions of a loop that lists rules; written out, it is the one
// instruction. `tzcnt` runs as `bsf` on x86-64 processors without BMI1, the same for a
// non-zero operand. Elsewhere, and in the portable build (so that CI tests it too), the
// builtin.
[[gnu::always_inline]] inline size_t lowestBit(uint64_t x) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PAVE_NO_SIMD)
  size_t i;
  asm("tzcnt %1, %0" : "=r"(i) : "r"(x) : "cc");
  return i;
#else
  return size_t(__builtin_ctzll(x));
#endif
}

// Whether string `v` contains string `k`. Out of line: the search in line would stop GCC
// from inlining the probes into the walk.
[[gnu::noinline]] bool containsString(const Value& v, const Value& k) {
  return v.str().find(k.str()) != std::string_view::npos;
}

// GuardProbe::Size on `v` (before `negate`). Out of line, like containsString.
[[gnu::noinline]] Truth sizeProbe(const Conjunct& c, const Value& v) {
  if (v.kind != Kind::String && v.kind != Kind::Set && v.kind != Kind::Map)
    return v.kind == Kind::Absent && c.guarded ? Truth::False : Truth::Undecided;  // has(x) and …: false
  const int64_t n = v.n, k = c.k.i;
  switch (c.cmp) {
    case Op::EQ: return truth(n == k);
    case Op::NE: return truth(n != k);
    case Op::LT: return truth(n < k);
    case Op::LE: return truth(n <= k);
    case Op::GT: return truth(n > k);
    default: return truth(n >= k);
  }
}

// A guard's probe (GuardProbe) on the input's values by root (principal, request,
// context).
[[gnu::always_inline]] inline Truth probe(const Conjunct& c, const Value* const* roots) {
  constexpr Truth kUndecided = Truth::Undecided;
  if (c.probe == GuardProbe::Generic) return kUndecided;
  const Value& v = roots[c.root][c.slot];
  const Value& k = c.k;
  bool r;
  switch (c.probe) {
    case GuardProbe::Has: r = v.kind != Kind::Absent; break;
    case GuardProbe::Bool:
      if (v.kind != Kind::Bool) return kUndecided;
      r = v.i != 0;
      break;
    case GuardProbe::Eq:
      if (v.kind != k.kind) return kUndecided;
      r = v.i == k.i;
      break;
    case GuardProbe::EnumEq:
      if (v.kind != Kind::Enum) return kUndecided;
      r = v.n == k.n && v.i == k.i;
      break;
    case GuardProbe::EnumIn:
      if (v.kind != Kind::Enum || v.n != k.n || uint64_t(v.i) >= 64) return kUndecided;
      r = (uint64_t(k.i) >> v.i) & 1;
      break;
    case GuardProbe::StrEq:
      if (v.kind != Kind::String) return kUndecided;
      r = v.n == k.n && equalBytes(v.s, k.s, v.n);
      break;
    case GuardProbe::MapHas: {
      if (v.kind != Kind::Map) return kUndecided;
      r = mapEntry(v, k.str()) != nullptr;
      break;
    }
    case GuardProbe::StrPrefix:
      if (v.kind != Kind::String) return kUndecided;
      r = v.n >= k.n && equalBytes(v.s, k.s, k.n);
      break;
    case GuardProbe::StrSuffix:
      if (v.kind != Kind::String) return kUndecided;
      r = v.n >= k.n && equalBytes(v.s + (v.n - k.n), k.s, k.n);
      break;
    case GuardProbe::StrContains:
      if (v.kind != Kind::String) return kUndecided;
      r = containsString(v, k);
      break;
    case GuardProbe::Size: {
      const Truth s = sizeProbe(c, v);
      if (s == kUndecided) return kUndecided;
      r = s == Truth::True;
      break;
    }
    case GuardProbe::Lt:
    case GuardProbe::Le:
    case GuardProbe::Gt:
    case GuardProbe::Ge:
      if (v.kind != k.kind) return kUndecided;
      r = c.probe == GuardProbe::Lt ? v.i < k.i : c.probe == GuardProbe::Le ? v.i <= k.i
          : c.probe == GuardProbe::Gt ? v.i > k.i : v.i >= k.i;
      break;
    default: return kUndecided;
  }
  return Truth(int(r) ^ int(c.negate));
}

struct Evaluation {
  const LoadedBundle::Impl& p;
  Decider::State& st;
  const Bundle& m = p.model;
  // The input's values by FastTest::Root, for the probes.
  const Value* const roots[3] = {st.input.principal, st.input.request, st.input.context};

  // A function's value: its fast test when that decides, else its bytecode.
  Value compute(const CompiledFn& f) {
    switch (f.fast.form) {
      case FastTest::Form::None: break;
      case FastTest::Form::Constant: return f.fast.k;
      case FastTest::Form::Load:
        if (const Value* v = fastLoad(f.fast, st.input)) return *v;
        break;
      default:
        if (Truth r = runFastTest(f.fast, st.input); r != Truth::Undecided) return Value::boolean(r == Truth::True);
    }
    return execute(f, st.input, st.scratch);
  }

  Value run(uint32_t fn) {
    const CompiledFn& f = p.plan.fns[fn];
    if (f.memo == kNone) return compute(f);
    if (st.memo_stamp[f.memo] == st.stamp) return st.memo_value[f.memo];
    st.memo_stamp[f.memo] = st.stamp;
    const Value v = compute(f);
    copyFields(st.memo_value[f.memo], v);  // just computed
    return v;
  }

  // Matching when not explaining: the conjuncts with a fast test first, since any false
  // conjunct decides, skipping those the dispatch keys in `decided` already found true; the
  // error reported is still that of the first erring conjunct.
  // Always in line (so is `probe`): with two instances of walkByBits, GCC would otherwise
  // call it, and the walks would save and reload their registers around each call.
  [[gnu::always_inline]] Matched matchGuarded(const RuleUse& use, uint32_t decided, Value& err) {
    uint32_t err_at = kNone;
    auto holds = [&](const Conjunct& c) {
      if (c.key_bit & decided) return true;
      Value v = run(c.fn);
      if (v.isFalse()) return false;
      if (!v.isTrue() && c.index < err_at) {
        err_at = c.index;
        err = v.isError() ? v : Value::error("condition is not a Bool");
      }
      return true;
    };
    for (const Conjunct& c : use.guards) {
      if (c.key_bit & decided) continue;
      const Truth r = probe(c, roots);
      if (r == Truth::False || (r == Truth::Undecided && !holds(c))) return Matched::False;
    }
    for (const Conjunct& c : use.others)
      if (!holds(c)) return Matched::False;
    return err_at == kNone ? Matched::True : Matched::Error;
  }

  // The walk of a rule list without a trace, one rule at a time in the set's order (by
  // name), for sets where no rule shares its result and the dispatch keys decide no rule
  // alone: what a match does (the `matched` callback of run()) happens as each rule is
  // walked.
  template <typename OnResult>
  void walk(const RuleSet& set, uint32_t decided, OnResult& matched) {
    Value err;
    for (uint32_t w = 0; w < set.words; ++w)
      for (uint64_t x = st.bits[w]; x; x &= x - 1) {
        const RuleUse& use = set.rules[size_t(w) * 64 + lowestBit(x)];
        matched(use, matchGuarded(use, decided, err), err);
      }
  }

  // The walk of the other sets (RuleSet::by_bits), which records what matched in bitsets
  // by position (`st.hit`: matched, `st.erred`: an error, reported as it is found) and takes
  // the decision's lists from them afterwards, in the set's order:
  // - a rule whose conjuncts the dispatch keys all decided (RuleSet::decided) matched and
  //   is not walked;
  // - a rule that leads others with the same conjuncts (RuleUse::Share) gives them its
  //   result when it is not an error, and they leave the walk (a follower comes after its
  //   leader and has the same dispatch bits, so it is in the walk only with its leader);
  //   after an error, each follower is walked for its own message.
  // Out of line, so that the plain walk is not slowed down. Returns whether a matching
  // rule is an approve rule. kOneWord: an instance for sets of at most 64 rules (most),
  // whose loops over words the compiler removes.
  template <bool kOneWord>
  [[gnu::noinline]] bool walkByBits(const RuleSet& set, uint32_t decided) {
    const uint32_t words = kOneWord ? 1 : set.words;
    uint64_t* const bits = st.bits.data();
    uint64_t* const hit = st.hit.data();
    uint64_t* const erred = st.erred.data();
    const uint32_t undecided = set.keys_needed & ~decided;
    for (uint32_t w = 0; w < words; ++w) {
      uint64_t known = bits[w] & set.decided[w];
      for (uint32_t u = undecided; u; u &= u - 1) known &= ~set.key_needs[lowestBit(u) * words + w];
      hit[w] = known;
      erred[w] = 0;
      bits[w] &= ~known;
    }
    Value err;
    for (uint32_t w = 0; w < words; ++w)
      for (uint64_t x = bits[w]; x; x &= x - 1) {
        const uint64_t bit = x & -x;
        const RuleUse& use = set.rules[size_t(w) * 64 + lowestBit(x)];
        const Matched result = matchGuarded(use, decided, err);
        if (result == Matched::True) {
          hit[w] |= bit;
        } else if (result == Matched::Error) {
          erred[w] |= bit;
          evalError(use.rule, err);
          continue;
        }
        if (use.share != RuleUse::Share::Leads) continue;
        const uint64_t* followers = set.followers.data() + use.followers;
        if (result == Matched::True) hit[w] |= x & followers[w];
        x &= ~followers[w];
        for (uint32_t v = w + 1; v < words; ++v) {
          if (result == Matched::True) hit[v] |= bits[v] & followers[v];
          bits[v] &= ~followers[v];
        }
      }
    // Allow/approve rules that match are the decision's rules; matching (or erring) denies
    // are its deny rules unless an exception lifts them.
    const uint64_t *rules = set.bitsOf(RuleSet::Rules), *approves = set.bitsOf(RuleSet::Approves),
                   *denies = set.bitsOf(RuleSet::Denies), *exceptions = set.bitsOf(RuleSet::Exceptions),
                   *contributes = set.bitsOf(RuleSet::Contributes);
    // Appends the rules of `x` to `out`, through a pointer kept in a register (the stores
    // are of rule indices, which could alias the list's count in memory).
    auto append = [](DecisionList<uint32_t>& out, uint64_t x, const uint32_t* ids) {
      uint32_t* at = out.end();
      for (; x; x &= x - 1) *at++ = ids[lowestBit(x)];
      out.n = uint32_t(at - out.data());
    };
    bool any_approve = false;
    for (uint32_t w = 0; w < words; ++w) {
      const uint64_t h = hit[w];
      const uint32_t* ids = set.rule_ids.data() + size_t(w) * 64;
      append(st.rules, h & rules[w], ids);
      if (!set.grants_by_bits)  // grantsByBits reads the bitsets instead
        for (uint64_t x = h & contributes[w]; x; x &= x - 1)
          st.matched[st.matched_n++] = &set.rules[size_t(w) * 64 + lowestBit(x)];
      any_approve |= (h & approves[w]) != 0;
      append(st.deny_rules, (h | erred[w]) & denies[w], ids);
      append(st.matching, h & exceptions[w], ids);
    }
    return any_approve;
  }

  Matched match(const Rule& r, int32_t& failed, Value& err) {
    bool saw_error = false;
    for (size_t i = 0; i < r.conjuncts.size(); ++i) {
      Value v = run(r.conjuncts[i]);
      if (v.isFalse()) {
        failed = int32_t(i);
        return Matched::False;
      }
      if (!v.isTrue() && !saw_error) {
        saw_error = true;
        err = v.isError() ? v : Value::error("condition is not a Bool");
      }
    }
    return saw_error ? Matched::Error : Matched::True;
  }

  [[gnu::noinline]] void evalError(uint32_t rule, const Value& err) {
    st.errors.push_back({std::string(errorCode(Err::EvaluationError)), {}, rule, std::string(err.str())});
  }

  // Combines grant values with the merge operator; false on a `unique` conflict.
  bool merge(MergeOp op, Value& acc, const Value& v) {
    switch (op) {
      case MergeOp::Min: if (v.i < acc.i) acc = v; return true;
      case MergeOp::Max: if (v.i > acc.i) acc = v; return true;
      case MergeOp::And: acc = Value::boolean(acc.i && v.i); return true;
      case MergeOp::Or: acc = Value::boolean(acc.i || v.i); return true;
      case MergeOp::Unique: return equalValues(acc, v);
      case MergeOp::Union:
      case MergeOp::Intersect: mergeSets(op == MergeOp::Union, acc, v); return true;
    }
    return false;
  }
  // The union or intersection of two sorted sets. Out of line, as the other cold paths of
  // the grant step, so that its loop keeps its values in registers.
  [[gnu::noinline]] void mergeSets(bool uni, Value& acc, const Value& v) {
    Value* out = st.scratch.arena.allocArray<Value>(size_t(acc.n) + v.n);
    uint32_t n = 0, i = 0, j = 0;
    while (i < acc.n || j < v.n) {
      int c = i == acc.n ? 1 : j == v.n ? -1 : compareValues(acc.elems[i], v.elems[j]);
      if (c == 0) out[n++] = acc.elems[i], ++i, ++j;
      else if (c < 0) { if (uni) out[n++] = acc.elems[i]; ++i; }
      else { if (uni) out[n++] = v.elems[j]; ++j; }
    }
    acc = Value::set(out, n);
  }

  // The approval of a matching approve rule: its groups sorted and de-duplicated (computed
  // at load time when they are constants). False on errors.
  bool approval(const RuleUse& use) {
    if (use.approvers_const) {
      st.approvals.push({use.rule, use.groups, use.quorum});
      return true;
    }
    return evaluatedApproval(use);
  }
  [[gnu::noinline]] bool evaluatedApproval(const RuleUse& use) {
    const Rule& r = m.rules[use.rule];
    Approval a{use.rule, {}, use.quorum};
    bool ok = true;
    auto* groups = st.scratch.arena.allocArray<std::string_view>(r.approvers.size());
    size_t n = 0;
    for (uint32_t fn : r.approvers) {
      Value g = run(fn);
      if (g.kind != Kind::String) {
        evalError(a.rule, g.isError() ? g : Value::error("approver is not a String"));
        ok = false;
        continue;
      }
      groups[n++] = g.str();
    }
    std::sort(groups, groups + n);
    a.groups = {groups, size_t(std::unique(groups, groups + n) - groups)};
    st.approvals.push(a);
    return ok;
  }

  // Lifting: a matching exception active at `now` lifts its deny if that matched; the
  // exceptions that lifted one are the decision's, and the denies they lifted drop out. A
  // deny that matched only through an error is never lifted (SPEC §5 step 3): an exception
  // covers known circumstances, not unknown ones.
  void lift(int64_t now) {
    for (uint32_t r : st.deny_rules) st.deny_state[r] = 1;
    for (const DecisionError& e : st.errors)
      if (e.rule != kNone && st.deny_state[e.rule] == 1) st.deny_state[e.rule] = 3;
    for (uint32_t e : st.matching) {
      const Rule& x = m.rules[e];
      if (now < x.until && (st.deny_state[x.lifts] == 1 || st.deny_state[x.lifts] == 2)) st.deny_state[x.lifts] = 2;
    }
    for (uint32_t e : st.matching) {
      const Rule& x = m.rules[e];
      if (now < x.until && st.deny_state[x.lifts] == 2) st.exceptions.push(e);
    }
    uint32_t kept = 0;
    for (uint32_t r : st.deny_rules) {
      if (st.deny_state[r] == 1 || st.deny_state[r] == 3) st.deny_rules.data()[kept++] = r;
      st.deny_state[r] = 0;
    }
    st.deny_rules.n = kept;
  }

  // The value a rule assigns to a grant.
  Value grantValue(const RuleUse::Grant& grant) {
    switch (grant.form) {
      case RuleUse::Grant::Form::Constant: return grant.k;
      case RuleUse::Grant::Form::Load: {
        const Value& v = roots[grant.root][grant.slot];
        if (v.kind != Kind::Absent && v.kind != Kind::Error) return v;
        break;  // the bytecode reports the error
      }
      case RuleUse::Grant::Form::Run: break;
    }
    return run(grant.fn);
  }

  // Evaluates approvers and grants of the matching allow/approve rules that contribute
  // (RuleUse::contributes), in rule order (so each grant merges its values in rule order).
  // False on errors.
  [[gnu::noinline]] bool grantsAndApprovals(const RequestIndex& ri) {
    bool ok = true;
    defaultGrants(ri);
    const RequestType& rt = m.schema.requests[st.decision.request_type];
    // Loaded once: the stores below are of values, which could alias them.
    const uint32_t stamp = st.stamp, count = st.matched_n;
    const RuleUse* const* const matched = st.matched.data();
    Decider::State::GrantFirst* const firsts = st.grant_first.data();
    Value* const grants = st.grants.data();
    const GrantDecl* const decls = rt.grants.data();
    for (uint32_t i = 0; i < count; ++i) {
      const RuleUse& use = *matched[i];
      if (use.effect == Effect::Approve) ok &= approval(use);
      // Value `v` of grant `g`: the first is stored, the others merged into it.
      auto assign = [&](uint32_t g, const Value& v) {
        Decider::State::GrantFirst& first = firsts[g];
        if (first.stamp != stamp) {
          grants[g] = v;
          first = {stamp, use.rule};
        } else if (!merge(decls[g].merge, grants[g], v)) {
          grantConflict(rt, g, first.rule, use.rule);
          ok = false;
        }
      };
      for (const RuleUse::Grant& grant : use.grants) {
        if (grant.form == RuleUse::Grant::Form::Constant) {  // used where it is: no copy, never an error
          assign(grant.grant, grant.k);
          continue;
        }
        const Value v = computeGrant(grant);
        if (v.isError()) {
          evalError(use.rule, v);
          ok = false;
        } else {
          assign(grant.grant, v);
        }
      }
    }
    return ok;
  }

  // The request type's grants at their defaults (the grant step then assigns them).
  void defaultGrants(const RequestIndex& ri) {
    Value* out = st.grants.data();
    for (const Value& v : ri.grant_defaults) *out++ = v;
    st.grants.n = uint32_t(ri.grant_defaults.size());
  }

  // The grants and approvals of a set walked by bitsets with RuleSet::grants_by_bits: the
  // approvals of the matching approve rules, and each grant's values, first stored, the
  // others merged, from the matching rules that assign it, in set order (as
  // grantsAndApprovals would, rule by rule: the merges and the conflicts reported are the
  // same, and errors are sorted by rule afterwards). False on a conflict. kOneWord as for
  // walkByBits.
  template <bool kOneWord>
  [[gnu::noinline]] bool grantsByBits(const RuleSet& set, const RequestIndex& ri) {
    defaultGrants(ri);
    const uint32_t words = kOneWord ? 1 : set.words;
    const uint64_t* const hit = st.hit.data();
    const uint64_t* const approves = set.bitsOf(RuleSet::Approves);
    Approval* approvals = st.approvals.end();
    for (uint32_t w = 0; w < words; ++w)
      for (uint64_t x = hit[w] & approves[w]; x; x &= x - 1)
        *approvals++ = set.approval_at[size_t(w) * 64 + lowestBit(x)];
    st.approvals.n = uint32_t(approvals - st.approvals.data());
    const RequestType& rt = m.schema.requests[st.decision.request_type];
    const uint32_t count = uint32_t(rt.grants.size()), n = uint32_t(set.rules.size());
    Value* const grants = st.grants.data();
    bool ok = true;
    for (uint32_t g = 0; g < count; ++g) {
      const uint64_t* const assigns = set.grant_rules.data() + size_t(g) * words;
      const RuleSet::GrantSource* const src = set.grant_src.data() + size_t(g) * n;
      // Calls fn(position, value) for each matching rule that assigns grant g, in order.
      auto each = [&](auto&& fn) {
        for (uint32_t w = 0; w < words; ++w)
          for (uint64_t x = hit[w] & assigns[w]; x; x &= x - 1) {
            const uint32_t pos = w * 64 + uint32_t(lowestBit(x));
            const RuleSet::GrantSource& s = src[pos];
            fn(pos, s.k ? *s.k : roots[s.root][s.slot]);
          }
      };
      const MergeOp op = rt.grants[g].merge;
      if (op == MergeOp::Min || op == MergeOp::Max) {  // the first least (greatest) value
        const Value* best = nullptr;
        each([&](uint32_t, const Value& v) {
          if (!best || (op == MergeOp::Min ? v.i < best->i : v.i > best->i)) best = &v;
        });
        if (best) grants[g] = *best;
        continue;
      }
      uint32_t first = kNone;  // the first rule that assigns it
      each([&](uint32_t pos, const Value& v) {
        if (first == kNone) {
          grants[g] = v;
          first = set.rule_ids[pos];
        } else if (!merge(op, grants[g], v)) {
          grantConflict(rt, g, first, set.rule_ids[pos]);
          ok = false;
        }
      });
    }
    return ok;
  }

  // A grant's value that is not a constant (grantValue out of line, like the other cold
  // paths of grantsAndApprovals).
  [[gnu::noinline]] Value computeGrant(const RuleUse::Grant& grant) { return grantValue(grant); }
  // A `unique` grant given different values by rules `first` and `rule`.
  [[gnu::noinline]] void grantConflict(const RequestType& rt, uint32_t g, uint32_t first, uint32_t rule) {
    st.errors.push_back({std::string(errorCode(Err::GrantConflict)), {}, rule,
                         "grant '" + std::string(p.str(rt.grants[g].name)) + "' is assigned different values by '" +
                             std::string(p.str(m.rules[first].name)) + "' and '" +
                             std::string(p.str(m.rules[rule].name)) + "'"});
  }

  // The grants of an allow decision where at most one matching rule assigns grants (the
  // only one in st.matched, if any): the defaults, then that rule's values (nothing to
  // merge, no approvals). Out of line, like grantsAndApprovals. False on errors.
  [[gnu::noinline]] bool oneAllowGrants(const RequestIndex& ri) {
    defaultGrants(ri);
    if (st.matched_n == 0) return true;  // no matching rule assigns grants
    Value* const grants = st.grants.data();
    const RuleUse& use = *st.matched[0];
    bool ok = true;
    for (const RuleUse::Grant& grant : use.grants) {
      if (grant.form == RuleUse::Grant::Form::Constant) {  // used where it is
        grants[grant.grant] = grant.k;
        continue;
      }
      const Value v = grantValue(grant);
      if (v.isError()) {
        evalError(use.rule, v);
        ok = false;
      } else {
        grants[grant.grant] = v;
      }
    }
    return ok;
  }

  // Narrows `set` by the input's values (see DispatchKey): leaves in `st.bits` the rules
  // that can match, and returns the keys whose value is one they name (the guards those
  // keys decide hold).
  uint32_t select(const RuleSet& set) {
    const uint32_t words = set.words;
    if (words == 0) return 0;  // no rules
    uint64_t* acc = st.bits.data();  // sized for the largest set (prepare)
    for (uint32_t w = 1; w + 1 < words; ++w) acc[w] = ~uint64_t(0);
    if (words > 1) acc[words - 1] = set.last_mask;
    // The first word in a register (most sets have at most 64 rules).
    uint64_t acc0 = words == 1 ? set.last_mask : ~uint64_t(0);
    uint32_t decided = 0;
    // The keys' array and count loaded once (as far as the compiler knows, the calls and
    // stores in the loop could change them).
    const DispatchKey* const keys = set.keys.data();
    for (uint32_t k = 0, n = uint32_t(set.keys.size()); k < n; ++k) {
      const DispatchKey& key = keys[k];
      const Value* v = &roots[size_t(key.root)][key.slot];
      if (key.entry && (v->kind != Kind::Map || !(v = mapEntry(*v, key.entry_key)))) continue;
      if (v->kind != key.kind) continue;  // absent: every rule stays
      uint32_t row;
      if (key.kind == Kind::String) {
        const int32_t named = key.strings.find(v->str());
        row = named < 0 ? key.values : uint32_t(named);
      } else {
        if (uint64_t(v->i) >= key.values) continue;
        row = uint32_t(v->i);
      }
      if (row < key.values) decided |= uint32_t(1) << k;
      const uint64_t* bits = key.bits.data() + size_t(row) * words;
      acc0 &= bits[0];
      for (uint32_t w = 1; w < words; ++w) acc[w] &= bits[w];
    }
    acc[0] = acc0;
    return decided;
  }

  void run(bool explain) {
    Decision& d = st.decision;
    const RequestIndex& ri = p.plan.requests[d.request_type];
    const int64_t now = st.input.context[p.plan.time_slot].i;
    bool any_approve = false;
    const RuleSet* by_bits = nullptr;  // a set walked by bitsets whose grants are taken so too
    st.matched_n = 0;
    st.matching.clear();
    // What a match does (walkByBits does the same by bitsets): allow/approve rules that
    // match are the decision's rules; matching (or erring) denies are its deny rules unless
    // an exception lifts them below.
    auto matched = [&](const RuleUse& use, Matched result, const Value& err) {
      if (result == Matched::Error) evalError(use.rule, err);
      switch (use.effect) {
        case Effect::Deny:
          if (result != Matched::False) st.deny_rules.push(use.rule);
          break;
        case Effect::Exception:
          if (result == Matched::True) st.matching.push(use.rule);
          break;
        case Effect::Approve:
        case Effect::Allow:
          if (result != Matched::True) break;
          st.rules.push(use.rule);
          if (use.contributes) st.matched[st.matched_n++] = &use;
          any_approve |= use.effect == Effect::Approve;
          break;
      }
    };
    if (explain) {
      // Every applicable rule, each traced.
      Value err;
      for (const RuleUse& use : ri.rules) {
        const Rule& rule = m.rules[use.rule];
        int32_t failed = -1;
        Matched result = match(rule, failed, err);
        matched(use, result, err);
        st.trace.push_back({use.rule, result, rule.effect == Effect::Exception && now < rule.until,
                           result == Matched::False ? failed : -1});
      }
    } else {
      // Only the rules that can match for this principal type and these dispatch values.
      const RuleSet& set = ri.by_principal[st.input.principal_type];
      const uint32_t decided = select(set);
      if (set.by_bits) {
        any_approve = set.words == 1 ? walkByBits<true>(set, decided) : walkByBits<false>(set, decided);
        if (set.grants_by_bits) by_bits = &set;
      } else {
        walk(set, decided, matched);
      }
    }
    if (!st.matching.empty()) lift(now);

    if (!st.deny_rules.empty()) {
      d.outcome = Outcome::Deny;
      for (uint32_t r : st.deny_rules)
        st.reasons.push(m.rules[r].because != kNone ? p.str(m.rules[r].because) : p.str(m.rules[r].name));
    } else if (!st.rules.empty() && !st.errors.empty()) [[unlikely]] {
      // Some allow, approve or exception rule's condition erred: a decision that carries an
      // evaluation error is `deny` (SPEC §5 step 3); its `errors` say why.
      d.outcome = Outcome::Deny;
    } else if (!st.rules.empty()) {
      // Only the contributing rules (st.matched, or the bitsets) assign grants or name
      // approvers.
      const bool one_allow = !any_approve && st.matched_n <= 1;
      bool ok;
      if (by_bits)
        ok = by_bits->words == 1 ? grantsByBits<true>(*by_bits, ri) : grantsByBits<false>(*by_bits, ri);
      else
        ok = one_allow ? oneAllowGrants(ri) : grantsAndApprovals(ri);
      if (ok) {
        d.outcome = any_approve ? Outcome::Approval : Outcome::Allow;
      } else {
        d.outcome = Outcome::Deny;
        st.grants.clear();
        st.approvals.clear();
      }
    } else {
      d.outcome = Outcome::Deny;
      st.reasons.push(kNoMatchingRule);
    }
    if (st.errors.size() > 1) {
      std::stable_sort(st.errors.begin(), st.errors.end(), [&](const DecisionError& x, const DecisionError& y) {
        return p.str(m.rules[x.rule].name) < p.str(m.rules[y.rule].name);
      });
    }
  }
};

// Whether an Ip or Cidr has a family, and a Cidr a prefix, in range.
inline bool addressFits(const Value& v) {
  return v.kind == Kind::Ip ? v.family == 4 || v.family == 6
                            : (v.family == 4 && v.prefix <= 32) || (v.family == 6 && v.prefix <= 128);
}

bool fitsScalar(const LoadedBundle::Impl& p, const TypeDesc& t, const Value& v) {
  if (v.kind != kindOf(t.kind)) return false;
  switch (t.kind) {
    case TypeKind::Bool: return v.i == 0 || v.i == 1;
    case TypeKind::Enum:
      return v.n == t.enum_index && v.i >= 0 && uint64_t(v.i) < p.model.schema.enums[t.enum_index].members.size();
    case TypeKind::Ip:
    case TypeKind::Cidr: return addressFits(v);
    default: return true;
  }
}

// An Ip or Cidr built by hand may carry leftover bytes past its family's length, a prefix
// on an Ip, or host bits on a Cidr: this stores `v` (which fits) into `out` (not `v`) the
// way the JSON decoder would have made it. The words are masked in registers and stored
// once (a Value taken by value and changed in place went through the stack twice).
[[gnu::always_inline]] inline void storeCanonicalAddr(const Value& v, Value& out) {
  const Kind kind = v.kind;
  const uint8_t family = v.family, prefix = kind == Kind::Cidr ? v.prefix : 0;
  const unsigned keep = kind == Kind::Cidr ? prefix : family == 4 ? 32 : 128;  // bits that count (≤ 128)
  // The 16 bytes as two words, each masked to its first bits (in address order).
  auto masked = [](const uint8_t* at, unsigned bits) {
    uint64_t w;
    std::memcpy(&w, at, 8);
    if (bits >= 64) return w;
    if (bits == 0) return uint64_t(0);
    uint64_t mask = ~uint64_t(0) << (64 - bits);  // the first bits, most significant first
    if constexpr (std::endian::native == std::endian::little) mask = __builtin_bswap64(mask);
    return w & mask;
  };
  const uint64_t w0 = masked(v.ip, keep), w1 = masked(v.ip + 8, keep > 64 ? keep - 64 : 0);
  if (family == 6 && w0 == 0 && keep >= 96) [[unlikely]] {
    uint8_t bytes[16];
    std::memcpy(bytes, &w0, 8);
    std::memcpy(bytes + 8, &w1, 8);
    if (isMappedIp4(bytes)) {  // ::ffff:a.b.c.d is a.b.c.d (SPEC §2.1), as the JSON decoder makes it
      out.kind = kind;
      out.family = 4;
      out.prefix = uint8_t(prefix ? prefix - 96 : 0);
      out.pad = 0;
      out.n = 0;
      std::memset(out.ip, 0, sizeof out.ip);
      std::memcpy(out.ip, bytes + 12, 4);
      return;
    }
  }
  out.kind = kind;
  out.family = family;
  out.prefix = prefix;
  out.pad = 0;
  out.n = 0;
  std::memcpy(out.ip, &w0, 8);
  std::memcpy(out.ip + 8, &w1, 8);
}

bool isAddr(TypeKind k) { return k == TypeKind::Ip || k == TypeKind::Cidr; }

// A bound collection (that fits `type`) as the decider stores it: a set of addresses is
// copied into the arena with each address canonical, and re-sorted (the schema allows
// addresses in sets, not in maps; scalar addresses take InputBuilder::setAddress).
Value canonicalBound(const LoadedBundle::Impl& p, TypeId type, const Value& v, Arena& arena) {
  const auto& types = p.model.schema.types;
  const TypeDesc& t = types[type];
  if (t.kind != TypeKind::Set || !isAddr(types[t.elem].kind)) return v;
  Value* elems = arena.allocArray<Value>(v.n);
  for (uint32_t i = 0; i < v.n; ++i) storeCanonicalAddr(v.elems[i], elems[i]);
  Value out = v;
  out.elems = elems;
  out.n = sortUnique(elems, v.n);
  return out;
}

}  // namespace

bool valueFits(const LoadedBundle::Impl& p, TypeId type, const Value& v) {
  const auto& types = p.model.schema.types;
  const TypeDesc& t = types[type];
  if (t.kind != TypeKind::Set && t.kind != TypeKind::Map) return fitsScalar(p, t, v);
  if (v.kind != kindOf(t.kind) || (v.n && !v.elems)) return false;
  const bool map = t.kind == TypeKind::Map;
  const size_t stride = map ? 2 : 1;
  const TypeDesc& elem = types[t.elem];
  if (elem.kind == TypeKind::String) {  // the common Set<String> and Map<String, String>
    for (uint32_t i = 0; i < v.n; ++i) {
      const Value& key = v.elems[stride * i];
      if (key.kind != Kind::String || (map && v.elems[2 * i + 1].kind != Kind::String)) return false;
      if (i > 0 && compareValues(v.elems[stride * (i - 1)], key) >= 0) return false;
    }
    return true;
  }
  for (uint32_t i = 0; i < v.n; ++i) {
    const Value& key = v.elems[stride * i];
    if (map ? key.kind != Kind::String : !fitsScalar(p, elem, key)) return false;
    if (map && !fitsScalar(p, elem, v.elems[2 * i + 1])) return false;
    if (i > 0 && compareValues(v.elems[stride * (i - 1)], key) >= 0) return false;
  }
  return true;
}

void Decider::State::prepare(const LoadedBundle::Impl& p) {
  if (scratch.regs.size() < p.plan.max_regs) scratch.regs.resize(p.plan.max_regs);
  principal.resize(std::max<size_t>(p.plan.max_principal_attrs, 1));
  request.resize(std::max<size_t>(p.plan.max_request_slot, 1));
  context.resize(std::max<size_t>(p.model.schema.context.size(), 1));
  deny_state.resize(p.model.rules.size());
  memo_stamp.resize(p.plan.memo_count, 0);
  size_t grants_max = 0;
  for (const RequestType& rt : p.model.schema.requests) grants_max = std::max(grants_max, rt.grants.size());
  grant_first.resize(grants_max);
  size_t set_words = 1;
  for (const RequestIndex& ri : p.plan.requests)
    for (const RuleSet& set : ri.by_principal) set_words = std::max<size_t>(set_words, set.words);
  bits.resize(set_words);
  hit.resize(set_words);
  erred.resize(set_words);
  // A decision walks each applicable rule of its request type at most once, so at most
  // that many rules (and approvals, matching exceptions, deny rules) enter its lists; the
  // reasons are its deny rules' or one.
  size_t applicable = 0;
  for (const RequestIndex& ri : p.plan.requests) applicable = std::max(applicable, ri.rules.size());
  matched.resize(applicable);
  for (auto* list : {&rules, &deny_rules, &exceptions, &matching}) list->buf.resize(applicable);
  approvals.buf.resize(applicable);
  grants.buf.resize(grants_max);
  reasons.buf.resize(applicable + 1);
  memo_value.resize(p.plan.memo_count);
}

void Decider::State::reset() {
  scratch.arena.reset();
  input = Input{};
  input.principal = principal.data();
  input.request = request.data();
  input.context = context.data();
  bound = false;
  clearDecision(false);
  decision.request_type = kNone;
}

[[gnu::always_inline]] inline void Decider::State::clearDecision(bool explain) {
  Decision& d = decision;
  d.outcome = Outcome::Deny;
  rules.clear();
  deny_rules.clear();
  exceptions.clear();
  approvals.clear();
  grants.clear();
  reasons.clear();
  errors.clear();
  trace.clear();
  d.explained = explain;
}

void evaluate(const LoadedBundle::Impl& p, Decider::State& st, bool explain) {
  if (++st.stamp == 0) {  // wrapped: forget every stamp
    std::fill(st.memo_stamp.begin(), st.memo_stamp.end(), 0);
    std::fill(st.grant_first.begin(), st.grant_first.end(), Decider::State::GrantFirst{});
    st.stamp = 1;
  }
  Evaluation{p, st}.run(explain);
}

Decider::Decider(std::shared_ptr<const LoadedBundle> bundle) : bundle_(std::move(bundle)), st_(std::make_unique<State>()) {
  st_->prepare(bundle_->impl());
  st_->reset();
}
Decider::~Decider() = default;

const Decision& Decider::decide(std::string_view input_json, bool explain) {
  const auto& p = bundle_->impl();
  st_->reset();
  st_->decision.explained = explain;
  if (decodeJsonInput(p, input_json, *st_)) evaluate(p, *st_, explain);
  st_->publish();
  return st_->decision;
}

std::string Decider::decideJson(std::string_view input_json, bool explain) {
  const Decision& d = decide(input_json, explain);
  std::string out;
  out.reserve(512);
  toJson(*bundle_, d, out);
  return out;
}

InputBuilder Decider::bind(uint32_t request_type, uint32_t principal_type) {
  const auto& p = bundle_->impl();
  State& st = *st_;
  st.scratch.arena.reset();  // only the input: decideBound clears the decision
  if (request_type >= p.plan.request_count || principal_type >= p.plan.principal_count) {
    st.bound = false;
    return InputBuilder(*this);
  }
  st.bound = true;
  st.input.request_type = request_type;
  st.input.principal_type = principal_type;
  st.decision.request_type = request_type;
  // No attribute set yet. A tracked object's unset slots are cleared by decideBound; an
  // untracked one is cleared here, the whole range (only the kind counts in an absent
  // value; in the request's range, slots of other request types too: no rule of this type
  // reads them).
  auto start = [&](const BindObject& o, std::vector<Value>& values, FastTest::Root root) {
    uint64_t* present = &st.present[size_t(root)];
    *present = 0;
    if (!o.tracked)
      for (uint32_t i = o.first; i < o.end; ++i) values[i].kind = Kind::Absent;
    return detail::BindTarget{o.slots.data(), values.data(), o.count, present};
  };
  return InputBuilder(*this, start(p.plan.principal_bind[principal_type], st.principal, FastTest::Root::Principal),
                      start(p.plan.requests[request_type].bind, st.request, FastTest::Root::Request),
                      start(p.plan.context_bind, st.context, FastTest::Root::Context));
}

const Decision& Decider::decideBound(bool explain) {
  const auto& p = bundle_->impl();
  State& st = *st_;
  Decision& d = st.decision;
  st.clearDecision(explain);
  if (!st.bound) {
    d.request_type = kNone;
    st.errors.push_back({std::string(errorCode(Err::UnknownRequestType)), "$.type", kNone, "no request type bound"});
    st.publish();
    return d;
  }
  const Schema& s = p.model.schema;
  const RequestType& rt = s.requests[st.input.request_type];
  const PrincipalType& pt = s.principals[st.input.principal_type];
  if (!p.plan.requests[st.input.request_type].allows[st.input.principal_type])
    st.errors.push_back(
        {std::string(errorCode(Err::PrincipalNotAllowed)), "$.principal.type", kNone, "principal type not allowed"});
  // Clears what binding left unset (tracked objects), and tells whether every required
  // attribute is set.
  auto settle = [](const BindObject& o, uint64_t present, std::vector<Value>& values) {
    if (o.tracked) {
      for (uint64_t unset = o.all & ~present; unset; unset &= unset - 1)
        values[o.first + lowestBit(unset)].kind = Kind::Absent;
      return (o.required_mask & ~present) == 0;
    }
    for (uint32_t a : o.required)
      if (values[a].kind == Kind::Absent) return false;
    return true;
  };
  // Every object is settled (each clears its own unset slots), whatever the others give.
  const bool request_set = settle(p.plan.requests[st.input.request_type].bind,
                                  st.present[size_t(FastTest::Root::Request)], st.request);
  const bool principal_set = settle(p.plan.principal_bind[st.input.principal_type],
                                    st.present[size_t(FastTest::Root::Principal)], st.principal);
  const bool context_set = settle(p.plan.context_bind, st.present[size_t(FastTest::Root::Context)], st.context);
  if (!(request_set & principal_set & context_set)) {  // rare: name the missing attributes
    auto missing = [&](const char* root, StrId name) {
      st.errors.push_back({std::string(errorCode(Err::MissingAttribute)),
                           std::string("$.") + root + "." + std::string(p.str(name)), kNone,
                           "missing attribute '" + std::string(p.str(name)) + "'"});
    };
    for (size_t a = 0; a < pt.attrs.size(); ++a)
      if (!pt.attrs[a].optional && st.principal[a].kind == Kind::Absent) missing("principal", pt.attrs[a].name);
    for (const RequestAttr& a : rt.attrs)
      if (!a.optional && st.request[a.slot].kind == Kind::Absent) missing("request", s.request_slots[a.slot].name);
    for (size_t a = 0; a < s.context.size(); ++a)
      if (!s.context[a].optional && st.context[a].kind == Kind::Absent) missing("context", s.context[a].name);
  }
  if (st.errors.empty()) evaluate(p, st, explain);
  st.publish();
  return d;
}

// ---- InputBuilder ----

// The kinds InputBuilder::set does not store inline: collections must be sorted and
// duplicate-free with elements of their type, and addresses are made canonical. Scalar
// addresses (setAddress) and Set<String> and Map<String, String>, the common collections
// (setStrings), have their own functions; the rest takes the general type check.
namespace {
// Stores `v` field by field (as InputBuilder::set does: `v` was usually built just before)
// and marks the attribute set.
bool storeCollection(const Value& v, Value& out, uint64_t* present, uint64_t bit) {
  out.kind = v.kind;
  out.n = v.n;
  out.elems = v.elems;
  *present |= bit;
  return true;
}

// Whether string `x` sorts before `y` (bytewise), when their first bytes do not decide.
[[gnu::noinline]] bool stringBefore(const Value& x, const Value& y) {
  const uint32_t common = std::min(x.n, y.n);
  const int c = common ? std::memcmp(x.s, y.s, common) : 0;  // "" may have no pointer
  return c < 0 || (c == 0 && x.n < y.n);
}

// storeSortedStrings when some neighbours' first bytes are equal (or a string is empty):
// every element's kind checked, and every neighbour compared in full.
[[gnu::noinline]] bool storeSortedStringsSlow(const detail::BindSlot& b, const Value& v, Value& out,
                                              uint64_t* present) {
  const size_t stride = b.check == detail::BindSlot::Check::StringMap ? 2 : 1;
  const Value* const end = v.elems + stride * v.n;
  for (const Value* x = v.elems; x < end; ++x)
    if (x->kind != Kind::String) return false;
  for (const Value* key = v.elems + stride; key < end; key += stride)
    if (!stringBefore(key[-ptrdiff_t(stride)], *key)) return false;
  return storeCollection(v, out, present, b.bit);
}

// Stores a Set<String> or Map<String, String> value of two or more elements (map: entries)
// if they are strings in sorted order without duplicates. When first bytes decide the
// order (the usual case) it calls nothing; at the first neighbours they do not decide, it
// hands the whole value to storeSortedStringsSlow in a tail call (so it saves no registers).
[[gnu::noinline]] bool storeSortedStrings(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  const bool map = b.check == detail::BindSlot::Check::StringMap;
  const size_t stride = map ? 2 : 1;
  const Value* key = v.elems;
  const Value* const end = key + stride * v.n;
  if (key->kind != Kind::String || (map && key[1].kind != Kind::String)) return false;
  for (const Value* next = key + stride; next < end; key = next, next += stride) {  // sorted: key < next
    if (next->kind != Kind::String || (map && next[1].kind != Kind::String)) return false;
    if (!key->n || !next->n || key->s[0] == next->s[0]) return storeSortedStringsSlow(b, v, out, present);
    if (uint8_t(key->s[0]) > uint8_t(next->s[0])) return false;
  }
  return storeCollection(v, out, present, b.bit);
}
}  // namespace

// Set<String> and Map<String, String>. Collections of at most one element, common in bound
// inputs, are checked here; longer ones in a tail call (so this saves no registers).
bool InputBuilder::setStrings(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  if (v.n && !v.elems) return false;
  if (v.n > 1) return storeSortedStrings(b, v, out, present);
  if (v.n == 1 && (v.elems[0].kind != Kind::String ||
                   (b.check == detail::BindSlot::Check::StringMap && v.elems[1].kind != Kind::String)))
    return false;
  return storeCollection(v, out, present, b.bit);
}

// Ip and Cidr: a family and prefix in range, stored canonical. Calls nothing, so that it
// saves no registers.
bool InputBuilder::setAddress(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  if (!addressFits(v)) return false;
  storeCanonicalAddr(v, out);
  *present |= b.bit;
  return true;
}

// Collections of other elements (the general type check), and values of no attribute.
bool InputBuilder::setChecked(const detail::BindSlot& b, const Value& v, Value& out, uint64_t* present) {
  if (b.type == kNone || v.kind != b.kind) return false;
  const auto& p = d_.bundle_->impl();
  if (!valueFits(p, b.type, v)) return false;
  out = canonicalBound(p, b.type, v, d_.st_->scratch.arena);
  *present |= b.bit;
  return true;
}

bool InputBuilder::principal(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  if (!d_.st_->bound) return false;
  const auto& attrs = p.model.schema.principals[d_.st_->input.principal_type].attrs;
  for (uint32_t a = 0; a < attrs.size(); ++a)
    if (p.str(attrs[a].name) == name) return principal(a, v);
  return false;
}

bool InputBuilder::request(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  if (!d_.st_->bound) return false;
  const Schema& s = p.model.schema;
  for (const RequestAttr& a : s.requests[d_.st_->input.request_type].attrs)
    if (p.str(s.request_slots[a.slot].name) == name) return request(a.slot, v);
  return false;
}

bool InputBuilder::context(std::string_view name, const Value& v) {
  const auto& p = d_.bundle_->impl();
  const auto& ctx = p.model.schema.context;
  for (uint32_t a = 0; a < ctx.size(); ++a)
    if (p.str(ctx[a].name) == name) return context(a, v);
  return false;
}

Value InputBuilder::makeString(std::string_view s) { return Value::string(d_.st_->scratch.arena.copy(s)); }

Value InputBuilder::makeSet(std::span<const Value> elems) {
  Value* out = d_.st_->scratch.arena.allocArray<Value>(elems.size());
  std::copy(elems.begin(), elems.end(), out);
  return Value::set(out, sortUnique(out, uint32_t(elems.size())));
}

Value InputBuilder::makeMap(std::span<const std::pair<std::string_view, Value>> entries) {
  std::vector<std::pair<std::string_view, Value>> sorted(entries.begin(), entries.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.first < y.first; });
  Value* out = d_.st_->scratch.arena.allocArray<Value>(2 * sorted.size());
  uint32_t n = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (n > 0 && out[2 * (n - 1)].str() == sorted[i].first) continue;  // first value of a key wins
    out[2 * n] = makeString(sorted[i].first);
    out[2 * n + 1] = sorted[i].second;
    ++n;
  }
  return Value::map(out, n);
}

Value InputBuilder::makeEnum(std::string_view enum_name, std::string_view member) {
  const auto& p = d_.bundle_->impl();
  const auto& enums = p.model.schema.enums;
  for (uint32_t e = 0; e < enums.size(); ++e) {
    std::string_view name = p.str(enums[e].name);
    if (name != enum_name && !(name.ends_with(enum_name) && name.size() > enum_name.size() &&
                               name[name.size() - enum_name.size() - 1] == '.'))
      continue;
    for (uint32_t k = 0; k < enums[e].members.size(); ++k)
      if (p.str(enums[e].members[k]) == member) return Value::enumMember(e, k);
  }
  return Value();
}

}  // namespace pave::rt
