#include "soccr/internal/state_steps.h"

#include <errno.h>

#include <vector>

#include "absl/strings/str_cat.h"

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

// What the kernel does with each step, as far as a restore relies on it.
struct Model {
  TcpState state = TcpState::kEstablished;
  uint32_t rcv_nxt = 0;
  uint32_t error = 0;  // sk_err

  // False if the step is not one the kernel would take this way.
  bool Apply(const StateStep& step, const ConnectionState& s,
             const RestorePlan& plan) {
    switch (step.kind) {
      case Kind::kShutdownWrite:
        if (state == TcpState::kEstablished) {
          state = TcpState::kFinWait1;
        } else if (state == TcpState::kCloseWait) {
          state = TcpState::kLastAck;
        } else {
          return false;
        }
        return true;
      case Kind::kPeerFin:
        // In order, acknowledging nothing we have not seen acknowledged.
        if (step.seq != rcv_nxt || step.ack != plan.send_seq) return false;
        if (state == TcpState::kEstablished) {
          state = TcpState::kCloseWait;
        } else if (state == TcpState::kFinWait1) {
          state = TcpState::kClosing;
        } else {
          return false;
        }
        ++rcv_nxt;
        return true;
      case Kind::kPeerAckOfFin:
        if (step.seq != rcv_nxt || step.ack != s.outq_seq + 1) return false;
        if (state == TcpState::kFinWait1) {
          state = TcpState::kFinWait2;
        } else if (state == TcpState::kLastAck) {
          state = TcpState::kClose;
        } else {
          return false;  // CLOSING would go to TIME_WAIT
        }
        return true;
      case Kind::kPeerReset:
        // RFC 5961: only a reset at exactly rcv_nxt resets.
        if (step.seq != rcv_nxt || state == TcpState::kClose) return false;
        error = state == TcpState::kCloseWait ? EPIPE : ECONNRESET;
        state = TcpState::kClose;
        return true;
      case Kind::kClearError:
        if (state != TcpState::kClose) return false;
        error = 0;
        return true;
    }
    return false;
  }
};

}  // namespace

bool OurFinQueued(TcpState state) {
  return state == TcpState::kFinWait1 || state == TcpState::kFinWait2 ||
         state == TcpState::kClosing || state == TcpState::kLastAck;
}

bool OurFinAcked(TcpState state) { return state == TcpState::kFinWait2; }

bool PeerFinReceived(TcpState state) {
  return state == TcpState::kCloseWait || state == TcpState::kLastAck ||
         state == TcpState::kClosing;
}

uint32_t KernelRcvNxt(const ConnectionState& s) {
  return s.inq_seq + (PeerFinReceived(s.state) ? 1 : 0);
}

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

absl::Status CheckStateSteps(const ConnectionState& s,
                             const RestorePlan& plan) {
  auto broken = [](absl::string_view what) {
    return absl::InternalError(
        absl::StrCat("restore plan invariant: state steps: ", what));
  };
  if (plan.kind != RestoreKind::kConnection) {
    if (!plan.repair_steps.empty() || !plan.resume_steps.empty()) {
      return broken("steps for a socket without a connection");
    }
    return absl::OkStatus();
  }
  if (!plan.resume_steps.empty() &&
      (plan.unsent_data.empty() ||
       plan.resume_steps.front().kind != Kind::kShutdownWrite)) {
    return broken("resume steps that do not start with our FIN after data");
  }
  Model m;
  m.rcv_nxt = plan.recv_seq + static_cast<uint32_t>(plan.recv_data.size());
  bool shutdown_on_resume = false;
  for (const auto* steps : {&plan.repair_steps, &plan.resume_steps}) {
    for (const StateStep& step : *steps) {
      if (!m.Apply(step, s, plan)) {
        return broken(absl::StrCat(StateStepName(step.kind), " from ",
                                   TcpStateName(m.state)));
      }
      if (step.state_after != m.state) {
        return broken(absl::StrCat(StateStepName(step.kind), " claims ",
                                   TcpStateName(step.state_after)));
      }
      if (step.kind == Kind::kShutdownWrite && steps == &plan.resume_steps) {
        shutdown_on_resume = true;
      }
    }
  }
  if (m.state != s.state) {
    return broken(absl::StrCat("they end in ", TcpStateName(m.state)));
  }
  if (m.rcv_nxt != KernelRcvNxt(s)) return broken("rcv_nxt");
  if (OurFinQueued(s.state) && !OurFinAcked(s.state) && s.unsent_len > 0 &&
      !shutdown_on_resume) {
    return broken("our FIN would overtake unsent data");
  }
  if (s.state == TcpState::kClose && m.error != s.pending_error) {
    return broken(
        absl::StrCat("pending error ", m.error, ", want ", s.pending_error));
  }
  return absl::OkStatus();
}

}  // namespace soccr::internal
