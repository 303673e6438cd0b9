#include "soccr/internal/state_step_model.h"

#include <errno.h>

#include "absl/strings/str_cat.h"
#include "soccr/internal/fin_accounting.h"

namespace soccr::internal {
namespace {

using Kind = StateStep::Kind;

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
