// soccr/internal/state_steps.h: how each TCP state is reached from
// ESTABLISHED, and where FINs sit in the sequence space.
//
// Checkpoint uses the FIN accounting to turn the kernel's numbers (which
// count FINs) into ConnectionState's (which do not); PlanRestore uses the
// step planner; CheckPlanInvariants replays the steps on a model of the
// kernel's state machine.
//
//   if (internal::PeerFinReceived(state)) inq_seq = rcv_nxt - 1;
//   internal::PlanStateSteps(state, plan);  // fills repair/resume_steps
//   absl::Status ok = internal::CheckStateSteps(state, plan);

#ifndef SOCCR_INTERNAL_STATE_STEPS_H_
#define SOCCR_INTERNAL_STATE_STEPS_H_

#include <stdint.h>

#include "absl/status/status.h"
#include "soccr/connection_state.h"
#include "soccr/restore_plan.h"
#include "soccr/tcp_state.h"

namespace soccr::internal {

// Whether a connection in `state` has queued or sent a FIN of its own
// (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK), and whether the peer has
// acknowledged it (FIN_WAIT2).
bool OurFinQueued(TcpState state);
bool OurFinAcked(TcpState state);
// Whether a connection in `state` has received the peer's FIN (CLOSE_WAIT,
// LAST_ACK, CLOSING). For CLOSE the kernel does not say.
bool PeerFinReceived(TcpState state);

// The kernel's rcv_nxt for a connection in `s`: inq_seq, plus one for a
// received FIN.
uint32_t KernelRcvNxt(const ConnectionState& s);

// Fills plan.recv_seq, plan.repair_steps and plan.resume_steps for a
// kConnection restore of `s` (already validated).
void PlanStateSteps(const ConnectionState& s, RestorePlan& plan);

// Internal error naming the first step that does not lead from ESTABLISHED
// to s.state with the right sequence numbers and error.
[[nodiscard]] absl::Status CheckStateSteps(const ConnectionState& s,
                                           const RestorePlan& plan);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_STATE_STEPS_H_
