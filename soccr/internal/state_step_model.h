// soccr/internal/state_step_model.h: a model of the kernel's TCP state
// machine, as far as a restore's state steps rely on it, that replays a
// plan's steps and says whether they reach the state with the right
// sequence numbers and error. For tests and fuzzers (through
// soccr/internal/plan_invariants.h); kernel_oracle_test checks the planner
// against the kernel itself.
//
//   absl::Status ok = internal::CheckStateSteps(state, plan);

#ifndef SOCCR_INTERNAL_STATE_STEP_MODEL_H_
#define SOCCR_INTERNAL_STATE_STEP_MODEL_H_

#include "absl/status/status.h"
#include "soccr/connection_state.h"
#include "soccr/restore_plan.h"

namespace soccr::internal {

// Internal error naming the first step that does not lead from ESTABLISHED
// to s.state with the right sequence numbers and error.
[[nodiscard]] absl::Status CheckStateSteps(const ConnectionState& s,
                                           const RestorePlan& plan);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_STATE_STEP_MODEL_H_
