// soccr/internal/state_step_runner.h: runs a restore plan's state steps on a
// socket: shutdown(SHUT_WR) for our FIN, and segments injected from a raw
// socket for what the peer sent (its FIN, its ACK of our FIN, a reset).
//
//   PeerSegmentParams params = PeerSegmentParamsFor(plan);
//   size_t done = 0;
//   absl::Status s = RunStateSteps(sys, fd, plan.repair_steps, params,
//                                  /*in_repair=*/true, ctx, &done);
//
// An injected segment is sent from a raw socket marked kInjectedPacketMark
// (SO_MARK, so that a caller's packet filter can let it through) to the
// restored socket's own address, and the runner waits, briefly and within a
// bound, until the socket has processed it. Needs CAP_NET_RAW and
// CAP_NET_ADMIN (for the mark) in the socket's network namespace.

#ifndef SOCCR_INTERNAL_STATE_STEP_RUNNER_H_
#define SOCCR_INTERNAL_STATE_STEP_RUNNER_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/tcp_segment.h"
#include "soccr/restore_plan.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// What injected segments carry besides their step's numbers.
struct PeerSegmentParams {
  SocketAddress local;  // the restored socket: the destination
  SocketAddress peer;   // the source
  uint16_t window = 0;  // RestorePlan::peer_window
  // Set when the connection uses timestamps: the TSecr of segments
  // injected in repair mode (our clock as restored). Their TSval is 0:
  // the peer's clock is not saved, and the restored socket has seen no
  // timestamp yet, so 0 passes its PAWS check and keeps it open for the
  // peer's real clock (any other guess could make the kernel drop the
  // peer's later segments as old). Segments injected after resume, once the
  // peer's real clock is known to the socket, carry no timestamp option,
  // which Linux accepts.
  std::optional<uint32_t> tsecr;
};

PeerSegmentParams PeerSegmentParamsFor(const RestorePlan& plan);

// Sends `segment` from a raw socket marked kInjectedPacketMark. `step`
// names it in errors (which say when CAP_NET_RAW is missing).
[[nodiscard]] absl::Status SendSegment(const sys::Sys& sys,
                                       const TcpSegment& segment,
                                       absl::string_view step,
                                       const ErrorContext& ctx);

// Runs `steps` in order on `fd`, in repair mode or not as `in_repair` says.
// `*done` counts the steps completed, also on error, so that a retry can
// continue with steps.subspan(*done). Errors name the step and the call;
// Unavailable if an injected segment was not processed in time (a packet
// filter dropping it, or the restored address not being local).
[[nodiscard]] absl::Status RunStateSteps(const sys::Sys& sys, BorrowedFd fd,
                                         absl::Span<const StateStep> steps,
                                         const PeerSegmentParams& params,
                                         bool in_repair,
                                         const ErrorContext& ctx, size_t* done);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_STATE_STEP_RUNNER_H_
