// Internal to runtime/src/plan/: the steps of buildPlan (plan.cpp), each made by its own
// file, and what they share.
#pragma once

#include <vector>

#include "program.h"

namespace pave::rt {

// What the steps read (the verified bundle and its materialized tables) and the plan they
// fill.
struct PlanContext {
  const Bundle& model;
  DecisionPlan& plan;
  const Value* tables = nullptr;             // LOAD_TABLE
  const TableIndex* tableIndex = nullptr;
};

// plan.cpp: the type of the value a fast test reads for principal type `pt`: the
// attribute's, or for a test on a map entry, the map's value type; null when none.
const TypeDesc* attrType(const PlanContext& ctx, const FastTest& t, uint32_t pt);

// specialize.cpp: the code of `f` for a decision whose principal is of type `pt`:
// `principal is T` and `has(principal.x)` of another type folded to constants, branches on
// constants taken, and what can no longer run removed; empty when nothing folds.
std::vector<Instr> specializeForPrincipal(const Function& f, uint32_t pt);

// dispatch.cpp: the dispatch keys of the rule set of principal type `pt` (RuleSet::keys,
// words, lastMask, Conjunct::keyBit).
void buildDispatch(const PlanContext& ctx, uint32_t pt, RuleSet& set);

// probes.cpp: the probe of a guard in the rule set of principal type `pt` (GuardProbe).
void specializeGuard(const PlanContext& ctx, uint32_t pt, Conjunct& c);

// sharing.cpp: rules of a set with the same conjuncts share their results
// (RuleUse::Share, RuleSet::sharing); then the bitsets of a walk by bitsets
// (RuleSet::walk).
void shareResults(RuleSet& set);
void indexEffects(RuleSet& set);

// grant_tables.cpp: grants by bitsets (RuleSet::grantTable) for the sets that qualify.
void indexGrants(const Schema& s, const RequestType& rt, RuleSet& set);

// bind_slots.cpp: binding without JSON. The principal types' and the context's objects
// (DecisionPlan::principalBind, contextBind), and one request type's
// (RequestIndex::bind), which raises `maxRequestSlot` to its slots.
void bindPrincipalsAndContext(const Schema& s, DecisionPlan& plan);
void bindRequest(const Schema& s, const RequestType& rt, BindObject& o, uint32_t& maxRequestSlot);

}  // namespace pave::rt
