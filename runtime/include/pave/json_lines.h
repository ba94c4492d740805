// The order in which to decide many JSON inputs at once (`pave eval -`, a batch request).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pave::rt {

// Fills `order` with the indexes of `inputs` (0 … size-1) in the order to decide them:
// inputs that name the same request type and principal type next to each other, and in
// input order within each group. The answers are then written in input order.
//
// Why: consecutive decisions of different request types walk different rule sets, so the
// processor's caches and branch predictors start cold for each one; grouped, they stay
// warm. At most 2^32 inputs. The decisions do not depend on the order. The grouping key is read cheaply (the
// first two `"type"` members' strings, as written, without parsing the JSON), so inputs
// that are not JSON or put their members in another order are only grouped less well.
void decisionOrder(std::span<const std::string_view> inputs, std::vector<uint32_t>& order);

}  // namespace pave::rt
