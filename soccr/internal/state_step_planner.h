// soccr/internal/state_step_planner.h: how each TCP state is reached from
// ESTABLISHED, as the steps a restore runs (soccr/restore_plan.h's
// StateStep): our FIN by shutdown(SHUT_WR), the peer's FIN, its ACK of our
// FIN and its reset by injected segments. Pure: it plans, it touches no
// socket (soccr/internal/state_step_runner.h runs the steps;
// soccr/internal/state_step_model.h checks them against the kernel's state
// machine).
//
//   internal::PlanStateSteps(state, plan);  // fills repair/resume_steps

#ifndef SOCCR_INTERNAL_STATE_STEP_PLANNER_H_
#define SOCCR_INTERNAL_STATE_STEP_PLANNER_H_

#include "soccr/connection_state.h"
#include "soccr/restore_plan.h"

namespace soccr::internal {

// Fills plan.recv_seq, plan.repair_steps and plan.resume_steps for a
// kConnection restore of `s` (already validated).
void PlanStateSteps(const ConnectionState& s, RestorePlan& plan);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_STATE_STEP_PLANNER_H_
