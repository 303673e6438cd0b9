#include "soccr/internal/state_step_planner.h"

#include <errno.h>

#include <vector>

namespace soccr::internal {
namespace {

using Kind = StateStep::Kind;

StateStep Step(Kind kind, TcpState after, uint32_t seq = 0, uint32_t ack = 0) {
  StateStep s;
  s.kind = kind;
  s.seq = seq;
  s.ack = ack;
  s.state_after = after;
  return s;
}

}  // namespace

void PlanStateSteps(const ConnectionState& s, RestorePlan& plan) {
  const bool unsent = s.unsent_len > 0;
  const uint32_t snd_una = plan.send_seq;
  // Where the receive queue ends before any injected FIN.
  uint32_t data_end = s.inq_seq;
  if (s.state == TcpState::kClose && s.pending_error == EPIPE) {
    // A reset in CLOSE_WAIT: the kernel's rcv_nxt counted the FIN.
    data_end = s.inq_seq - 1;
  }
  plan.recv_seq = data_end - s.inq_len;
  const StateStep shutdown_to_fw1 =
      Step(Kind::kShutdownWrite, TcpState::kFinWait1);
  std::vector<StateStep>& repair = plan.repair_steps;
  std::vector<StateStep>& resume = plan.resume_steps;
  switch (s.state) {
    case TcpState::kFinWait1:
      (unsent ? resume : repair).push_back(shutdown_to_fw1);
      break;
    case TcpState::kFinWait2:
      repair.push_back(shutdown_to_fw1);
      repair.push_back(Step(Kind::kPeerAckOfFin, TcpState::kFinWait2, data_end,
                            s.outq_seq + 1));
      break;
    case TcpState::kCloseWait:
      repair.push_back(
          Step(Kind::kPeerFin, TcpState::kCloseWait, data_end, snd_una));
      break;
    case TcpState::kLastAck:
      repair.push_back(
          Step(Kind::kPeerFin, TcpState::kCloseWait, data_end, snd_una));
      (unsent ? resume : repair)
          .push_back(Step(Kind::kShutdownWrite, TcpState::kLastAck));
      break;
    case TcpState::kClosing: {
      // Our FIN first (it follows the unsent data), then the peer's.
      std::vector<StateStep>& steps = unsent ? resume : repair;
      steps.push_back(shutdown_to_fw1);
      steps.push_back(
          Step(Kind::kPeerFin, TcpState::kClosing, data_end, snd_una));
      break;
    }
    case TcpState::kClose:
      if (s.pending_error == EPIPE) {
        repair.push_back(
            Step(Kind::kPeerFin, TcpState::kCloseWait, data_end, snd_una));
        repair.push_back(
            Step(Kind::kPeerReset, TcpState::kClose, data_end + 1));
      } else {
        repair.push_back(Step(Kind::kPeerReset, TcpState::kClose, data_end));
        if (s.pending_error == 0) {
          repair.push_back(Step(Kind::kClearError, TcpState::kClose));
        }
      }
      break;
    default:
      break;
  }
}

}  // namespace soccr::internal
