// soccr/internal/pending_resume.h: the second half of a restore, which a
// restored socket runs when it leaves repair mode.
//
// A restore (restore.cc, RestoreOnto) does everything repair mode can do
// and records the rest here; the socket's resume runs it:
//
//   // repair mode is off
//   SOCCR_RETURN_IF_ERROR(pending.Finish(sys, fd, ctx));
//
// The parts: connect() for SYN_SENT (which sends the SYN), listen() for
// LISTEN, the data the original had not sent (a normal send now, so that
// it leaves under the restored window), the state steps that must follow
// it (our FIN), and the socket options and buffer sizes that come last.

#ifndef SOCCR_INTERNAL_PENDING_RESUME_H_
#define SOCCR_INTERNAL_PENDING_RESUME_H_

#include <stdint.h>

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "soccr/address.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/in_flight.h"
#include "soccr/internal/state_step_runner.h"
#include "soccr/queue_bytes.h"
#include "soccr/restore_plan.h"
#include "soccr/socket_options.h"
#include "soccr/sys/sys.h"
#include "soccr/tcp_state.h"

namespace soccr::internal {

// Each part is cleared (or counted done) once it has been done, so that a
// resume that failed half-way continues where it stopped when retried.
struct PendingResume {
  // Does what is left, in order, on `fd` (out of repair mode by now),
  // never blocking: a send that makes no progress is ResourceExhausted.
  // Errors name the step and the call; what is still to do stays here.
  [[nodiscard]] absl::Status Finish(const sys::Sys& sys, BorrowedFd fd,
                                    const ErrorContext& ctx);
  // Once: which buffer sizes the caller changed since the restore.
  [[nodiscard]] absl::Status ReadCallersBuffers(const sys::Sys& sys,
                                                BorrowedFd fd, bool queueing,
                                                const ErrorContext& ctx);

  // The state the socket is in once resumed; a checkpoint taken before the
  // resume reports it.
  TcpState state = TcpState::kEstablished;

  // SYN_SENT: connect() to `peer` without blocking, which sends the SYN
  // with `syn_seq` as its sequence number.
  bool connect = false;
  SocketAddress peer;
  uint32_t syn_seq = 0;
  // The file flags to put back once connect() has been called without
  // blocking.
  std::optional<int> file_flags;
  // LISTEN: listen() with this backlog.
  std::optional<int> listen_backlog;

  // Data and our FIN in flight when checkpointed, held until the resume
  // knows what the peer has (SettleInFlight, in repair mode).
  HeldInFlight in_flight;
  // Of that data, what the peer lacks: sent like `unsent`, before it.
  QueueBytes requeue;
  // Data the original had not sent yet: written once repair mode is off, so
  // that it leaves under the restored window and options.
  QueueBytes unsent;
  // State steps that must follow the unsent data (our FIN, and for CLOSING
  // the peer's FIN after it); `steps_done` of them are done.
  std::vector<StateStep> steps;
  size_t steps_done = 0;
  PeerSegmentParams segment_params;

  // SO_REUSEADDR as the original had it. Repair mode overrides the
  // setting and leaving repair mode clears it, so it is set again then.
  int reuse_addr = 0;
  // Applied after `unsent` is queued (TCP_NOTSENT_LOWAT would hold it back).
  std::vector<SocketOption> after_resume;
  // The checkpointed buffer sizes, if known.
  std::optional<SocketBuffers> final_buffers;
  // The buffers as the restore sized them for the queues.
  struct RestoredBuffers {
    // Whether it raised the send/receive buffer (and so locked it).
    bool sndbuf_raised = false;
    bool rcvbuf_raised = false;
    // The sizes (getsockopt's) it left them at, where it sized them. A
    // different size at the resume was set by the caller in between.
    std::optional<int> sndbuf_left;
    std::optional<int> rcvbuf_left;
    // The send buffer the send queue needs once `requeue` and `unsent` are
    // in.
    uint64_t queued_sndbuf = 0;
  } restored;
  // What the caller did to the buffers between the restore and the resume
  // (CRIU sets the sizes it saved there), read once (`read`) and kept, with
  // the caller's locks.
  struct CallersBuffers {
    bool read = false;
    // The send buffer's size, if the caller set it; whether it set the
    // receive buffer's.
    std::optional<int> sndbuf;
    bool rcvbuf = false;
    // SO_BUF_LOCK as the caller left it (its bits count for the buffers it
    // sized).
    int locks = 0;
    // Whether a smaller `sndbuf` was raised to `queued_sndbuf` for the
    // queued data (and is to be given back).
    bool sndbuf_regrown = false;
  } callers;
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PENDING_RESUME_H_
