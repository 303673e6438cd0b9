// soccr/internal/in_flight.h: what a restored connection had in flight (sent
// and unacknowledged data, our FIN), held back until the resume asks the
// peer how much of it arrived.
//
// A restored socket has no RTT estimate, so whatever it holds as sent waits
// for a retransmission timer (1 s with SACK, 3 s without; longer in the FIN
// states), and a restore cannot simply queue it as unsent either: where the
// peer already has some of it, the peer's ACKs then acknowledge beyond
// snd_nxt, the kernel discards them ("ack of unsent data"), and the
// connection stalls for good. So the restore keeps those bytes out of the
// socket, and on resume, still in repair mode:
//
//   1. a probe (one byte at snd_una - 1, which the peer already has and
//      answers at once with its rcv_nxt; a data segment, so never rate
//      limited as out-of-window ACKs are) goes to the peer from a raw
//      socket, and a raw socket captures the answer, for at most
//      ResumeOptions::in_flight_probe_timeout;
//   2. the bytes the peer has are written as sent and acknowledged by an
//      injected ACK carrying the peer's own numbers; if it has our FIN too,
//      the FIN steps run in repair mode and that ACK moves the state on;
//   3. the bytes it lacks become unsent data: the resume sends them at once
//      under the restored window, followed by our FIN.
// Without an answer in time (the peer's packets still blocked, say), where
// the probe cannot be sent (no CAP_NET_RAW), or with an answer that makes
// no sense, everything held goes back exactly as a plain restore has it:
// sent and unacknowledged, for the timers.
//
//   absl::StatusOr<bool> settled =
//       SettleInFlight(sys, fd, pending, absl::Milliseconds(50), ctx);

#ifndef SOCCR_INTERNAL_IN_FLIGHT_H_
#define SOCCR_INTERNAL_IN_FLIGHT_H_

#include <netinet/tcp.h>
#include <stdint.h>

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/queue_bytes.h"
#include "soccr/restore_plan.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

struct PendingResume;

// The part of a restore that waits for the peer's answer.
struct HeldInFlight {
  // Sent and unacknowledged when checkpointed; its first byte is snd_una.
  QueueBytes data;
  uint32_t snd_una = 0;
  // The repair-mode state steps from our FIN on (shutdown, and for CLOSING
  // the peer's FIN after it), when our FIN was sent and unacknowledged.
  std::vector<StateStep> fin_steps;
  // The saved window, to set again after the FIN steps in repair mode.
  std::optional<struct tcp_repair_window> window;
  // The probe's window field: our receive window as the peer knows it.
  uint16_t probe_window = 0;

  // Progress, so that a resume retried after an error neither probes nor
  // writes twice: whether the probe was made, the peer's rcv_nxt and
  // window if it answered, and how many bytes of `data` are in the socket.
  bool decided = false;
  std::optional<uint32_t> peer_rcv_nxt;
  uint16_t peer_window = 0;
  size_t written = 0;

  bool empty() const { return data.empty() && fin_steps.empty(); }
};

// Runs steps 1-3 above on `fd` (a restored socket, still in repair mode)
// for what `pending.in_flight` holds, and leaves in `pending` what the
// resume must still send (pending.requeue, then pending.unsent) and do
// (pending.steps). A zero `timeout` sends no probe: everything held goes
// back as sent. Returns whether the peer's answer settled it (the resume
// then needs no window probe of its own). Blocks for at most `timeout`
// plus 500 ms for each segment it injects locally (at most two: the
// peer's FIN in CLOSING, then its ACK).
// Errors name the step and the call; what is held stays held.
[[nodiscard]] absl::StatusOr<bool> SettleInFlight(const sys::Sys& sys,
                                                  BorrowedFd fd,
                                                  PendingResume& pending,
                                                  absl::Duration timeout,
                                                  const ErrorContext& ctx);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_IN_FLIGHT_H_
