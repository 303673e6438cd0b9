// soccr/internal/plan_invariants.h: checks a RestorePlan against every
// promise PlanRestore() makes. For tests and fuzzers (testonly).
//
//   absl::StatusOr<soccr::RestorePlan> plan = soccr::PlanRestore(state);
//   if (plan.ok()) {
//     absl::Status broken = soccr::internal::CheckPlanInvariants(state, *plan);
//   }

#ifndef SOCCR_INTERNAL_PLAN_INVARIANTS_H_
#define SOCCR_INTERNAL_PLAN_INVARIANTS_H_

#include "absl/status/status.h"
#include "soccr/connection_state.h"
#include "soccr/restore_plan.h"

namespace soccr::internal {

// Internal error if `plan` breaks an invariant PlanRestore(state) promises:
// the queue pieces add up to the state's bytes in order, sequence numbers
// line up, every option is valid, the state steps lead to the state with
// the right sequence numbers (replayed on a model of the kernel's state
// machine, soccr/internal/state_step_model.h), and so on.
[[nodiscard]] absl::Status CheckPlanInvariants(const ConnectionState& state,
                                               const RestorePlan& plan);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PLAN_INVARIANTS_H_
